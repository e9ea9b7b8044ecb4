// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers of ADD_ADDR/REMOVE_ADDR (see rust/addr.rs): routing and socket
 * calls for joins to addresses the peer announced. The protocol decisions
 * are made in Rust.
 */

#include <linux/in.h>
#include <linux/in6.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/net.h>
#include <net/inet_connection_sock.h>
#include <net/inet_sock.h>
#include <net/tcp.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/route.h>
#include <net/sock.h>
#include "mptcp_rs_addr.h"
#include "mptcp_rs_pm.h"

int mptcp_rs_addr_route_src(const struct sock *meta, const struct mptcp_rs_pm_endpoint *dst,
			    struct mptcp_rs_pm_endpoint *src)
{
	struct net *net = sock_net(meta);

	memset(src->addr, 0, sizeof(src->addr));
	src->family = dst->family;
	if (dst->family == AF_INET) {
		struct flowi4 fl4 = {};
		struct rtable *rt;

		memcpy(&fl4.daddr, dst->addr, 4);
		fl4.flowi4_proto = IPPROTO_TCP;
		rt = ip_route_output_key(net, &fl4);
		if (IS_ERR(rt))
			return PTR_ERR(rt);
		memcpy(src->addr, &fl4.saddr, 4);
		ip_rt_put(rt);
		return fl4.saddr ? 0 : -EADDRNOTAVAIL;
	}
#if IS_ENABLED(CONFIG_IPV6)
	if (dst->family == AF_INET6) {
		struct dst_entry *d = NULL;
		struct flowi6 fl6 = {};
		int err;

		memcpy(&fl6.daddr, dst->addr, 16);
		fl6.flowi6_proto = IPPROTO_TCP;
		err = ip6_dst_lookup(net, NULL, &d, &fl6);
		if (err)
			return err;
		dst_release(d);
		memcpy(src->addr, &fl6.saddr, 16);
		return ipv6_addr_any(&fl6.saddr) ? -EADDRNOTAVAIL : 0;
	}
#endif
	return -EAFNOSUPPORT;
}

int mptcp_rs_addr_connect(struct socket *sf, const struct sock *meta,
			  const struct mptcp_rs_pm_endpoint *dst)
{
	__be16 port = dst->port ? htons(dst->port) : meta->sk_dport;
	struct sockaddr_storage addr = {};
	int len, err;

	if (dst->family == AF_INET && sf->sk->sk_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&addr;

		in->sin_family = AF_INET;
		in->sin_port = port;
		memcpy(&in->sin_addr, dst->addr, 4);
		len = sizeof(*in);
#if IS_ENABLED(CONFIG_IPV6)
	} else if (dst->family == AF_INET6 && sf->sk->sk_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&addr;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = port;
		memcpy(&in6->sin6_addr, dst->addr, 16);
		len = sizeof(*in6);
#endif
	} else {
		return -EAFNOSUPPORT;
	}
	err = kernel_connect(sf, (struct sockaddr_unsized *)&addr, len, O_NONBLOCK);
	return err == -EINPROGRESS ? 0 : err;
}

/* Whether @sk's remote (or, with @local, local) address is @ep's. */
static bool mptcp_rs_addr_eq(const struct sock *sk, const struct mptcp_rs_pm_endpoint *ep,
			     bool local)
{
	if (ep->family == AF_INET) {
		__be32 a;

		memcpy(&a, ep->addr, 4);
#if IS_ENABLED(CONFIG_IPV6)
		if (sk->sk_family == AF_INET6) {
			const struct in6_addr *in6 = local ? &sk->sk_v6_rcv_saddr : &sk->sk_v6_daddr;

			return ipv6_addr_v4mapped(in6) && in6->s6_addr32[3] == a;
		}
#endif
		return (local ? sk->sk_rcv_saddr : sk->sk_daddr) == a;
	}
#if IS_ENABLED(CONFIG_IPV6)
	if (ep->family == AF_INET6 && sk->sk_family == AF_INET6)
		return !memcmp(ep->addr, local ? &sk->sk_v6_rcv_saddr : &sk->sk_v6_daddr,
			       sizeof(struct in6_addr));
#endif
	return false;
}

bool mptcp_rs_addr_is_remote(const struct sock *meta, const struct mptcp_rs_pm_endpoint *ep)
{
	return mptcp_rs_addr_eq(meta, ep, false);
}

bool mptcp_rs_addr_ssk_daddr_is(const struct sock *ssk, const struct mptcp_rs_pm_endpoint *ep)
{
	return mptcp_rs_addr_eq(ssk, ep, false);
}

bool mptcp_rs_addr_ssk_saddr_is(const struct sock *ssk, const struct mptcp_rs_pm_endpoint *ep)
{
	return mptcp_rs_addr_eq(ssk, ep, true);
}

void mptcp_rs_addr_ssk_local(const struct sock *ssk, struct mptcp_rs_pm_endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
#if IS_ENABLED(CONFIG_IPV6)
	if (ssk->sk_family == AF_INET6 && !ipv6_addr_v4mapped(&ssk->sk_v6_rcv_saddr)) {
		memcpy(ep->addr, &ssk->sk_v6_rcv_saddr, sizeof(struct in6_addr));
		ep->family = AF_INET6;
		return;
	}
	if (ssk->sk_family == AF_INET6) {
		memcpy(ep->addr, &ssk->sk_v6_rcv_saddr.s6_addr32[3], 4);
		ep->family = AF_INET;
		return;
	}
#endif
	memcpy(ep->addr, &ssk->sk_rcv_saddr, 4);
	ep->family = AF_INET;
}

bool mptcp_rs_addr_ssk_is(const struct sock *ssk, const struct mptcp_rs_pm_endpoint *local,
			  const struct mptcp_rs_pm_endpoint *remote)
{
	const struct inet_sock *inet = inet_sk(ssk);

	if (!mptcp_rs_addr_eq(ssk, local, true) || !mptcp_rs_addr_eq(ssk, remote, false))
		return false;
	if (local->port && ntohs(inet->inet_sport) != local->port)
		return false;
	return !remote->port || ntohs(inet->inet_dport) == remote->port;
}

u16 mptcp_rs_addr_sk_sport(const struct sock *sk)
{
	return ntohs(inet_sk(sk)->inet_sport);
}

/* Lock classes of the path manager's listening sockets (IPv4, IPv6). */
static struct lock_class_key mptcp_rs_msk_key[2], mptcp_rs_msk_slock_key[2];

int mptcp_rs_addr_listen(struct net *net, const struct mptcp_rs_pm_endpoint *ep,
			 struct socket **res)
{
	struct sockaddr_storage addr = {};
	struct socket *sock;
	int len, err;

	if (ep->family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&addr;

		in->sin_family = AF_INET;
		in->sin_port = htons(ep->port);
		memcpy(&in->sin_addr, ep->addr, 4);
		len = sizeof(*in);
#if IS_ENABLED(CONFIG_IPV6)
	} else if (ep->family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&addr;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(ep->port);
		memcpy(&in6->sin6_addr, ep->addr, 16);
		len = sizeof(*in6);
#endif
	} else {
		return -EAFNOSUPPORT;
	}
	err = sock_create_kern(net, ep->family, SOCK_STREAM, IPPROTO_MPTCP, &sock);
	if (err)
		return err;
	/*
	 * A kernel MPTCP socket: its lock would be in the same lockdep class as its
	 * subflows' (kernel TCP sockets), which are locked inside it. An MPTCP class
	 * of its own, as upstream gives the path manager's listening sockets.
	 */
	if (ep->family == AF_INET6)
		sock_lock_init_class_and_name(sock->sk, "msk_slock-AF_INET6",
					      &mptcp_rs_msk_slock_key[1], "msk_lock-AF_INET6",
					      &mptcp_rs_msk_key[1]);
	else
		sock_lock_init_class_and_name(sock->sk, "msk_slock-AF_INET",
					      &mptcp_rs_msk_slock_key[0], "msk_lock-AF_INET",
					      &mptcp_rs_msk_key[0]);
	err = kernel_bind(sock, (struct sockaddr_unsized *)&addr, len);
	if (!err)
		err = kernel_listen(sock, SOMAXCONN);
	if (err) {
		sock_release(sock);
		return err;
	}
	*res = sock;
	return 0;
}

void mptcp_rs_addr_listen_release(struct socket *sock)
{
	sock_release(sock);
}

void mptcp_rs_addr_listen_refs(struct socket *sock, const struct sock *first, bool take)
{
	const struct tcp_ulp_ops *ulp = first ? inet_csk(first)->icsk_ulp_ops : NULL;
	int n = (sock->ops->owner == THIS_MODULE) +
		(sock->sk->sk_prot_creator->owner == THIS_MODULE) +
		(ulp && ulp->owner == THIS_MODULE);

#if IS_ENABLED(CONFIG_PROVE_LOCKING) && IS_ENABLED(CONFIG_MODULES)
	/* sock_lock_init_class_and_name() above made us the lock class's owner */
	n += sock->sk->sk_owner == THIS_MODULE;
#endif

	while (n--) {
		if (take)
			__module_get(THIS_MODULE);
		else
			module_put(THIS_MODULE);
	}
}

unsigned int mptcp_rs_addr_jiffies_to_msecs(unsigned long j)
{
	return jiffies_to_msecs(j);
}
