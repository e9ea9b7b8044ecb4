/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C helpers of the active side of MP_JOIN (rust/join_active.rs, rust/join_shim.c):
 * opening a subflow from a path manager endpoint, the work item that does it in
 * process context, and the timer that retransmits the third ACK.
 */
#ifndef MPTCP_RS_JOIN_H
#define MPTCP_RS_JOIN_H

#include <linux/types.h>
#include <linux/timer.h>
#include <linux/workqueue.h>

struct sock;
struct socket;
struct mptcp_rs_pm_endpoint;

/*
 * The module's workqueue for path manager work, and the Rust functions it and
 * the third-ACK timer call; set up at module load, drained and destroyed at
 * unload (after the last socket went).
 */
int mptcp_rs_join_init(void (*work_fn)(struct sock *meta),
		       bool (*timer_fn)(struct sock *ssk, bool last));
void mptcp_rs_join_exit(void);

/*
 * Per connection: opens the subflows of its endpoints, with the meta socket
 * owned, now or after a delay (retries after a path came back).
 */
struct mptcp_rs_join_work {
	struct delayed_work work;
	struct sock *meta;
	void (*fn)(struct sock *meta);
};

/* @fn runs the work (NULL: the join work given to mptcp_rs_join_init()). */
void mptcp_rs_join_work_init(struct mptcp_rs_join_work *w, struct sock *meta,
			     void (*fn)(struct sock *meta));
void mptcp_rs_join_work_schedule(struct mptcp_rs_join_work *w, unsigned int delay_ms);
void mptcp_rs_join_work_kick(struct mptcp_rs_join_work *w);
void mptcp_rs_join_work_cancel(struct mptcp_rs_join_work *w);

/* Per active join subflow: retransmits the third ACK until the fourth arrives. */
struct mptcp_rs_ajoin_timer {
	struct timer_list timer;
	struct sock *ssk;
	unsigned long timeout;
	u8 retries;
};

void mptcp_rs_ajoin_timer_init(struct mptcp_rs_ajoin_timer *t, struct sock *ssk);
void mptcp_rs_ajoin_timer_start(struct mptcp_rs_ajoin_timer *t);
void mptcp_rs_ajoin_timer_stop(struct mptcp_rs_ajoin_timer *t);

/* The connection's addresses, as a subflow to open sees them. */
bool mptcp_rs_join_conn_is_v4(const struct sock *meta);
bool mptcp_rs_join_ep_is_local(const struct sock *meta, const struct mptcp_rs_pm_endpoint *ep);

/* Steps of opening a subflow (process context, the meta socket owned). */
int mptcp_rs_join_bind(struct socket *sf, const struct mptcp_rs_pm_endpoint *ep);
int mptcp_rs_join_connect(struct socket *sf, const struct sock *meta);
struct sock *mptcp_rs_join_detach(struct socket *sf);

#endif /* MPTCP_RS_JOIN_H */
