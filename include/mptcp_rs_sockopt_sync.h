/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Socket options of an MPTCP socket carried to every subflow
 * (rust/sockopt_sync.rs, rust/sockopt_sync_shim.c).
 *
 * SOL_SOCKET options live on the meta socket itself. TCP- and IP-level options
 * go to the first subflow (TCP validates them there); what they left on it is
 * recorded in the meta socket, so that joined subflows, those that exist and
 * those created later, take the same values.
 */
#ifndef MPTCP_RS_SOCKOPT_SYNC_H
#define MPTCP_RS_SOCKOPT_SYNC_H

#include <linux/types.h>

struct sock;

/*
 * The TCP- and IP-level options the application set, as the first subflow took
 * them. Written with the meta socket owned, read (word by word) also from
 * softirq when a peer's join creates a subflow.
 */
struct mptcp_rs_sockopts {
	bool recorded;		/* an option was set: the fields below apply */
	u8 nonagle;		/* TCP_NAGLE_OFF | TCP_NAGLE_CORK of tcp_sock.nonagle */
	u8 keepalive_probes;	/* TCP_KEEPCNT */
	u8 tos;			/* IP_TOS (inet_sock.tos) */
	int uc_ttl;		/* IP_TTL, -1 for the default */
	int tclass;		/* IPV6_TCLASS, IPv6 sockets */
	u32 keepalive_time;	/* TCP_KEEPIDLE, jiffies */
	u32 keepalive_intvl;	/* TCP_KEEPINTVL, jiffies */
	u32 user_timeout;	/* TCP_USER_TIMEOUT, ms */
	u32 priority;		/* SO_PRIORITY, or what IP_TOS made of it */
};

/* The record of meta socket @meta (rust/net_shim.c). */
struct mptcp_rs_sockopts *mptcp_rs_meta_sockopts(struct sock *meta);
/* Whether setsockopt(@level, @name) on an MPTCP socket applies to every subflow. */
bool mptcp_rs_sockopt_is_synced(int level, int name);
/*
 * After a successful setsockopt that reached the first subflow @first of @meta
 * (owned): what @first now holds is what the other subflows take.
 */
void mptcp_rs_sockopt_record(struct sock *meta, struct sock *first);
/* A new subflow @ssk of @meta, owned by the caller, before it carries data. */
void mptcp_rs_sockopt_sync_new(struct sock *meta, struct sock *ssk);
/* A live subflow @ssk of @meta (owned), process context, @ssk not locked. */
void mptcp_rs_sockopt_sync_live(struct sock *meta, struct sock *ssk);

#endif /* MPTCP_RS_SOCKOPT_SYNC_H */
