// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers of the active side of MP_JOIN (see rust/join_active.rs): the
 * socket calls that open a subflow from a path manager endpoint, the
 * module's workqueue, and the third-ACK retransmission timer. The protocol
 * decisions are made in Rust.
 */

#include <linux/in.h>
#include <linux/in6.h>
#include <linux/jiffies.h>
#include <linux/net.h>
#include <linux/workqueue.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <net/tcp.h>
#include "mptcp_rs_join.h"
#include "mptcp_rs_pm.h"

static struct workqueue_struct *mptcp_rs_join_wq;
static void (*mptcp_rs_join_work_fn)(struct sock *meta);
static bool (*mptcp_rs_ajoin_timer_fn)(struct sock *ssk, bool last);

int mptcp_rs_join_init(void (*work_fn)(struct sock *meta),
		       bool (*timer_fn)(struct sock *ssk, bool last))
{
	mptcp_rs_join_work_fn = work_fn;
	mptcp_rs_ajoin_timer_fn = timer_fn;
	mptcp_rs_join_wq = alloc_workqueue("mptcp_rs_pm", WQ_UNBOUND, 0);
	return mptcp_rs_join_wq ? 0 : -ENOMEM;
}

/*
 * Every work item holds a reference on its meta socket, which pins the
 * module: none is queued any more, but the last one may still be returning
 * from its final sock_put().
 */
void mptcp_rs_join_exit(void)
{
	destroy_workqueue(mptcp_rs_join_wq);
	mptcp_rs_join_wq = NULL;
}

static void mptcp_rs_join_work_run(struct work_struct *work)
{
	struct mptcp_rs_join_work *w = container_of(to_delayed_work(work),
						    struct mptcp_rs_join_work, work);
	struct sock *meta = w->meta;

	w->fn(meta);
	/* the queued item's reference; @w may be freed with it */
	sock_put(meta);
}

/* Once per connection state, at its final address, before the first schedule. */
void mptcp_rs_join_work_init(struct mptcp_rs_join_work *w, struct sock *meta,
			     void (*fn)(struct sock *meta))
{
	INIT_DELAYED_WORK(&w->work, mptcp_rs_join_work_run);
	w->meta = meta;
	w->fn = fn ? fn : mptcp_rs_join_work_fn;
}

/*
 * Any context. A queued item holds a reference on the meta socket. An item
 * already pending keeps its own time.
 */
void mptcp_rs_join_work_schedule(struct mptcp_rs_join_work *w, unsigned int delay_ms)
{
	sock_hold(w->meta);
	if (!queue_delayed_work(mptcp_rs_join_wq, &w->work, msecs_to_jiffies(delay_ms)))
		sock_put(w->meta);
}

/* Any context: runs the work now, also if it was pending for later. */
void mptcp_rs_join_work_kick(struct mptcp_rs_join_work *w)
{
	sock_hold(w->meta);
	/* true: it was pending, and holds its own reference already */
	if (mod_delayed_work(mptcp_rs_join_wq, &w->work, 0))
		sock_put(w->meta);
}

/*
 * Any context, the meta socket held by the caller (so the put below is never
 * the last): a pending item is dropped with its reference; one already
 * running finishes by itself.
 */
void mptcp_rs_join_work_cancel(struct mptcp_rs_join_work *w)
{
	if (cancel_delayed_work(&w->work))
		sock_put(w->meta);
}

/* Third ACKs sent again before the join is given up (about 25 s at a 20 ms RTT). */
#define MPTCP_RS_AJOIN_RETRIES 8

/*
 * The timer never spins on the subflow's lock: whoever destroys the subflow
 * holds it and stops the timer synchronously (mptcp_rs_ajoin_timer_stop(),
 * from the ULP release), so the timer retries a little later instead. No
 * socket reference is needed: the context holding the timer goes only after
 * the timer is stopped.
 */
static void mptcp_rs_ajoin_timer_run(struct timer_list *timer)
{
	struct mptcp_rs_ajoin_timer *t = timer_container_of(t, timer, timer);
	struct sock *ssk = t->ssk;
	bool again;

	if (!spin_trylock(&ssk->sk_lock.slock)) {
		mod_timer(&t->timer, jiffies + 1);
		return;
	}
	if (sock_owned_by_user(ssk)) {
		spin_unlock(&ssk->sk_lock.slock);
		mod_timer(&t->timer, jiffies + max(1UL, msecs_to_jiffies(10)));
		return;
	}
	/* the last expiry gives up on the path (the join is reset) */
	again = mptcp_rs_ajoin_timer_fn(ssk, t->retries >= MPTCP_RS_AJOIN_RETRIES);
	if (again && t->retries < MPTCP_RS_AJOIN_RETRIES) {
		t->retries++;
		t->timeout = min_t(unsigned long, t->timeout * 2, TCP_RTO_MAX);
		mod_timer(&t->timer, jiffies + t->timeout);
	}
	spin_unlock(&ssk->sk_lock.slock);
}

/* Process context, before the subflow connects; @t stays at this address. */
void mptcp_rs_ajoin_timer_init(struct mptcp_rs_ajoin_timer *t, struct sock *ssk)
{
	timer_setup(&t->timer, mptcp_rs_ajoin_timer_run, 0);
	t->ssk = ssk;
	t->retries = 0;
	t->timeout = TCP_TIMEOUT_INIT;
}

/*
 * The third ACK went out (SYN/ACK processing, subflow locked): send it again
 * after twice the smoothed RTT (its one sample so far is the SYN's), unless the
 * fourth ACK came.
 */
void mptcp_rs_ajoin_timer_start(struct mptcp_rs_ajoin_timer *t)
{
	u32 srtt = READ_ONCE(tcp_sk(t->ssk)->srtt_us);
	unsigned long timeout = TCP_TIMEOUT_INIT;

	if (srtt)
		timeout = max(usecs_to_jiffies(srtt >> 2), msecs_to_jiffies(50));
	t->timeout = timeout;
	t->retries = 0;
	mod_timer(&t->timer, jiffies + timeout);
}

/* The subflow is being destroyed (ULP release, its lock held). */
void mptcp_rs_ajoin_timer_stop(struct mptcp_rs_ajoin_timer *t)
{
	timer_delete_sync(&t->timer);
}

/* Whether the connection runs over IPv4 (also as v4-mapped IPv6). */
bool mptcp_rs_join_conn_is_v4(const struct sock *meta)
{
#if IS_ENABLED(CONFIG_IPV6)
	if (meta->sk_family == AF_INET6)
		return ipv6_addr_v4mapped(&meta->sk_v6_daddr);
#endif
	return true;
}

/* Whether endpoint @ep is the connection's own local address. */
bool mptcp_rs_join_ep_is_local(const struct sock *meta, const struct mptcp_rs_pm_endpoint *ep)
{
	if (ep->family == AF_INET) {
		__be32 a;

		memcpy(&a, ep->addr, sizeof(a));
		return a == meta->sk_rcv_saddr;
	}
#if IS_ENABLED(CONFIG_IPV6)
	if (ep->family == AF_INET6 && meta->sk_family == AF_INET6)
		return !memcmp(ep->addr, &meta->sk_v6_rcv_saddr, sizeof(struct in6_addr));
#endif
	return false;
}

/*
 * Binds subflow @sf to @ep's address and port (0: any; only the userspace path
 * manager's SUBFLOW_CREATE names one) and, if it names one, device.
 */
int mptcp_rs_join_bind(struct socket *sf, const struct mptcp_rs_pm_endpoint *ep)
{
	struct sockaddr_storage addr = {};
	int len;

	if (ep->ifindex)
		sf->sk->sk_bound_dev_if = ep->ifindex;
	if (ep->family == AF_INET && sf->sk->sk_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&addr;

		in->sin_family = AF_INET;
		in->sin_port = htons(ep->port);
		memcpy(&in->sin_addr, ep->addr, 4);
		len = sizeof(*in);
#if IS_ENABLED(CONFIG_IPV6)
	} else if (ep->family == AF_INET6 && sf->sk->sk_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&addr;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(ep->port);
		memcpy(&in6->sin6_addr, ep->addr, 16);
		len = sizeof(*in6);
#endif
	} else {
		return -EAFNOSUPPORT;
	}
	return kernel_bind(sf, (struct sockaddr_unsized *)&addr, len);
}

/*
 * Connects subflow @sf to the connection's remote address and port (the
 * peer's initial address, id 0), without waiting: the SYN carries MP_JOIN.
 */
int mptcp_rs_join_connect(struct socket *sf, const struct sock *meta)
{
	struct sockaddr_storage addr = {};
	int len, err;

	if (sf->sk->sk_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&addr;

		in->sin_family = AF_INET;
		in->sin_port = meta->sk_dport;
#if IS_ENABLED(CONFIG_IPV6)
		if (meta->sk_family == AF_INET6)
			in->sin_addr.s_addr = meta->sk_v6_daddr.s6_addr32[3];
		else
#endif
			in->sin_addr.s_addr = meta->sk_daddr;
		len = sizeof(*in);
#if IS_ENABLED(CONFIG_IPV6)
	} else if (meta->sk_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&addr;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = meta->sk_dport;
		in6->sin6_addr = meta->sk_v6_daddr;
		len = sizeof(*in6);
#endif
	} else {
		return -EAFNOSUPPORT;
	}
	err = kernel_connect(sf, (struct sockaddr_unsized *)&addr, len, O_NONBLOCK);
	return err == -EINPROGRESS ? 0 : err;
}

/*
 * The subflow @sf becomes a socket of the connection alone, as a listener's
 * child is: no struct socket, no wait queue. Returns it with the reference the
 * struct socket had (dropped by closing it); @sf is freed.
 */
struct sock *mptcp_rs_join_detach(struct socket *sf)
{
	struct sock *ssk = sf->sk;

	write_lock_bh(&ssk->sk_callback_lock);
	sk_set_socket(ssk, NULL);
	RCU_INIT_POINTER(ssk->sk_wq, NULL);
	write_unlock_bh(&ssk->sk_callback_lock);
	sf->sk = NULL;
	/* with no sock left, this frees the struct socket only */
	sock_release(sf);
	return ssk;
}
