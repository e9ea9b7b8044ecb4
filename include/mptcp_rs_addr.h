/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C helpers of ADD_ADDR/REMOVE_ADDR (rust/addr.rs, rust/addr_shim.c): the
 * route lookup that picks the source of a join to an announced address, the
 * connect to that address, and address comparisons with the connection's own.
 */
#ifndef MPTCP_RS_ADDR_H
#define MPTCP_RS_ADDR_H

#include <linux/types.h>

struct net;
struct sock;
struct socket;
struct mptcp_rs_pm_endpoint;

/*
 * The source address routing picks to reach @dst (family and address) in the
 * connection's namespace, into @src (family, address); 0 or -errno. Process
 * context.
 */
int mptcp_rs_addr_route_src(const struct sock *meta, const struct mptcp_rs_pm_endpoint *dst,
			    struct mptcp_rs_pm_endpoint *src);

/*
 * Connects subflow @sf to @dst's address and port (the connection's remote port
 * if @dst has none), without waiting.
 */
int mptcp_rs_addr_connect(struct socket *sf, const struct sock *meta,
			  const struct mptcp_rs_pm_endpoint *dst);

/* Whether @ep (family, address) is the connection's remote address. */
bool mptcp_rs_addr_is_remote(const struct sock *meta, const struct mptcp_rs_pm_endpoint *ep);

/* Whether subflow @ssk's remote address is @ep's (family, address). */
bool mptcp_rs_addr_ssk_daddr_is(const struct sock *ssk, const struct mptcp_rs_pm_endpoint *ep);

/* Whether subflow @ssk's local address is @ep's (family, address). */
bool mptcp_rs_addr_ssk_saddr_is(const struct sock *ssk, const struct mptcp_rs_pm_endpoint *ep);
/* Subflow @ssk's local address into @ep (family, address; a v4-mapped IPv6
 * address as AF_INET), the other fields zero. */
void mptcp_rs_addr_ssk_local(const struct sock *ssk, struct mptcp_rs_pm_endpoint *ep);
/* Whether subflow @ssk goes from @local to @remote (a port of 0 matches any). */
bool mptcp_rs_addr_ssk_is(const struct sock *ssk, const struct mptcp_rs_pm_endpoint *local,
			  const struct mptcp_rs_pm_endpoint *remote);
/* @sk's local port, host order. */
u16 mptcp_rs_addr_sk_sport(const struct sock *sk);

/*
 * An MPTCP listening socket on @ep's address and port in @net, for the joins to a
 * `signal` endpoint with a port (upstream's mptcp_pm_nl_create_listen_socket()).
 * A kernel socket: it does not hold @net, its owner releases it before @net goes.
 */
int mptcp_rs_addr_listen(struct net *net, const struct mptcp_rs_pm_endpoint *ep,
			 struct socket **res);
void mptcp_rs_addr_listen_release(struct socket *sock);
/*
 * Drops (@take false) or takes back the references on this module that listening
 * socket @sock holds (its proto_ops', its proto's, its lock class's, and the ULP's
 * of @first, its first subflow): the path manager owns it and closes it at the latest when the
 * module unloads, so it must not keep the module loaded.
 */
void mptcp_rs_addr_listen_refs(struct socket *sock, const struct sock *first, bool take);

unsigned int mptcp_rs_addr_jiffies_to_msecs(unsigned long j);

#endif /* MPTCP_RS_ADDR_H */
