// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers of ADD_ADDR/REMOVE_ADDR (see rust/addr.rs): routing and socket
 * calls for joins to addresses the peer announced. The protocol decisions
 * are made in Rust.
 */

#include <linux/in.h>
#include <linux/in6.h>
#include <linux/jiffies.h>
#include <linux/net.h>
#include <net/inet_sock.h>
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

unsigned int mptcp_rs_addr_jiffies_to_msecs(unsigned long j)
{
	return jiffies_to_msecs(j);
}
