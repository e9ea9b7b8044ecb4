/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Coupled congestion control (rust/cc_paths.rs, rust/cc_paths_shim.c): what
 * mptcp_rs.ko exports to the congestion control modules (mptcp_lia.ko,
 * mptcp_olia.ko) about the subflows of a connection, and the helpers that carry a
 * congestion control chosen on an MPTCP socket to every subflow.
 */
#ifndef MPTCP_RS_CC_H
#define MPTCP_RS_CC_H

#include <linux/types.h>

struct sock;
struct tcp_congestion_ops;

/*
 * The most paths (the subflow asking included) a snapshot holds. The coupled
 * algorithms ask for 8 (rust/cc.rs MAX_PATHS), of the up to 65 subflows a
 * connection may have.
 */
#define MPTCP_RS_CC_MAX_PATHS 9
/* Words of a sibling's congestion control private area copied (see below). */
#define MPTCP_RS_CC_PUBLISHED 2

/*
 * A snapshot of one subflow of a connection, as a congestion control sees it.
 * @cwnd: congestion window, packets; @srtt_us: smoothed RTT, microseconds;
 * @published: the first MPTCP_RS_CC_PUBLISHED 32-bit words of the subflow's
 * congestion control private area (icsk_ca_priv), copied only when @same_ca:
 * the subflow runs the same algorithm as the caller (otherwise zero).
 */
struct mptcp_rs_cc_path {
	u32 cwnd;
	u32 srtt_us;
	u32 published[MPTCP_RS_CC_PUBLISHED];
	bool same_ca;
};

/*
 * Exported (GPL) by mptcp_rs.ko. Called by a congestion control from one of its
 * callbacks on @ssk (socket owned or its spinlock held): fills @paths with @ssk
 * itself at index 0, then each other subflow of its MPTCP connection that can
 * send (established, with an RTT sample) and is not idle (data in flight or sent
 * within its RTO), at most @max entries, and returns how many. Returns 1 (only @ssk) for a socket that is not an MPTCP subflow, a
 * connection that fell back to TCP or has a single usable subflow; 0 if @max < 1.
 *
 * The other subflows are read without their locks (word-sized READ_ONCE), under
 * RCU: a snapshot, possibly a little stale, never a dangling read.
 */
int mptcp_rs_cc_paths(struct sock *ssk, struct mptcp_rs_cc_path *paths, int max);

/* Internal to mptcp_rs.ko (rust/cc_paths.rs). */
int mptcp_rs_cc_siblings(struct sock *ssk, struct sock **socks, int max);
bool mptcp_rs_cc_can_send(const struct sock *sk);
const struct tcp_congestion_ops *mptcp_rs_cc_hold_of(struct sock *ssk);
void mptcp_rs_cc_put(const struct tcp_congestion_ops *ca);
void mptcp_rs_cc_apply_new(struct sock *ssk, const struct tcp_congestion_ops *ca);
int mptcp_rs_cc_set_on(struct sock *ssk, const struct tcp_congestion_ops *ca);

#endif /* MPTCP_RS_CC_H */
