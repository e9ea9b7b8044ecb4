// SPDX-License-Identifier: GPL-2.0
/*
 * Coupled congestion control, the C side (see rust/cc_paths.rs): the accessor
 * mptcp_rs.ko exports to mptcp_lia.ko and mptcp_olia.ko, and the helpers that
 * carry a congestion control chosen on an MPTCP socket to its subflows.
 */

#include <linux/bpf.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/sockptr.h>
#include <net/inet_connection_sock.h>
#include <net/tcp.h>

#include "mptcp_rs_cc.h"

/* A BPF struct_ops congestion control: its lifetime is not its owner module's. */
static bool cc_is_bpf(const struct tcp_congestion_ops *ca)
{
#ifdef BPF_MODULE_OWNER
	return ca->owner == BPF_MODULE_OWNER;
#else
	return false;
#endif
}

/*
 * A sibling counts in the coupled sums while it can send (established, with an
 * RTT sample) and does: data in flight, or data sent within its RTO. An idle
 * subflow (a backup while the others work, one the scheduler leaves empty) has
 * no rate to share; counted, its window would only slow the others down.
 */
bool mptcp_rs_cc_can_send(const struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	if (!((1 << inet_sk_state_load(sk)) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT)) ||
	    !READ_ONCE(tp->srtt_us))
		return false;
	return READ_ONCE(tp->packets_out) ||
	       (s32)(tcp_jiffies32 - READ_ONCE(tp->lsndtime)) <
		       (s32)READ_ONCE(inet_csk(sk)->icsk_rto);
}

/*
 * Word-sized reads only: @sk may be a sibling subflow whose lock we do not hold
 * (or, after an RCU-typesafe reuse, some other TCP socket).
 */
static void cc_snapshot(struct mptcp_rs_cc_path *p, const struct sock *sk,
			const struct tcp_congestion_ops *ca)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	const u32 *priv = inet_csk_ca(sk);
	int i;

	p->cwnd = READ_ONCE(tp->snd_cwnd);
	p->srtt_us = READ_ONCE(tp->srtt_us) >> 3;
	p->same_ca = READ_ONCE(inet_csk(sk)->icsk_ca_ops) == ca;
	for (i = 0; i < MPTCP_RS_CC_PUBLISHED; i++)
		p->published[i] = p->same_ca ? READ_ONCE(priv[i]) : 0;
}

int mptcp_rs_cc_paths(struct sock *ssk, struct mptcp_rs_cc_path *paths, int max)
{
	const struct tcp_congestion_ops *ca = inet_csk(ssk)->icsk_ca_ops;
	struct sock *socks[MPTCP_RS_CC_MAX_PATHS - 1];
	int n, i, out = 1;

	if (max < 1)
		return 0;
	cc_snapshot(&paths[0], ssk, ca);
	/*
	 * TCP sockets are SLAB_TYPESAFE_BY_RCU: a sibling found in the connection's
	 * subflow set stays a TCP socket until we leave the read-side section, even
	 * if it is closed and freed meanwhile. Its ULP context is never touched.
	 */
	rcu_read_lock();
	n = mptcp_rs_cc_siblings(ssk, socks, min_t(int, max - 1, ARRAY_SIZE(socks)));
	for (i = 0; i < n; i++) {
		if (mptcp_rs_cc_can_send(socks[i]))
			cc_snapshot(&paths[out++], socks[i], ca);
	}
	rcu_read_unlock();
	return out;
}
EXPORT_SYMBOL_GPL(mptcp_rs_cc_paths);

/*
 * The congestion control of @ssk (owned by the caller) with a reference on its
 * module, or NULL for a BPF one (not carried to other subflows).
 */
const struct tcp_congestion_ops *mptcp_rs_cc_hold_of(struct sock *ssk)
{
	const struct tcp_congestion_ops *ca = READ_ONCE(inet_csk(ssk)->icsk_ca_ops);

	if (!ca || cc_is_bpf(ca) || !try_module_get(ca->owner))
		return NULL;
	return ca;
}

void mptcp_rs_cc_put(const struct tcp_congestion_ops *ca)
{
	if (ca)
		module_put(ca->owner);
}

/*
 * A new subflow @ssk, owned by the caller, whose congestion control has not been
 * initialised yet (that happens when it becomes established, tcp_init_transfer()):
 * it takes @ca instead of the one it inherited, as tcp_ca_openreq_child() assigns
 * one. A congestion control pinned by the route, or a BPF one, stays.
 */
void mptcp_rs_cc_apply_new(struct sock *ssk, const struct tcp_congestion_ops *ca)
{
	struct inet_connection_sock *icsk = inet_csk(ssk);
	const struct tcp_congestion_ops *old = icsk->icsk_ca_ops;

	if (!ca || ca == old || icsk->icsk_ca_initialized || icsk->icsk_ca_dst_locked)
		return;
	if ((old && cc_is_bpf(old)) || !try_module_get(ca->owner))
		return;
	if (old)
		module_put(old->owner);
	icsk->icsk_ca_ops = ca;
	icsk->icsk_ca_setsockopt = 1;
	memset(icsk->icsk_ca_priv, 0, sizeof(icsk->icsk_ca_priv));
}

/*
 * TCP_CONGESTION @ca on subflow @ssk, as the application would set it (process
 * context, @ssk not locked by the caller; the caller's capabilities apply).
 */
int mptcp_rs_cc_set_on(struct sock *ssk, const struct tcp_congestion_ops *ca)
{
	char name[TCP_CA_NAME_MAX];

	strscpy(name, ca->name, sizeof(name));
	return ssk->sk_prot->setsockopt(ssk, SOL_TCP, TCP_CONGESTION, KERNEL_SOCKPTR(name),
					strlen(name));
}
