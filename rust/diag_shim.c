// SPDX-License-Identifier: GPL-2.0
/*
 * sock_diag for MPTCP sockets (`ss -M`): an inet_diag handler for IPPROTO_MPTCP
 * that dumps the connections of the token table and the listeners of the
 * requesting namespace, with struct mptcp_info as INET_DIAG_INFO (filled by
 * rust/info.rs).
 */

#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <net/netlink.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <uapi/linux/mptcp.h>

#include "mptcp_rs_net_shim.h"

static mptcp_rs_diag_fill_t mptcp_rs_diag_fill;
static mptcp_rs_diag_first_t mptcp_rs_diag_first;
static mptcp_rs_subflow_fill_t mptcp_rs_subflow_fill;

/* Where a dump that did not fit in one message goes on. */
struct mptcp_rs_diag_ctx {
	long slot;	/* token table bucket */
	long num;	/* sockets of this namespace already dumped from it */
	long lnum;	/* listeners already dumped */
};

static int mptcp_rs_diag_one(struct sock *sk, struct sk_buff *skb, struct netlink_callback *cb,
			     const struct inet_diag_req_v2 *r, bool net_admin)
{
	const struct inet_sock *inet = inet_sk(sk);

	if (!(r->idiag_states & (1 << READ_ONCE(sk->sk_state))))
		return 0;
	if (r->sdiag_family != AF_UNSPEC && sk->sk_family != r->sdiag_family)
		return 0;
	if (r->id.idiag_sport && r->id.idiag_sport != inet->inet_sport)
		return 0;
	if (r->id.idiag_dport && r->id.idiag_dport != inet->inet_dport)
		return 0;
	if (!inet_diag_bc_sk(cb->data, sk))
		return 0;
	return inet_sk_diag_fill(sk, inet_csk(sk), skb, cb, r, NLM_F_MULTI, net_admin);
}

static void mptcp_rs_diag_dump(struct sk_buff *skb, struct netlink_callback *cb,
			       const struct inet_diag_req_v2 *r)
{
	bool net_admin = netlink_net_capable(cb->skb, CAP_NET_ADMIN);
	struct mptcp_rs_diag_ctx *ctx = (void *)cb->ctx;
	struct net *net = sock_net(skb->sk);
	struct sock *sk;
	int ret;

	BUILD_BUG_ON(sizeof(cb->ctx) < sizeof(*ctx));
	while ((sk = mptcp_rs_token_next(net, &ctx->slot, &ctx->num))) {
		ret = mptcp_rs_diag_one(sk, skb, cb, r, net_admin);
		sock_put(sk);
		if (ret < 0) {
			ctx->num--;	/* the message is full: this one again next time */
			return;
		}
		cond_resched();
	}
	if (!(r->idiag_states & TCPF_LISTEN) || r->id.idiag_dport)
		return;
	while ((sk = mptcp_rs_listener_next(net, &ctx->lnum))) {
		ret = mptcp_rs_diag_one(sk, skb, cb, r, net_admin);
		sock_put(sk);
		if (ret < 0) {
			ctx->lnum--;
			return;
		}
		cond_resched();
	}
}

/* One connection, named by its token (idiag_cookie[0]). */
static int mptcp_rs_diag_dump_one(struct netlink_callback *cb, const struct inet_diag_req_v2 *req)
{
	struct sk_buff *in_skb = cb->skb;
	struct net *net = sock_net(in_skb->sk);
	struct sk_buff *rep;
	struct sock *sk;
	int err;

	sk = mptcp_rs_token_lookup(net, req->id.idiag_cookie[0]);
	if (!sk)
		return -ENOENT;
	err = -ENOMEM;
	rep = nlmsg_new(nla_total_size(sizeof(struct inet_diag_msg)) + inet_diag_msg_attrs_size() +
			nla_total_size(sizeof(struct mptcp_info)) +
			nla_total_size(sizeof(struct inet_diag_meminfo)) + 64, GFP_KERNEL);
	if (rep) {
		err = inet_sk_diag_fill(sk, inet_csk(sk), rep, cb, req, 0,
					netlink_net_capable(in_skb, CAP_NET_ADMIN));
		if (err < 0)
			kfree_skb(rep);
		else
			err = nlmsg_unicast(net->diag_nlsk, rep, NETLINK_CB(in_skb).portid);
	}
	sock_put(sk);
	return err;
}

/*
 * SOCK_DESTROY naming IPPROTO_MPTCP: the connection the request names (what a
 * dump reported of it: addresses, ports, cookie) is aborted by its
 * proto's diag_destroy (rust/sock.rs), as tcp_diag_destroy() aborts a TCP socket.
 * Only connections are looked for: a listener is -ENOENT, as a socket already
 * gone is, and ss passes over both. Built with CONFIG_INET_DIAG_DESTROY, as TCP's.
 */
#ifdef CONFIG_INET_DIAG_DESTROY
/* Whether @sk is the socket @req names: what a dump reported of it (as
 * inet_diag_msg_common_fill() fills it), interface only if named, the cookie
 * unless the request has none.
 */
static bool mptcp_rs_diag_is(struct sock *sk, const struct inet_diag_req_v2 *req)
{
	const struct inet_diag_sockid *id = &req->id;

	if (sk->sk_family != req->sdiag_family || sk->sk_num != ntohs(id->idiag_sport) ||
	    sk->sk_dport != id->idiag_dport ||
	    (id->idiag_if && id->idiag_if != sk->sk_bound_dev_if) ||
	    sock_diag_check_cookie(sk, id->idiag_cookie))
		return false;
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6)
		return !memcmp(&sk->sk_v6_rcv_saddr, id->idiag_src, sizeof(sk->sk_v6_rcv_saddr)) &&
		       !memcmp(&sk->sk_v6_daddr, id->idiag_dst, sizeof(sk->sk_v6_daddr));
#endif
	return sk->sk_rcv_saddr == id->idiag_src[0] && sk->sk_daddr == id->idiag_dst[0];
}

static int mptcp_rs_diag_destroy(struct sk_buff *in_skb, const struct inet_diag_req_v2 *req)
{
	struct net *net = sock_net(in_skb->sk);
	long slot = 0, num = 0;
	struct sock *sk;
	int err;

	while ((sk = mptcp_rs_token_next(net, &slot, &num))) {
		if (mptcp_rs_diag_is(sk, req))
			break;
		sock_put(sk);
	}
	if (!sk)
		return -ENOENT;
	err = sock_diag_destroy(sk, ECONNABORTED);
	sock_put(sk);
	return err;
}
#endif

static void mptcp_rs_diag_get_info(struct sock *sk, struct inet_diag_msg *r, void *info)
{
	r->idiag_rqueue = sk_rmem_alloc_get(sk);
	r->idiag_wqueue = sk_wmem_alloc_get(sk);
	if (inet_sk_state_load(sk) == TCP_LISTEN) {
		struct sock *lsk = mptcp_rs_diag_first(sk);

		/* as TCP: a listener's queues are its accept backlog and its limit */
		if (lsk) {
			r->idiag_rqueue = READ_ONCE(lsk->sk_ack_backlog);
			r->idiag_wqueue = READ_ONCE(lsk->sk_max_ack_backlog);
		}
	}
	if (info)
		mptcp_rs_diag_fill(sk, info);
}

static struct inet_diag_handler mptcp_rs_diag_handler = {
	.dump		 = mptcp_rs_diag_dump,
	.dump_one	 = mptcp_rs_diag_dump_one,
#ifdef CONFIG_INET_DIAG_DESTROY
	.destroy	 = mptcp_rs_diag_destroy,
#endif
	.idiag_get_info	 = mptcp_rs_diag_get_info,
	.idiag_type	 = IPPROTO_MPTCP,
	.idiag_info_size = sizeof(struct mptcp_info),
};

/*
 * A subflow's INET_ULP_INFO_MPTCP (`ss -ti` shows "tcp-ulp-mptcp flags... token...
 * seq... sfseq... ssnoff... maplen..."), as upstream's subflow_get_info(): the
 * sequence numbers only for CAP_NET_ADMIN.
 */
int mptcp_rs_subflow_get_info(struct sock *sk, struct sk_buff *skb, bool net_admin)
{
	struct mptcp_rs_subflow_info sf = {};
	struct nlattr *start;
	bool slow;

	if (inet_sk_state_load(sk) == TCP_LISTEN || !mptcp_rs_subflow_fill)
		return 0;
	start = nla_nest_start_noflag(skb, INET_ULP_INFO_MPTCP);
	if (!start)
		return -EMSGSIZE;
	slow = lock_sock_fast(sk);
	mptcp_rs_subflow_fill(sk, &sf);
	unlock_sock_fast(sk, slow);
	if (!sf.valid) {
		nla_nest_cancel(skb, start);
		return 0;
	}
	if (nla_put_u32(skb, MPTCP_SUBFLOW_ATTR_TOKEN_REM, sf.token_rem) ||
	    nla_put_u32(skb, MPTCP_SUBFLOW_ATTR_TOKEN_LOC, sf.token_loc) ||
	    nla_put_u32(skb, MPTCP_SUBFLOW_ATTR_FLAGS, sf.flags) ||
	    nla_put_u8(skb, MPTCP_SUBFLOW_ATTR_ID_REM, sf.id_rem) ||
	    nla_put_u8(skb, MPTCP_SUBFLOW_ATTR_ID_LOC, sf.id_loc))
		goto too_big;
	if (net_admin &&
	    (nla_put_u32(skb, MPTCP_SUBFLOW_ATTR_RELWRITE_SEQ, sf.rel_write_seq) ||
	     nla_put_u64_64bit(skb, MPTCP_SUBFLOW_ATTR_MAP_SEQ, sf.map_seq,
			       MPTCP_SUBFLOW_ATTR_PAD) ||
	     nla_put_u32(skb, MPTCP_SUBFLOW_ATTR_MAP_SFSEQ, sf.map_sfseq) ||
	     nla_put_u32(skb, MPTCP_SUBFLOW_ATTR_SSN_OFFSET, sf.ssn_offset) ||
	     nla_put_u16(skb, MPTCP_SUBFLOW_ATTR_MAP_DATALEN, sf.map_datalen)))
		goto too_big;
	nla_nest_end(skb, start);
	return 0;
too_big:
	nla_nest_cancel(skb, start);
	return -EMSGSIZE;
}

size_t mptcp_rs_subflow_get_info_size(const struct sock *sk, bool net_admin)
{
	size_t size = nla_total_size(0) +	/* INET_ULP_INFO_MPTCP */
		nla_total_size(4) +		/* TOKEN_REM */
		nla_total_size(4) +		/* TOKEN_LOC */
		nla_total_size(4) +		/* FLAGS */
		nla_total_size(1) +		/* ID_REM */
		nla_total_size(1);		/* ID_LOC */

	if (net_admin)
		size += nla_total_size(4) +		/* RELWRITE_SEQ */
			nla_total_size_64bit(8) +	/* MAP_SEQ */
			nla_total_size(4) +		/* MAP_SFSEQ */
			nla_total_size(4) +		/* SSN_OFFSET */
			nla_total_size(2);		/* MAP_DATALEN */
	return size;
}

int mptcp_rs_diag_register(struct module *owner, mptcp_rs_diag_first_t first,
			   mptcp_rs_diag_fill_t fill, mptcp_rs_subflow_fill_t subflow_fill)
{
	mptcp_rs_diag_first = first;
	mptcp_rs_diag_fill = fill;
	mptcp_rs_subflow_fill = subflow_fill;
	mptcp_rs_diag_handler.owner = owner;
	return inet_diag_register(&mptcp_rs_diag_handler);
}

void mptcp_rs_diag_unregister(void)
{
	inet_diag_unregister(&mptcp_rs_diag_handler);
	/* subflows outlive nothing of ours: the module is going, none is left */
	mptcp_rs_subflow_fill = NULL;
}
