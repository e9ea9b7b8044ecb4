// SPDX-License-Identifier: GPL-2.0
/* C helpers of the congestion control modules: static inlines of the TCP headers. */

#include <net/inet_connection_sock.h>
#include <net/tcp.h>

#include "mptcp_rs_shim.h"

static_assert(MPTCP_RS_CA_PRIV_SIZE == ICSK_CA_PRIV_SIZE);

void *mptcp_rs_cc_priv(struct sock *sk)
{
	return inet_csk_ca(sk);
}

u32 mptcp_rs_cc_cwnd(const struct sock *sk)
{
	return tcp_snd_cwnd(tcp_sk(sk));
}

/* Sets the window, at least 2 packets and at most the socket's clamp. */
void mptcp_rs_cc_set_cwnd(struct sock *sk, u32 cwnd)
{
	struct tcp_sock *tp = tcp_sk(sk);

	tcp_snd_cwnd_set(tp, clamp(cwnd, 2U, max(tp->snd_cwnd_clamp, 2U)));
}

bool mptcp_rs_cc_cwnd_limited(const struct sock *sk)
{
	return tcp_is_cwnd_limited(sk);
}

bool mptcp_rs_cc_in_slow_start(const struct sock *sk)
{
	return tcp_in_slow_start(tcp_sk(sk));
}

/* Slow start for @acked packets; returns those left for congestion avoidance. */
u32 mptcp_rs_cc_slow_start(struct sock *sk, u32 acked)
{
	return tcp_slow_start(tcp_sk(sk), acked);
}

/* One packet more after @w acknowledged ones (snd_cwnd_cnt counts them). */
void mptcp_rs_cc_cong_avoid_ai(struct sock *sk, u32 w, u32 acked)
{
	tcp_cong_avoid_ai(tcp_sk(sk), w, acked);
}

/* Packets delivered (acknowledged, SACKed) over the connection's life. */
u32 mptcp_rs_cc_delivered(const struct sock *sk)
{
	return READ_ONCE(tcp_sk(sk)->delivered);
}
