/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The meta socket's send side (rust/sendq.rs): data chunks in pages, pushed
 * into subflows by reference (MSG_SPLICE_PAGES), the scheduler's view of a
 * subflow, and the meta socket's work item (reinjection, deferred pushes).
 */
#ifndef MPTCP_RS_SEND_H
#define MPTCP_RS_SEND_H

#include <linux/types.h>
#include <linux/workqueue.h>

struct sock;
struct page;
struct msghdr;
struct sk_buff;
struct sk_buff_head;

/* A page (compound when possible) for meta-level data; *size receives its size. */
struct page *mptcp_rs_chunk_alloc(u32 *size);
void mptcp_rs_chunk_put(struct page *page);
bool mptcp_rs_meta_wmem_charge(struct sock *sk, u32 size);
void mptcp_rs_meta_wmem_uncharge(struct sock *sk, u32 size);
int mptcp_rs_wait_memory(struct sock *sk, long *timeo, const u32 *gen, u32 seen);
/* Copies up to @len bytes from @msg's iterator into @page at @off; bytes copied. */
size_t mptcp_rs_chunk_fill(struct page *page, u32 off, struct msghdr *msg, size_t len);
/*
 * Where mptcp_rs_sf_copy_held() goes on: the skb it stopped in (NULL: the start of
 * the subflow's retransmission queue) and the queue that skb is on.
 */
struct mptcp_rs_held_cursor {
	struct sk_buff *skb;
	bool in_write_queue;
};
/*
 * Copies to @page at @off the @len bytes subflow @ssk holds from sequence @seq on,
 * sent or not (its retransmission queue, then its write queue; or, when @rescued
 * is not NULL, the clones of them a reset left), looking from
 * @cursor on (zeroed for the first call; successive calls ask for successive
 * bytes, the subflow locked by the caller throughout). Bytes copied: fewer when
 * its queues do not hold them all.
 */
u32 mptcp_rs_sf_copy_held(struct sock *ssk, struct sk_buff_head *rescued,
			  struct mptcp_rs_held_cursor *cursor, u32 seq, struct page *page,
			  u32 off, u32 len);
/*
 * For a reset arriving on subflow @ssk (locked), before TCP purges its queues:
 * clones of the skbs it holds, sharing their data, for mptcp_rs_sf_copy_held()'s
 * @rescued; NULL when it holds none or memory refused (GFP_ATOMIC).
 */
struct sk_buff_head *mptcp_rs_sf_rescue_held(struct sock *ssk);
/* Frees what mptcp_rs_sf_rescue_held() returned (NULL: nothing). */
void mptcp_rs_sf_rescue_free(struct sk_buff_head *list);
/* Whether @skb, being received, is a reset (its TCP header in place). */
bool mptcp_rs_skb_is_rst(const struct sk_buff *skb);
/*
 * Queues @len bytes of @page from @off on subflow @ssk (locked by the caller)
 * without copying; @new_extent ends the subflow's last unsent skb first so that
 * the bytes start a new one. Never sleeps. Bytes queued or a negative errno.
 */
int mptcp_rs_push_chunk(struct sock *ssk, struct page *page, u32 off, u32 len, bool new_extent);
/* Queues a one-byte window probe on @ssk (locked); its mapping is the caller's. */
int mptcp_rs_push_probe(struct sock *ssk);

/* What the scheduler reads of a subflow (locklessly). */
struct mptcp_rs_sf_view {
	u32 srtt_us;
	u32 min_rtt_us;
	u32 cwnd;
	u32 mss;
	u32 queued;
	u32 space;
	u32 buf_space;
	u32 notsent;
	int state;
	bool loss;
	bool writeable;
	bool timed_out;
};

void mptcp_rs_sf_view(const struct sock *ssk, u32 notsent_min, struct mptcp_rs_sf_view *v);
bool mptcp_rs_sf_suspect(const struct sock *ssk);
bool mptcp_rs_sf_timed_out(const struct sock *ssk);
bool mptcp_rs_sf_holds_stale_data(const struct sock *ssk);

/* mptcp_rs_sf_tx_state() bits */
#define MPTCP_RS_SF_SUSPECT	1U
#define MPTCP_RS_SF_TIMED_OUT	2U
u32 mptcp_rs_sf_tx_state(const struct sock *ssk);
void mptcp_rs_sf_limit_notsent(struct sock *ssk, u32 bytes);
bool mptcp_rs_sf_wnd_blocked(const struct sock *ssk);
u32 mptcp_rs_tcp_snd_nxt(const struct sock *ssk);
/* Gives a subflow waiting on its window the connection's (see send_shim.c). */
bool mptcp_rs_sf_share_wnd(struct sock *ssk, u32 end);
u32 mptcp_rs_tcp_snd_una(const struct sock *ssk);
u32 mptcp_rs_tcp_snd_wnd(const struct sock *ssk);
/* Gives a subflow without a struct socket the meta socket's (as upstream grafts
 * joined subflows): TCP's send path needs one to wait on and flag. */
int mptcp_rs_graft_subflow(struct sock *ssk);

/*
 * Waits, with @sk's lock released, until *@gen differs from @seen, an error or
 * a send shutdown, a signal or *@timeo runs out. 0, -EAGAIN or -EINTR/-ERESTARTSYS.
 */
int mptcp_rs_wait_gen(struct sock *sk, long *timeo, const u32 *gen, u32 seen);

/* The window of @skb (received on @ssk), scaled. */
u32 mptcp_rs_skb_rcv_wnd(const struct sock *ssk, const struct sk_buff *skb);

int mptcp_rs_sk_rcvbuf(const struct sock *sk);
u64 mptcp_rs_jiffies_ms(void);

/* Hands @n bytes back to @msg's iterator (they were not sent). */
void mptcp_rs_msg_revert(struct msghdr *msg, size_t n);

/* The meta socket's work item: runs @fn with the meta socket owned. */
struct mptcp_rs_meta_work {
	struct work_struct work;
	struct sock *sk;
	/* runs with the socket owned; true: an orphaned connection is over */
	bool (*fn)(struct sock *sk);
	/* then runs, socket not owned, to release it */
	void (*done)(struct sock *sk);
	/* MPTCP-level retransmission timer: runs the work with rtx_fired set */
	struct timer_list rtx;
	unsigned long rtx_fired;
};

void mptcp_rs_meta_work_init(struct mptcp_rs_meta_work *w, struct sock *sk,
			     bool (*fn)(struct sock *sk), void (*done)(struct sock *sk));
/* Schedules the work (a reference on the socket while queued); false if queued. */
bool mptcp_rs_meta_work_schedule(struct mptcp_rs_meta_work *w);
/* (Re)arms the retransmission timer to fire in @ms (a reference while armed). */
void mptcp_rs_meta_rtx_arm(struct mptcp_rs_meta_work *w, u32 ms);
/* Makes it fire within @ms: armed if idle, brought forward if due later. */
void mptcp_rs_meta_rtx_arm_within(struct mptcp_rs_meta_work *w, u32 ms);
bool mptcp_rs_meta_rtx_pending(const struct mptcp_rs_meta_work *w);
/* Whether the timer fired since the last call. */
bool mptcp_rs_meta_rtx_take(struct mptcp_rs_meta_work *w);
/* Stops the timer (its reference dropped) and forgets that it fired. */
void mptcp_rs_meta_rtx_stop(struct mptcp_rs_meta_work *w);

#endif /* MPTCP_RS_SEND_H */
