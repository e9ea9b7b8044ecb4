// SPDX-License-Identifier: GPL-2.0
/*
 * Socket options carried to every subflow of an MPTCP socket, the C side (see
 * include/mptcp_rs_sockopt_sync.h and rust/sockopt_sync.rs).
 */

#include <linux/in.h>
#include <linux/in6.h>
#include <net/inet_ecn.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "mptcp_rs_net_shim.h"
#include "mptcp_rs_sockopt_sync.h"

#define NAGLE_BITS (TCP_NAGLE_OFF | TCP_NAGLE_CORK)

bool mptcp_rs_sockopt_is_synced(int level, int name)
{
	switch (level) {
	case SOL_SOCKET:
		/* the meta socket's own, copied whole (cheap): any of them */
		return true;
	case SOL_TCP:
		switch (name) {
		case TCP_NODELAY:
		case TCP_CORK:
		case TCP_KEEPIDLE:
		case TCP_KEEPINTVL:
		case TCP_KEEPCNT:
		case TCP_USER_TIMEOUT:
			return true;
		}
		return false;
	case SOL_IP:
		return name == IP_TOS || name == IP_TTL;
	case SOL_IPV6:
		return name == IPV6_TCLASS;
	}
	return false;
}

void mptcp_rs_sockopt_record(struct sock *meta, struct sock *first)
{
	struct mptcp_rs_sockopts *o = mptcp_rs_meta_sockopts(meta);
	const struct tcp_sock *tp = tcp_sk(first);

	WRITE_ONCE(o->nonagle, tp->nonagle & NAGLE_BITS);
	WRITE_ONCE(o->keepalive_time, READ_ONCE(tp->keepalive_time));
	WRITE_ONCE(o->keepalive_intvl, READ_ONCE(tp->keepalive_intvl));
	WRITE_ONCE(o->keepalive_probes, READ_ONCE(tp->keepalive_probes));
	WRITE_ONCE(o->user_timeout, READ_ONCE(inet_csk(first)->icsk_user_timeout));
	WRITE_ONCE(o->tos, READ_ONCE(inet_sk(first)->tos));
	WRITE_ONCE(o->uc_ttl, READ_ONCE(inet_sk(first)->uc_ttl));
	/* IP_TOS sets it as well as SO_PRIORITY */
	WRITE_ONCE(o->priority, READ_ONCE(first->sk_priority));
#if IS_ENABLED(CONFIG_IPV6)
	if (first->sk_family == AF_INET6)
		WRITE_ONCE(o->tclass, READ_ONCE(inet6_sk(first)->tclass));
#endif
	smp_store_release(&o->recorded, true);
}

/* The TCP- and IP-level options recorded in @o, into @ssk (owned by the caller). */
static void sockopt_apply_recorded(const struct mptcp_rs_sockopts *o, struct sock *ssk)
{
	struct tcp_sock *tp = tcp_sk(ssk);
	u8 tos;

	tp->nonagle = (tp->nonagle & ~NAGLE_BITS) | READ_ONCE(o->nonagle);
	WRITE_ONCE(tp->keepalive_time, READ_ONCE(o->keepalive_time));
	WRITE_ONCE(tp->keepalive_intvl, READ_ONCE(o->keepalive_intvl));
	WRITE_ONCE(tp->keepalive_probes, READ_ONCE(o->keepalive_probes));
	WRITE_ONCE(inet_csk(ssk)->icsk_user_timeout, READ_ONCE(o->user_timeout));
	WRITE_ONCE(ssk->sk_priority, READ_ONCE(o->priority));
	/* the ECN bits are TCP's own (as __ip_sock_set_tos() keeps them) */
	tos = (READ_ONCE(o->tos) & ~INET_ECN_MASK) | (inet_sk(ssk)->tos & INET_ECN_MASK);
	if (inet_sk(ssk)->tos != tos) {
		WRITE_ONCE(inet_sk(ssk)->tos, tos);
		sk_dst_reset(ssk);
	}
	WRITE_ONCE(inet_sk(ssk)->uc_ttl, READ_ONCE(o->uc_ttl));
#if IS_ENABLED(CONFIG_IPV6)
	if (ssk->sk_family == AF_INET6)
		WRITE_ONCE(inet6_sk(ssk)->tclass, READ_ONCE(o->tclass));
#endif
}

/*
 * Writes what @meta holds into @ssk (owned by the caller); true when @ssk may now
 * send what Nagle or TCP_CORK held back.
 */
static bool sockopt_apply(struct sock *meta, struct sock *ssk)
{
	const struct mptcp_rs_sockopts *o = mptcp_rs_meta_sockopts(meta);
	bool keep = sock_flag(meta, SOCK_KEEPOPEN);
	u8 lock = READ_ONCE(meta->sk_userlocks);
	u8 nonagle_was = tcp_sk(ssk)->nonagle & NAGLE_BITS;

	/* SOL_SOCKET: the meta socket's own */
	WRITE_ONCE(ssk->sk_mark, READ_ONCE(meta->sk_mark));
	WRITE_ONCE(ssk->sk_priority, READ_ONCE(meta->sk_priority));
	if (lock & SOCK_SNDBUF_LOCK) {
		WRITE_ONCE(ssk->sk_sndbuf, READ_ONCE(meta->sk_sndbuf));
		ssk->sk_userlocks |= SOCK_SNDBUF_LOCK;
	}
	if (lock & SOCK_RCVBUF_LOCK) {
		WRITE_ONCE(ssk->sk_rcvbuf, READ_ONCE(meta->sk_rcvbuf));
		ssk->sk_userlocks |= SOCK_RCVBUF_LOCK;
	}
	/* as sock_set_keepalive(): TCP's timer follows the flag once connected */
	if (keep != sock_flag(ssk, SOCK_KEEPOPEN)) {
		if (ssk->sk_prot->keepalive)
			ssk->sk_prot->keepalive(ssk, keep);
		sock_valbool_flag(ssk, SOCK_KEEPOPEN, keep);
	}
	/* SOL_TCP, SOL_IP, SOL_IPV6: as the first subflow took them */
	if (smp_load_acquire(&o->recorded))
		sockopt_apply_recorded(o, ssk);
	return nonagle_was != (tcp_sk(ssk)->nonagle & NAGLE_BITS);
}

void mptcp_rs_sockopt_sync_new(struct sock *meta, struct sock *ssk)
{
	sockopt_apply(meta, ssk);
}

void mptcp_rs_sockopt_sync_live(struct sock *meta, struct sock *ssk)
{
	bool changed;
	u8 nonagle;

	lock_sock(ssk);
	changed = sockopt_apply(meta, ssk);
	nonagle = tcp_sk(ssk)->nonagle;
	release_sock(ssk);
	if (!changed)
		return;
	/* Nagle off or the cork gone: what waited goes now (both push, as the options) */
	if (nonagle & TCP_NAGLE_OFF)
		tcp_sock_set_nodelay(ssk);
	else if (!(nonagle & TCP_NAGLE_CORK))
		tcp_sock_set_cork(ssk, false);
}
