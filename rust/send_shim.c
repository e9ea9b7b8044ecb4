// SPDX-License-Identifier: GPL-2.0
/*
 * C side of the meta socket's send path (rust/sendq.rs): page chunks, pushes
 * into subflows by page reference, the scheduler's view of a subflow and the
 * meta socket's work item.
 */

#include <linux/bvec.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/sched/signal.h>
#include <linux/uio.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "mptcp_rs_net_shim.h"
#include "mptcp_rs_send.h"

/* 32 KB chunks when memory allows: fewer chunks, fewer page references. */
#define MPTCP_RS_CHUNK_ORDER 3

struct page *mptcp_rs_chunk_alloc(u32 *size)
{
	struct page *page;

	page = alloc_pages(GFP_KERNEL | __GFP_COMP | __GFP_NOWARN | __GFP_NORETRY,
			   MPTCP_RS_CHUNK_ORDER);
	if (page) {
		*size = PAGE_SIZE << MPTCP_RS_CHUNK_ORDER;
		return page;
	}
	page = alloc_page(GFP_KERNEL);
	*size = page ? PAGE_SIZE : 0;
	return page;
}

void mptcp_rs_chunk_put(struct page *page)
{
	put_page(page);
}

/*
 * A chunk of the send queue is charged to the meta socket @sk (owned by the
 * caller) as TCP charges its write queue: sk_wmem_queued, and forward-allocated
 * protocol memory (TCP's pool, the memory cgroup). False when the protocol's
 * memory limit refuses it.
 */
bool mptcp_rs_meta_wmem_charge(struct sock *sk, u32 size)
{
	if (size > INT_MAX || !sk_wmem_schedule(sk, size))
		return false;
	sk_wmem_queued_add(sk, size);
	sk_mem_charge(sk, size);
	return true;
}

/* Returns what mptcp_rs_meta_wmem_charge() took (@sk owned, or being destroyed). */
void mptcp_rs_meta_wmem_uncharge(struct sock *sk, u32 size)
{
	sk_wmem_queued_add(sk, -(int)size);
	sk_mem_uncharge(sk, size);
}

size_t mptcp_rs_chunk_fill(struct page *page, u32 off, struct msghdr *msg, size_t len)
{
	return copy_from_iter(page_address(page) + off, len, &msg->msg_iter);
}

/*
 * Copies what @skb holds of [*@seq, *@seq + @len - *@done) to @dst + *@done,
 * advancing *@seq and *@done. False when the bytes at *@seq lie before @skb (a
 * hole: the queue does not hold them) or the copy failed.
 */
static bool copy_held_from(const struct sk_buff *skb, u32 *seq, u8 *dst, u32 *done, u32 len)
{
	u32 start = TCP_SKB_CB(skb)->seq;
	u32 at, n;

	if (before(*seq, start))
		return false;
	if (!before(*seq, start + skb->len))
		return true;
	at = *seq - start;
	n = min(skb->len - at, len - *done);
	if (skb_copy_bits(skb, at, dst + *done, n))
		return false;
	*seq += n;
	*done += n;
	return true;
}

/*
 * The skb after @skb in the subflow's queues (the write queue after the rtx queue),
 * or in @rescued, the copies a reset left (mptcp_rs_sf_rescue_held()).
 */
static struct sk_buff *held_next(struct sock *ssk, struct sk_buff_head *rescued,
				 struct mptcp_rs_held_cursor *cursor, struct sk_buff *skb)
{
	struct sk_buff *next;

	if (rescued)
		return skb_queue_is_last(rescued, skb) ? NULL : skb->next;
	if (cursor->in_write_queue)
		return skb_queue_is_last(&ssk->sk_write_queue, skb) ? NULL : skb->next;
	next = skb_rb_next(skb);
	if (next)
		return next;
	cursor->in_write_queue = true;
	return skb_peek(&ssk->sk_write_queue);
}

u32 mptcp_rs_sf_copy_held(struct sock *ssk, struct sk_buff_head *rescued,
			  struct mptcp_rs_held_cursor *cursor, u32 seq, struct page *page,
			  u32 off, u32 len)
{
	u8 *dst = (u8 *)page_address(page) + off;
	struct sk_buff *skb = cursor->skb;
	u32 done = 0;

	if (!skb && rescued) {
		skb = skb_peek(rescued);
	} else if (!skb) {
		cursor->in_write_queue = false;
		skb = skb_rb_first(&ssk->tcp_rtx_queue);
		if (!skb) {
			cursor->in_write_queue = true;
			skb = skb_peek(&ssk->sk_write_queue);
		}
	}
	while (skb && done < len) {
		if (!copy_held_from(skb, &seq, dst, &done, len))
			break;
		if (done == len)
			break; /* the next call may want more of this skb */
		skb = held_next(ssk, rescued, cursor, skb);
	}
	cursor->skb = skb;
	return done;
}

/* Appends a clone of @skb, a subflow's queued skb, to @list; false: no memory. */
static bool rescue_one(struct sk_buff_head *list, struct sk_buff *skb)
{
	struct sk_buff *copy;

	tcp_skb_tsorted_save(skb) {
		copy = skb_clone(skb, GFP_ATOMIC);
	} tcp_skb_tsorted_restore(skb);
	if (!copy)
		return false;
	copy->dev = NULL; /* rtx queue skbs: what the rb node left there */
	__skb_queue_tail(list, copy);
	return true;
}

/*
 * A reset arrived on @ssk (tcp_reset() calls the MPTCP option hook before it purges
 * the subflow's queues): clones of the skbs of its retransmission and write queues,
 * in sequence order, sharing their data, so that what direct mode wrote there can
 * still be copied for the other subflows (mptcp_rs_sf_copy_held() with them).
 * NULL when the queues are empty or memory refused (GFP_ATOMIC: softirq). The
 * skbs of both queues use the tsorted anchor, which overlays the dst a clone
 * copies (as in __tcp_transmit_skb()). Subflow locked.
 */
struct sk_buff_head *mptcp_rs_sf_rescue_held(struct sock *ssk)
{
	struct sk_buff_head *list;
	struct sk_buff *skb;

	if (!tcp_rtx_queue_head(ssk) && !tcp_send_head(ssk))
		return NULL;
	list = kmalloc(sizeof(*list), GFP_ATOMIC);
	if (!list)
		return NULL;
	__skb_queue_head_init(list);
	for (skb = tcp_rtx_queue_head(ssk); skb; skb = skb_rb_next(skb)) {
		if (!rescue_one(list, skb))
			goto nomem;
	}
	skb_queue_walk(&ssk->sk_write_queue, skb) {
		if (!rescue_one(list, skb))
			goto nomem;
	}
	return list;
nomem:
	mptcp_rs_sf_rescue_free(list);
	return NULL;
}

void mptcp_rs_sf_rescue_free(struct sk_buff_head *list)
{
	struct sk_buff *skb;

	if (!list)
		return;
	/* served or no longer needed: not a drop */
	while ((skb = __skb_dequeue(list)))
		consume_skb(skb);
	kfree(list);
}

bool mptcp_rs_skb_is_rst(const struct sk_buff *skb)
{
	return tcp_hdr(skb)->rst;
}

int mptcp_rs_push_chunk(struct sock *ssk, struct page *page, u32 off, u32 len, bool new_extent)
{
	/* a subflow's error or shutdown is no signal to the application */
	struct msghdr msg = { .msg_flags = MSG_SPLICE_PAGES | MSG_DONTWAIT | MSG_NOSIGNAL };
	struct bio_vec bv;

	/*
	 * A segment's mapping comes from the extent of its first byte, so no skb
	 * may span two extents: the last one queued before a new extent (unsent,
	 * or sent when nothing is unsent) takes no more bytes, and a retransmission
	 * does not merge it with the next (tcp_retrans_try_collapse()).
	 */
	if (new_extent)
		tcp_write_collapse_fence(ssk);
	bvec_set_page(&bv, page, len, off);
	iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, &bv, 1, len);
	return tcp_sendmsg_locked(ssk, &msg, len);
}

/*
 * Queues a window probe on @ssk (locked): one byte (a zero, copied) in an skb of
 * its own, whose mapping the caller recorded; no later byte joins that skb (the
 * next push would otherwise extend its extent and append to it). Returns the
 * bytes queued (1), or a negative error (-EAGAIN without memory).
 */
int mptcp_rs_push_probe(struct sock *ssk)
{
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL };
	static const char zero;
	struct kvec kv = { .iov_base = (void *)&zero, .iov_len = 1 };
	int ret;

	tcp_write_collapse_fence(ssk);
	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, &kv, 1, 1);
	ret = tcp_sendmsg_locked(ssk, &msg, 1);
	if (ret > 0)
		tcp_write_collapse_fence(ssk);
	return ret;
}

/*
 * The unsent bytes a multi-mode subflow may hold: about a quarter of its window,
 * at most 512 KB, at least @min (see mptcp_rs_sf_limit_notsent()). The less
 * waits there, the later the scheduler places a piece and the less of what the
 * faster path carries waits for the slower one in the peer's out-of-order queue
 * (with half a window, two-path goodput on unequal paths was 0.3% lower).
 */
static u32 notsent_limit(const struct tcp_sock *tp, u32 min)
{
	u64 quarter = (u64)tcp_snd_cwnd(tp) * READ_ONCE(tp->mss_cache) / 4;

	return max((u32)min_t(u64, quarter, 512U << 10), min);
}

/*
 * What the scheduler and poll see of a subflow (lockless word reads). Its room
 * and whether it is writeable are judged against the unsent limit the next push
 * sets (notsent_limit() with @notsent_min), not the one the last push left: a
 * window that shrank since would otherwise show room that the push, having
 * lowered the limit, then refuses (poll reporting POLLOUT and a non-blocking
 * write() finding none).
 */
void mptcp_rs_sf_view(const struct sock *ssk, u32 notsent_min, struct mptcp_rs_sf_view *v)
{
	const struct tcp_sock *tp = tcp_sk(ssk);
	int sndbuf = READ_ONCE(ssk->sk_sndbuf);
	int queued = READ_ONCE(ssk->sk_wmem_queued);
	u32 notsent = READ_ONCE(tp->write_seq) - READ_ONCE(tp->snd_nxt);
	u32 lowat = notsent_limit(tp, notsent_min);

	v->srtt_us = READ_ONCE(tp->srtt_us) >> 3;
	v->min_rtt_us = tcp_min_rtt(tp) == ~0U ? 0 : tcp_min_rtt(tp);
	v->cwnd = tcp_snd_cwnd(tp);
	v->mss = READ_ONCE(tp->mss_cache);
	v->queued = READ_ONCE(tp->write_seq) - READ_ONCE(tp->snd_una);

	v->buf_space = sndbuf > queued ? sndbuf - queued : 0;
	v->notsent = notsent;
	/* the unsent queue stays short (see mptcp_rs_sf_limit_notsent()) */
	v->space = min(v->buf_space, lowat > notsent ? lowat - notsent : 0);
	v->state = READ_ONCE(ssk->sk_state);
	v->loss = mptcp_rs_sf_suspect(ssk);
	/* sk_stream_is_writeable() with that limit (the unsent bytes below half of it) */
	v->writeable = sndbuf - queued >= queued / 2 && queued < sndbuf &&
		       (notsent << 1) < lowat;
	v->timed_out = mptcp_rs_sf_timed_out(ssk);
}

/*
 * The retransmission timer fired and nothing was acknowledged since. When the
 * peer shrank the window to zero (it announced 0 after the data went out: its
 * reader stopped), TCP's timer resends as a window probe, backing off without
 * counting icsk_retransmits (tcp_retransmit_timer()): a zero window, data in
 * flight, the loss state and a backoff tell that one. (Not the backoff alone: after
 * an ordinary timeout it lasts until an RTT sample, beyond the first ACK that
 * shows the path works.) Missing it, a subflow whose path died in such a state
 * counted as alive for good and kept the backup idle: the connection hung until
 * the application's timeout. Lockless word reads.
 */
static bool rto_fired(const struct sock *ssk)
{
	const struct inet_connection_sock *icsk = inet_csk(ssk);
	const struct tcp_sock *tp = tcp_sk(ssk);

	return READ_ONCE(icsk->icsk_retransmits) != 0 ||
	       (!READ_ONCE(tp->snd_wnd) && READ_ONCE(tp->packets_out) &&
		icsk->icsk_ca_state == TCP_CA_Loss && READ_ONCE(icsk->icsk_backoff) != 0);
}

/*
 * Whether @ssk, a subflow of a connection over both ways (our DATA_FIN
 * acknowledged, the peer's received), still holds data it is not about to get
 * acknowledged: bytes unsent (a closed window or congestion window holds them
 * back), or bytes in flight its retransmission timer already resends, or a window
 * its probes find closed. The peer has them all at the connection level; a FIN
 * queued behind them on a path that died waits for TCP's orphan retries, minutes
 * (tcp_orphan_retries). Only synchronized states: a join still in SYN-SENT closes
 * without a reset anyway. A tail loss probe alone does not count (a peer that
 * delays its ACK sets one off). Subflow locked.
 */
bool mptcp_rs_sf_holds_stale_data(const struct sock *ssk)
{
	const struct inet_connection_sock *icsk = inet_csk(ssk);
	const struct tcp_sock *tp = tcp_sk(ssk);

	if (!((1 << ssk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT | TCPF_FIN_WAIT1 |
				       TCPF_CLOSING | TCPF_LAST_ACK)))
		return false;
	if (tp->write_seq == tp->snd_una)
		return false;
	return tp->write_seq != tp->snd_nxt || rto_fired(ssk) || icsk->icsk_probes_out;
}

/*
 * Keeps what waits unsent on a subflow of a multi-mode connection at about half
 * its window (at most 512 KB: a window grown into a long queue is no reason to
 * queue more), at least @min bytes (TCP_NOTSENT_LOWAT: TCP's write_space then
 * fires when it drains below half of that): the scheduler decides late, and
 * data sent again after another subflow died waits behind little. Subflow locked.
 */
void mptcp_rs_sf_limit_notsent(struct sock *ssk, u32 min)
{
	struct tcp_sock *tp = tcp_sk(ssk);

	WRITE_ONCE(tp->notsent_lowat, notsent_limit(tp, min));
}

/*
 * The peer's window is closed, data waits to be sent, and @probes probes of the
 * window went unanswered (an ACK to one resets the count, tcp_ack()): the path is
 * likely dead, and nothing else would tell, as no data is in flight (no
 * retransmission timeout). Lockless word reads.
 */
static bool probes_unanswered(const struct sock *ssk, u8 probes)
{
	const struct tcp_sock *tp = tcp_sk(ssk);

	return READ_ONCE(inet_csk(ssk)->icsk_probes_out) >= probes &&
	       READ_ONCE(tp->write_seq) != READ_ONCE(tp->snd_nxt);
}

/*
 * The subflow stopped getting ACKs: it has data in flight and its tail loss probe
 * is unanswered (the probe timer, about two RTTs, fired) or its retransmission
 * timer fired (loss recovery). With nothing in flight it is not: TCP keeps
 * tlp_high_seq set after a probe that repaired the tail (the ACK is exactly at
 * it, no DSACK) until an ACK beyond it, i.e. until new data is sent, and a Reno
 * peer's loss state lasts as long; a subflow that got everything acknowledged
 * must not wait for data the scheduler would never give it. Also stalled: data
 * waiting behind a closed window whose probes go unanswered (two). Lockless word
 * reads; any TCP socket.
 */
bool mptcp_rs_sf_suspect(const struct sock *ssk)
{
	const struct tcp_sock *tp = tcp_sk(ssk);

	return (READ_ONCE(tp->packets_out) &&
		(READ_ONCE(tp->tlp_high_seq) ||
		 inet_csk(ssk)->icsk_ca_state == TCP_CA_Loss)) ||
	       probes_unanswered(ssk, 2);
}

/*
 * The subflow no longer counts as alive: its retransmission timer fired and
 * nothing was acknowledged since (rto_fired()), or two window probes went
 * unanswered.
 */
bool mptcp_rs_sf_timed_out(const struct sock *ssk)
{
	return rto_fired(ssk) || probes_unanswered(ssk, 2);
}

/*
 * For a segment TCP is building (subflow locked; one call per segment):
 * MPTCP_RS_SF_SUSPECT as mptcp_rs_sf_suspect(), MPTCP_RS_SF_TIMED_OUT as
 * mptcp_rs_sf_timed_out() will say once the segment is sent (a window probe
 * counts itself in icsk_probes_out only then, so the second probe is the one
 * that finds one unanswered).
 */
u32 mptcp_rs_sf_tx_state(const struct sock *ssk)
{
	u32 state = 0;

	if (mptcp_rs_sf_suspect(ssk))
		state |= MPTCP_RS_SF_SUSPECT;
	if (rto_fired(ssk) || probes_unanswered(ssk, 1))
		state |= MPTCP_RS_SF_TIMED_OUT;
	return state;
}

/*
 * Whether @ssk waits on its window: bytes unsent, none in flight, the zero-window
 * probe timer armed (TCP's own window of it, the last one its peer announced on
 * it, is closed). Lockless word reads; any TCP socket.
 */
bool mptcp_rs_sf_wnd_blocked(const struct sock *ssk)
{
	const struct tcp_sock *tp = tcp_sk(ssk);

	return READ_ONCE(inet_csk(ssk)->icsk_pending) == ICSK_TIME_PROBE0 &&
	       !READ_ONCE(tp->packets_out) &&
	       READ_ONCE(tp->write_seq) != READ_ONCE(tp->snd_nxt);
}

u32 mptcp_rs_tcp_snd_nxt(const struct sock *ssk)
{
	return READ_ONCE(tcp_sk(ssk)->snd_nxt);
}

/*
 * The connection's window, learnt on another subflow, lets @ssk send up to
 * subflow sequence @end (RFC 8684 3.3.5: the subflows share one receive window;
 * upstream's mptcp_check_allowed_size() overrides the subflow's snd_wnd the same
 * way). If @ssk waits on its window (mptcp_rs_sf_wnd_blocked(), and its next
 * segment really lies beyond its own window: the probe timer also runs for a
 * cork or pacing) and @end is beyond that window's edge, the edge moves to @end
 * and the probe timer fires now: tcp_write_wakeup() then sends a segment (one MSS
 * at most; the rest follows the ACK), which arms the retransmission timer and
 * ends the probes. Without this the subflow waits for its next probe, whose
 * interval doubled at each one while the window was closed: seconds, and on a
 * dead path two such intervals before the data moves to another subflow. (A peer
 * that has not opened this subflow's own window yet drops that segment and
 * answers with its window: upstream's receiver, as ours, announces the
 * connection's on every subflow it sends on.) True when the edge moved. Subflow
 * locked.
 */
bool mptcp_rs_sf_share_wnd(struct sock *ssk, u32 end)
{
	struct tcp_sock *tp = tcp_sk(ssk);
	struct sk_buff *head = tcp_send_head(ssk);

	if (!mptcp_rs_sf_wnd_blocked(ssk) || !head ||
	    !after(TCP_SKB_CB(head)->end_seq, tcp_wnd_end(tp)) || !after(end, tcp_wnd_end(tp)))
		return false;
	WRITE_ONCE(tp->snd_wnd, end - tp->snd_una);
	inet_csk(ssk)->icsk_backoff = 0;
	inet_csk_reset_xmit_timer(ssk, ICSK_TIME_PROBE0, 0, TCP_RTO_MAX);
	return true;
}

u32 mptcp_rs_tcp_snd_una(const struct sock *ssk)
{
	return READ_ONCE(tcp_sk(ssk)->snd_una);
}

u32 mptcp_rs_tcp_snd_wnd(const struct sock *ssk)
{
	return READ_ONCE(tcp_sk(ssk)->snd_wnd);
}

/*
 * TCP's send path flags (and with a timeout waits on) the struct socket of the
 * sock it sends on. A joined subflow has none (accepted from the listener, or
 * detached after connect): it gets its own, released with it by
 * mptcp_rs_joined_close(). Not the meta socket's: the connection may outlive that
 * one (close() with data still to deliver). Process context.
 */
int mptcp_rs_graft_subflow(struct sock *ssk)
{
	struct socket *sf;

	if (READ_ONCE(ssk->sk_socket))
		return 0;
	return mptcp_rs_socket_for(ssk, &sf);
}

/*
 * The protocol's memory limit refused a chunk (mptcp_rs_meta_wmem_charge(), or the
 * first subflow's in a direct-mode send while its buffer had room): wait
 * a short random time (at most *@timeo), as sk_stream_wait_memory() does when the
 * socket itself is within its limits, or until an error or SEND_SHUTDOWN, or until
 * *@gen is no longer @seen (a subflow's write_space since the caller read it: the
 * room it took for a memory shortage may have been an ACK that write_space had
 * not announced yet, and a wakeup before this wait began would be lost). @sk is
 * owned, released meanwhile; *@timeo shrinks by the time waited. -EPIPE: the
 * socket was disconnected meanwhile (connect(AF_UNSPEC)), as sk_wait_event() says.
 */
int mptcp_rs_wait_memory(struct sock *sk, long *timeo, const u32 *gen, u32 seen)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	long left, waited;
	int ret;

	if (!*timeo)
		return -EAGAIN;
	if (signal_pending(current))
		return sock_intr_errno(*timeo);
	left = min_t(long, get_random_u32_below(HZ / 5) + 2, *timeo);
	waited = left;
	add_wait_queue(sk_sleep(sk), &wait);
	sk->sk_write_pending++;
	ret = sk_wait_event(sk, &left,
			    READ_ONCE(*gen) != seen || READ_ONCE(sk->sk_err) ||
			    (READ_ONCE(sk->sk_shutdown) & SEND_SHUTDOWN), &wait);
	sk->sk_write_pending--;
	remove_wait_queue(sk_sleep(sk), &wait);
	waited -= left;
	if (*timeo != MAX_SCHEDULE_TIMEOUT)
		*timeo = max(*timeo - waited, 0L);
	if (ret < 0)
		return -EPIPE;
	if (signal_pending(current))
		return sock_intr_errno(*timeo);
	return 0;
}

/*
 * Waits, @sk (owned) released meanwhile, until *@gen is no longer @seen (a
 * subflow's write_space), an error or SEND_SHUTDOWN, a signal, or *@timeo ends.
 * -EPIPE: the socket was disconnected meanwhile (connect(AF_UNSPEC)).
 */
int mptcp_rs_wait_gen(struct sock *sk, long *timeo, const u32 *gen, u32 seen)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	int ret;

	if (!*timeo)
		return -EAGAIN;
	if (signal_pending(current))
		return sock_intr_errno(*timeo);
	add_wait_queue(sk_sleep(sk), &wait);
	sk->sk_write_pending++;
	ret = sk_wait_event(sk, timeo,
			    READ_ONCE(*gen) != seen || READ_ONCE(sk->sk_err) ||
			    (READ_ONCE(sk->sk_shutdown) & SEND_SHUTDOWN), &wait);
	sk->sk_write_pending--;
	remove_wait_queue(sk_sleep(sk), &wait);
	if (ret < 0)
		return -EPIPE;
	if (signal_pending(current))
		return sock_intr_errno(*timeo);
	return 0;
}

static void mptcp_rs_meta_work_fn(struct work_struct *work)
{
	struct mptcp_rs_meta_work *w = container_of(work, struct mptcp_rs_meta_work, work);
	struct sock *sk = w->sk;

	bool over;

	lock_sock(sk);
	over = w->fn(sk);
	release_sock(sk);
	if (over)
		w->done(sk);
	sock_put(sk);
}

static void mptcp_rs_meta_rtx_fn(struct timer_list *t)
{
	struct mptcp_rs_meta_work *w = timer_container_of(w, t, rtx);
	struct sock *sk = w->sk;

	set_bit(0, &w->rtx_fired);
	mptcp_rs_meta_work_schedule(w);
	sock_put(sk);
}

void mptcp_rs_meta_work_init(struct mptcp_rs_meta_work *w, struct sock *sk,
			     bool (*fn)(struct sock *sk), void (*done)(struct sock *sk))
{
	INIT_WORK(&w->work, mptcp_rs_meta_work_fn);
	timer_setup(&w->rtx, mptcp_rs_meta_rtx_fn, 0);
	w->sk = sk;
	w->fn = fn;
	w->done = done;
	w->rtx_fired = 0;
}

void mptcp_rs_meta_rtx_arm(struct mptcp_rs_meta_work *w, u32 ms)
{
	sk_reset_timer(w->sk, &w->rtx, jiffies + msecs_to_jiffies(ms));
}

/* Fires within @ms: armed if idle, brought forward if it would fire later. */
void mptcp_rs_meta_rtx_arm_within(struct mptcp_rs_meta_work *w, u32 ms)
{
	if (!timer_reduce(&w->rtx, jiffies + msecs_to_jiffies(ms)))
		sock_hold(w->sk);	/* it was idle: the reference of an armed timer */
}

bool mptcp_rs_meta_rtx_pending(const struct mptcp_rs_meta_work *w)
{
	return timer_pending(&w->rtx);
}

bool mptcp_rs_meta_rtx_take(struct mptcp_rs_meta_work *w)
{
	return test_and_clear_bit(0, &w->rtx_fired);
}

void mptcp_rs_meta_rtx_stop(struct mptcp_rs_meta_work *w)
{
	if (timer_delete(&w->rtx))
		sock_put(w->sk);	/* the armed timer's reference */
	clear_bit(0, &w->rtx_fired);
}

bool mptcp_rs_meta_work_schedule(struct mptcp_rs_meta_work *w)
{
	sock_hold(w->sk);
	if (!schedule_work(&w->work)) {
		sock_put(w->sk);
		return false;
	}
	return true;
}

void mptcp_rs_msg_revert(struct msghdr *msg, size_t n)
{
	iov_iter_revert(&msg->msg_iter, n);
}

u32 mptcp_rs_skb_rcv_wnd(const struct sock *ssk, const struct sk_buff *skb)
{
	return (u32)ntohs(tcp_hdr(skb)->window) << tcp_sk(ssk)->rx_opt.snd_wscale;
}

int mptcp_rs_sk_rcvbuf(const struct sock *sk)
{
	return READ_ONCE(sk->sk_rcvbuf);
}

/*
 * Milliseconds of the 64-bit jiffies: monotonic, no wrap. (jiffies_to_msecs() is 32
 * bits wide, and jiffies start 300 s before their 32-bit wrap: a 64-bit deadline
 * taken from it shortly before uptime 300 s was never reached.) Callers that keep
 * 32-bit stamps take the low bits and compare them wrapping.
 */
u64 mptcp_rs_jiffies_ms(void)
{
	return jiffies64_to_msecs(get_jiffies_64());
}
