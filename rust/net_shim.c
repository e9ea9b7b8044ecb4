// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers of the mptcp_rs socket layer: the kernel's static inline socket,
 * TCP and skb helpers, and fields of structures whose Rust view is opaque.
 * The protocol logic that uses them is in rust/sock.rs and rust/subflow.rs.
 */

#include <linux/hashtable.h>
#include <linux/jhash.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/poll.h>
#include <linux/random.h>
#include <linux/sched/signal.h>
#include <linux/skbuff.h>
#include <net/inet_common.h>
#include <net/inet_connection_sock.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/mptcp.h>
#include <net/proto_memory.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/transp_v6.h>

#include "mptcp_rs_net_shim.h"
#include "mptcp_rs_sockopt_sync.h"

struct mptcp_rs_sock {
	struct inet_connection_sock icsk;	/* first: the socket core's view */
	void *state;				/* struct Meta of rust/sock.rs */
	struct sk_buff_head ofo_queue;		/* data beyond the next expected DSN */
	struct hlist_node token_node;		/* in mptcp_rs_tokens while token_hashed */
	u32 token;				/* of our key (RFC 8684 3.2) */
	bool token_hashed;
	bool listed;				/* in mptcp_rs_listeners (for sock_diag) */
	struct hlist_node listen_node;
	struct mptcp_rs_sockopts sockopts;	/* carried to every subflow */
};

struct mptcp_rs6_sock {
	struct mptcp_rs_sock msk;
	struct ipv6_pinfo np;
};

static struct mptcp_rs_sock *mptcp_rs_sk(const struct sock *sk)
{
	return container_of(inet_csk(sk), struct mptcp_rs_sock, icsk);
}

struct mptcp_rs_sockopts *mptcp_rs_meta_sockopts(struct sock *meta)
{
	return &mptcp_rs_sk(meta)->sockopts;
}

size_t mptcp_rs_meta_obj_size(bool ipv6)
{
	return ipv6 ? sizeof(struct mptcp_rs6_sock) : sizeof(struct mptcp_rs_sock);
}

size_t mptcp_rs_meta_ipv6_pinfo_offset(void)
{
	return offsetof(struct mptcp_rs6_sock, np);
}

void *mptcp_rs_meta_state(const struct sock *sk)
{
	return mptcp_rs_sk(sk)->state;
}

/*
 * The token table: every MPTCP connection's local token, unique per network
 * namespace, so that an MP_JOIN SYN (which names the connection by the token)
 * finds its meta socket.
 */
#define MPTCP_RS_TOKEN_BITS 10
static DEFINE_HASHTABLE(mptcp_rs_tokens, MPTCP_RS_TOKEN_BITS);
static DEFINE_SPINLOCK(mptcp_rs_tokens_lock);

static struct mptcp_rs_sock *mptcp_rs_token_find(const struct net *net, u32 token)
{
	struct mptcp_rs_sock *msk;

	hash_for_each_possible(mptcp_rs_tokens, msk, token_node, token)
		if (msk->token == token && net_eq(sock_net(&msk->icsk.icsk_inet.sk), net))
			return msk;
	return NULL;
}

/* Enters @sk's connection under @token: -EEXIST if its namespace has it already. */
int mptcp_rs_token_insert(struct sock *sk, u32 token)
{
	struct mptcp_rs_sock *msk = mptcp_rs_sk(sk);
	int err = 0;

	spin_lock_bh(&mptcp_rs_tokens_lock);
	if (msk->token_hashed)
		err = -EBUSY;
	else if (mptcp_rs_token_find(sock_net(sk), token))
		err = -EEXIST;
	if (!err) {
		WRITE_ONCE(msk->token, token);
		msk->token_hashed = true;
		hash_add(mptcp_rs_tokens, &msk->token_node, token);
		/* /proc/net/protocols counts connections and listeners, as upstream */
		sock_prot_inuse_add(sock_net(sk), sk->sk_prot, 1);
	}
	spin_unlock_bh(&mptcp_rs_tokens_lock);
	return err;
}

void mptcp_rs_token_remove(struct sock *sk)
{
	struct mptcp_rs_sock *msk = mptcp_rs_sk(sk);

	spin_lock_bh(&mptcp_rs_tokens_lock);
	if (msk->token_hashed) {
		hash_del(&msk->token_node);
		msk->token_hashed = false;
		sock_prot_inuse_add(sock_net(sk), sk->sk_prot, -1);
	}
	spin_unlock_bh(&mptcp_rs_tokens_lock);
}

/*
 * The token @sk last took in the token table (kept after it left it, as
 * upstream's msk->token), 0 if it never had one (listeners, fallback). Any
 * context.
 */
u32 mptcp_rs_meta_token(const struct sock *sk)
{
	return READ_ONCE(mptcp_rs_sk(sk)->token);
}

/* The meta socket of @token in @net, with a reference, or NULL. */
struct sock *mptcp_rs_token_lookup(const struct net *net, u32 token)
{
	struct mptcp_rs_sock *msk;
	struct sock *sk = NULL;

	spin_lock_bh(&mptcp_rs_tokens_lock);
	msk = mptcp_rs_token_find(net, token);
	if (msk && refcount_inc_not_zero(&msk->icsk.icsk_inet.sk.sk_refcnt))
		sk = &msk->icsk.icsk_inet.sk;
	spin_unlock_bh(&mptcp_rs_tokens_lock);
	return sk;
}

/*
 * The next connection of @net in the table after position (@slot, @num), with a
 * reference: for dumps that resume where the last message ended.
 */
struct sock *mptcp_rs_token_next(const struct net *net, long *slot, long *num)
{
	struct mptcp_rs_sock *msk;
	struct sock *found = NULL;

	spin_lock_bh(&mptcp_rs_tokens_lock);
	for (; *slot >= 0 && *slot < HASH_SIZE(mptcp_rs_tokens); (*slot)++, *num = 0) {
		long n = 0;

		hlist_for_each_entry(msk, &mptcp_rs_tokens[*slot], token_node) {
			struct sock *sk = &msk->icsk.icsk_inet.sk;

			if (!net_eq(sock_net(sk), net))
				continue;
			if (n++ < *num)
				continue;
			if (!refcount_inc_not_zero(&sk->sk_refcnt))
				continue;
			*num = n;
			found = sk;
			goto out;
		}
	}
out:
	spin_unlock_bh(&mptcp_rs_tokens_lock);
	return found;
}

/* Listening meta sockets, for sock_diag (they have no token). */
static HLIST_HEAD(mptcp_rs_listeners);

void mptcp_rs_listener_add(struct sock *sk)
{
	struct mptcp_rs_sock *msk = mptcp_rs_sk(sk);

	spin_lock_bh(&mptcp_rs_tokens_lock);
	if (!msk->listed) {
		hlist_add_head(&msk->listen_node, &mptcp_rs_listeners);
		msk->listed = true;
		sock_prot_inuse_add(sock_net(sk), sk->sk_prot, 1);
	}
	spin_unlock_bh(&mptcp_rs_tokens_lock);
}

void mptcp_rs_listener_remove(struct sock *sk)
{
	struct mptcp_rs_sock *msk = mptcp_rs_sk(sk);

	spin_lock_bh(&mptcp_rs_tokens_lock);
	if (msk->listed) {
		hlist_del(&msk->listen_node);
		msk->listed = false;
		sock_prot_inuse_add(sock_net(sk), sk->sk_prot, -1);
	}
	spin_unlock_bh(&mptcp_rs_tokens_lock);
}

/* The listener of @net after the first @num, with a reference. */
struct sock *mptcp_rs_listener_next(const struct net *net, long *num)
{
	struct mptcp_rs_sock *msk;
	struct sock *found = NULL;
	long n = 0;

	spin_lock_bh(&mptcp_rs_tokens_lock);
	hlist_for_each_entry(msk, &mptcp_rs_listeners, listen_node) {
		struct sock *sk = &msk->icsk.icsk_inet.sk;

		if (!net_eq(sock_net(sk), net))
			continue;
		if (n++ < *num)
			continue;
		if (!refcount_inc_not_zero(&sk->sk_refcnt))
			continue;
		*num = n;
		found = sk;
		break;
	}
	spin_unlock_bh(&mptcp_rs_tokens_lock);
	return found;
}

/* A meta socket starts outside the table and the listeners (also a listener's clone). */
static void mptcp_rs_token_init(struct sock *sk)
{
	mptcp_rs_sk(sk)->token = 0;
	INIT_HLIST_NODE(&mptcp_rs_sk(sk)->token_node);
	mptcp_rs_sk(sk)->token_hashed = false;
	INIT_HLIST_NODE(&mptcp_rs_sk(sk)->listen_node);
	mptcp_rs_sk(sk)->listed = false;
}

/*
 * KUnit: the table on two fake meta sockets in init_net (never hashed
 * anywhere else): insert, duplicate refused, lookup with a reference, remove.
 * Returns 0 or the number of the first failed step.
 */
int mptcp_rs_token_selftest(void)
{
	struct mptcp_rs_sock *a, *b;
	struct sock *found;
	int fail = 0;
	u32 token = 0xfeed0000 | (get_random_u32() & 0xffff);

	a = kzalloc(sizeof(*a), GFP_KERNEL);
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!a || !b) {
		fail = 100;
		goto out;
	}
	sock_net_set(&a->icsk.icsk_inet.sk, &init_net);
	sock_net_set(&b->icsk.icsk_inet.sk, &init_net);
	/* the table counts sockets in use per proto: TCP's, +1 then -1 */
	a->icsk.icsk_inet.sk.sk_prot = &tcp_prot;
	b->icsk.icsk_inet.sk.sk_prot = &tcp_prot;
	refcount_set(&a->icsk.icsk_inet.sk.sk_refcnt, 1);
	refcount_set(&b->icsk.icsk_inet.sk.sk_refcnt, 1);
	mptcp_rs_token_init(&a->icsk.icsk_inet.sk);
	mptcp_rs_token_init(&b->icsk.icsk_inet.sk);
	/* a token in use by a real connection: try another */
	while (mptcp_rs_token_lookup(&init_net, token))
		token++;
	if (mptcp_rs_token_insert(&a->icsk.icsk_inet.sk, token)) {
		fail = 1;
		goto out;
	}
	if (mptcp_rs_token_insert(&b->icsk.icsk_inet.sk, token) != -EEXIST)
		fail = 2;
	else if (mptcp_rs_token_insert(&a->icsk.icsk_inet.sk, token + 1) != -EBUSY)
		fail = 3;
	else if ((found = mptcp_rs_token_lookup(&init_net, token)) != &a->icsk.icsk_inet.sk)
		fail = 4;
	else if (refcount_read(&a->icsk.icsk_inet.sk.sk_refcnt) != 2)
		fail = 5;
	refcount_set(&a->icsk.icsk_inet.sk.sk_refcnt, 0);
	if (!fail && mptcp_rs_token_lookup(&init_net, token))
		fail = 6;	/* a socket being destroyed is not found */
	mptcp_rs_token_remove(&a->icsk.icsk_inet.sk);
	if (!fail && mptcp_rs_token_insert(&b->icsk.icsk_inet.sk, token))
		fail = 7;	/* free again once removed */
	mptcp_rs_token_remove(&b->icsk.icsk_inet.sk);
	if (!fail && mptcp_rs_token_lookup(&init_net, token))
		fail = 8;
out:
	kfree(a);
	kfree(b);
	return fail;
}

void mptcp_rs_meta_set_state_ptr(struct sock *sk, void *state)
{
	mptcp_rs_sk(sk)->state = state;
}

void mptcp_rs_meta_init_queues(struct sock *sk)
{
	__skb_queue_head_init(&mptcp_rs_sk(sk)->ofo_queue);
	mptcp_rs_token_init(sk);
}

void mptcp_rs_meta_purge_queues(struct sock *sk)
{
	__skb_queue_purge(&sk->sk_receive_queue);
	__skb_queue_purge(&mptcp_rs_sk(sk)->ofo_queue);
	sk_mem_reclaim(sk);
}

/*
 * Drops what is in order on the meta socket's receive queue: a connection the
 * application closed reads nothing more. The out-of-order queue stays (its bytes
 * were acknowledged on their subflows; they bring the peer's DATA_FIN in reach
 * once the holes before them fill). Meta socket owned.
 */
void mptcp_rs_meta_purge_rcv(struct sock *sk)
{
	__skb_queue_purge(&sk->sk_receive_queue);
	sk_mem_reclaim(sk);
}

struct mptcp_rs_skb_cb *mptcp_rs_skb_cb(struct sk_buff *skb)
{
	BUILD_BUG_ON(sizeof(struct mptcp_rs_skb_cb) > sizeof(skb->cb));
	return (struct mptcp_rs_skb_cb *)skb->cb;
}

void mptcp_rs_lock_sock(struct sock *sk)
{
	lock_sock(sk);
}

bool mptcp_rs_owned_by_user(const struct sock *sk)
{
	return sock_owned_by_user_nocheck(sk);
}

void mptcp_rs_data_lock(struct sock *sk)
{
	spin_lock_bh(&sk->sk_lock.slock);
}

void mptcp_rs_data_unlock(struct sock *sk)
{
	spin_unlock_bh(&sk->sk_lock.slock);
}

int mptcp_rs_sk_state(const struct sock *sk)
{
	return inet_sk_state_load(sk);
}

void mptcp_rs_set_shutdown(struct sock *sk, u8 how)
{
	WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | how);
}

/* A disconnected socket may connect again: both directions open, as tcp_disconnect() leaves them. */
void mptcp_rs_clear_shutdown(struct sock *sk)
{
	WRITE_ONCE(sk->sk_shutdown, 0);
}

u8 mptcp_rs_shutdown(const struct sock *sk)
{
	return READ_ONCE(sk->sk_shutdown);
}

void mptcp_rs_set_err(struct sock *sk, int err)
{
	WRITE_ONCE(sk->sk_err, err);
}

u32 mptcp_rs_tcp_rto_max_ms(const struct net *net)
{
	return READ_ONCE(net->ipv4.sysctl_tcp_rto_max_ms);
}

int mptcp_rs_sk_err(const struct sock *sk)
{
	return READ_ONCE(sk->sk_err);
}

void mptcp_rs_sock_hold(struct sock *sk)
{
	sock_hold(sk);
}

void mptcp_rs_sock_put(struct sock *sk)
{
	sock_put(sk);
}

void mptcp_rs_call_rcu(struct rcu_head *head, rcu_callback_t fn)
{
	call_rcu(head, fn);
}

void mptcp_rs_rcu_barrier(void)
{
	rcu_barrier();
}

/* MPTCP_INFO: what the first subflow counts of the connection. */
void mptcp_rs_subflow_stats(struct sock *ssk, struct mptcp_rs_subflow_stats *out)
{
	bool slow = lock_sock_fast(ssk);
	const struct tcp_sock *tp = tcp_sk(ssk);
	u32 now = tcp_jiffies32;

	out->bytes_sent = tp->bytes_sent;
	out->bytes_retrans = tp->bytes_retrans;
	out->retransmits = inet_csk(ssk)->icsk_retransmits;
	out->last_data_sent = jiffies_to_msecs(now - tp->lsndtime);
	out->last_data_recv = jiffies_to_msecs(now - inet_csk(ssk)->icsk_ack.lrcvtime);
	out->last_ack_recv = jiffies_to_msecs(now - tp->rcv_tstamp);
	unlock_sock_fast(ssk, slow);
}

/* getsockopt(): @size bytes of @buf to the user, cut to the length the caller
 * gave; the length written back. A zero length only asks whether the option
 * exists, as upstream's MPTCP_INFO.
 */
int mptcp_rs_put_sockopt(char __user *optval, int __user *optlen, const void *buf, size_t size)
{
	int len;

	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;
	if (len == 0)
		return 0;
	len = min_t(unsigned int, len, size);
	if (put_user(len, optlen))
		return -EFAULT;
	if (copy_to_user(optval, buf, len))
		return -EFAULT;
	return 0;
}

/* SO_LINGER with a zero timeout: close() aborts the connection. */
bool mptcp_rs_linger_zero(const struct sock *sk)
{
	return sock_flag(sk, SOCK_LINGER) && !READ_ONCE(sk->sk_lingertime);
}

bool mptcp_rs_sock_dead(const struct sock *sk)
{
	return sock_flag(sk, SOCK_DEAD);
}

void mptcp_rs_sock_orphan(struct sock *sk)
{
	sock_orphan(sk);
}

long mptcp_rs_rcvtimeo(const struct sock *sk, bool noblock)
{
	return sock_rcvtimeo(sk, noblock);
}

long mptcp_rs_sndtimeo(const struct sock *sk, bool noblock)
{
	return sock_sndtimeo(sk, noblock);
}

int mptcp_rs_sock_intr_errno(long timeo)
{
	return sock_intr_errno(timeo);
}

bool mptcp_rs_signal_pending(void)
{
	return signal_pending(current);
}

/*
 * Sleeps on the socket's wait queue until @cond holds, the timeout runs out or
 * a signal arrives; called and returns with the socket lock owned.
 */
int mptcp_rs_wait(struct sock *sk, long *timeo, bool (*cond)(struct sock *sk))
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	int rc;

	add_wait_queue(sk_sleep(sk), &wait);
	sk_set_bit(SOCKWQ_ASYNC_WAITDATA, sk);
	rc = sk_wait_event(sk, timeo, cond(sk), &wait);
	sk_clear_bit(SOCKWQ_ASYNC_WAITDATA, sk);
	remove_wait_queue(sk_sleep(sk), &wait);
	return rc;
}

void mptcp_rs_wake_readers(struct sock *sk)
{
	if (!sock_flag(sk, SOCK_DEAD))
		sk->sk_data_ready(sk);
}

void mptcp_rs_wake_state(struct sock *sk)
{
	if (!sock_flag(sk, SOCK_DEAD))
		sk->sk_state_change(sk);
}

/*
 * close() with SO_LINGER and a timeout, meta socket owned: sleeps (the lock
 * released meanwhile) until @done(@sk), a signal, or @timeout jiffies, as
 * sk_stream_wait_close() does for TCP. Woken by sk_state_change.
 */
void mptcp_rs_close_wait(struct sock *sk, long timeout, bool (*done)(struct sock *sk))
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);

	add_wait_queue(sk_sleep(sk), &wait);
	do {
		if (sk_wait_event(sk, &timeout, done(sk), &wait))
			break;
	} while (!signal_pending(current) && timeout);
	remove_wait_queue(sk_sleep(sk), &wait);
}

void mptcp_rs_wake_writers(struct sock *sk)
{
	if (!sock_flag(sk, SOCK_DEAD))
		sk->sk_write_space(sk);
}

void mptcp_rs_error_report(struct sock *sk)
{
	if (!sock_flag(sk, SOCK_DEAD))
		sk_error_report(sk);
}

unsigned int mptcp_rs_poll_wait(struct file *file, struct socket *sock, void *wait)
{
	sock_poll_wait(file, sock, wait);
	return 0;
}

struct sock *mptcp_rs_socket_sk(struct socket *sock)
{
	return sock->sk;
}

struct net *mptcp_rs_sock_net(const struct sock *sk)
{
	return sock_net(sk);
}

int mptcp_rs_sk_family(const struct sock *sk)
{
	return sk->sk_family;
}

bool mptcp_rs_sk_kern(const struct sock *sk)
{
	return sk->sk_kern_sock;
}

/* The meta socket reports the addresses of its first subflow (getsockname()...). */
void mptcp_rs_copy_addrs(struct sock *meta, const struct sock *ssk)
{
	struct inet_sock *mi = inet_sk(meta);
	const struct inet_sock *si = inet_sk(ssk);

	meta->sk_daddr = ssk->sk_daddr;
	meta->sk_rcv_saddr = ssk->sk_rcv_saddr;
	meta->sk_dport = ssk->sk_dport;
	meta->sk_num = ssk->sk_num;
	mi->inet_saddr = si->inet_saddr;
	mi->inet_sport = si->inet_sport;
	mi->inet_id = si->inet_id;
#if IS_ENABLED(CONFIG_IPV6)
	if (meta->sk_family == AF_INET6) {
		meta->sk_v6_daddr = ssk->sk_v6_daddr;
		meta->sk_v6_rcv_saddr = ssk->sk_v6_rcv_saddr;
		if (ssk->sk_family == AF_INET6)
			inet6_sk(meta)->saddr = inet6_sk(ssk)->saddr;
	}
#endif
}

void mptcp_rs_set_nospace(struct sock *ssk)
{
	if (ssk->sk_socket)
		set_bit(SOCK_NOSPACE, &ssk->sk_socket->flags);
}

bool mptcp_rs_stream_writeable(const struct sock *ssk)
{
	return sk_stream_is_writeable(ssk);
}

bool mptcp_rs_rcv_queue_empty(const struct sock *sk)
{
	return skb_queue_empty_lockless(&sk->sk_receive_queue);
}

/*
 * Installs the callbacks in @cbs on @ssk and returns the previous ones in
 * @cbs, under the callback lock.
 */
void mptcp_rs_sk_swap_callbacks(struct sock *ssk, struct mptcp_rs_sk_callbacks *cbs)
{
	struct mptcp_rs_sk_callbacks old;

	write_lock_bh(&ssk->sk_callback_lock);
	old.data_ready = ssk->sk_data_ready;
	old.state_change = ssk->sk_state_change;
	old.write_space = ssk->sk_write_space;
	old.error_report = ssk->sk_error_report;
	WRITE_ONCE(ssk->sk_data_ready, cbs->data_ready);
	WRITE_ONCE(ssk->sk_state_change, cbs->state_change);
	WRITE_ONCE(ssk->sk_write_space, cbs->write_space);
	WRITE_ONCE(ssk->sk_error_report, cbs->error_report);
	write_unlock_bh(&ssk->sk_callback_lock);
	*cbs = old;
}

int mptcp_rs_meta_free_space(const struct sock *meta, const struct sock *ssk)
{
	int free = READ_ONCE(meta->sk_rcvbuf) - atomic_read(&meta->sk_rmem_alloc);

	if (ssk)
		free -= atomic_read(&ssk->sk_rmem_alloc) + READ_ONCE(ssk->sk_backlog.len);
	return free;
}

/*
 * The receive window of a subflow is the free space of the meta socket, where
 * its data goes (what upstream's mptcp_space() does), less what still waits on
 * the subflow itself.
 */
void mptcp_rs_space(const struct sock *ssk, const struct sock *meta, int *space,
		    int *full_space)
{
	*space = tcp_win_from_space(ssk, mptcp_rs_meta_free_space(meta, ssk));
	*full_space = tcp_win_from_space(ssk, READ_ONCE(meta->sk_rcvbuf));
}

/* Subflows. */

int mptcp_rs_subflow_create(struct sock *meta, int family, struct socket **res)
{
	struct socket *sf;
	int err;

	err = sock_create_kern(sock_net(meta), family, SOCK_STREAM, IPPROTO_TCP, &sf);
	if (err)
		return err;
	/* Kernel sockets do not pin their netns; the meta socket's owner expects it. */
	if (!sf->sk->sk_net_refcnt)
		sk_net_refcnt_upgrade(sf->sk);
	/* SOL_SOCKET options set before the subflow existed (e.g. SO_REUSEADDR
	 * before bind()); later ones are passed on as they are set.
	 */
	sf->sk->sk_mark = READ_ONCE(meta->sk_mark);
	sf->sk->sk_priority = READ_ONCE(meta->sk_priority);
	sf->sk->sk_bound_dev_if = READ_ONCE(meta->sk_bound_dev_if);
	sf->sk->sk_reuse = meta->sk_reuse;
	sf->sk->sk_reuseport = meta->sk_reuseport;
	sf->sk->sk_userlocks |= meta->sk_userlocks & SOCK_SNDBUF_LOCK;
	sf->sk->sk_sndbuf = READ_ONCE(meta->sk_sndbuf);
	if (sock_flag(meta, SOCK_KEEPOPEN))
		sock_set_flag(sf->sk, SOCK_KEEPOPEN);
	if (sock_flag(meta, SOCK_LINGER)) {
		sock_set_flag(sf->sk, SOCK_LINGER);
		sf->sk->sk_lingertime = meta->sk_lingertime;
	}
	*res = sf;
	return 0;
}

static struct inet_connection_sock_af_ops mptcp_rs_subflow_v4_ops;
static struct tcp_request_sock_ops mptcp_rs_req_v4_ops;
#if IS_ENABLED(CONFIG_IPV6)
static struct inet_connection_sock_af_ops mptcp_rs_subflow_v6_ops;
static struct tcp_request_sock_ops mptcp_rs_req_v6_ops;
#endif
static int (*mptcp_rs_req_init)(struct request_sock *req, const struct sock *listener,
				const struct sk_buff *skb);

/*
 * Request socks of our listeners: TCP's, followed by what an MP_JOIN request
 * needs until its third ACK (struct mptcp_rs_join_req). Our copies of TCP's
 * request_sock_ops with a larger object in our own slab; the destructor drops
 * the reference on the connection a join request holds.
 */
struct mptcp_rs_request_sock {
	struct tcp_request_sock tcp;	/* tcp6_request_sock is the same (checked) */
	struct mptcp_rs_join_req join;
};

static struct request_sock_ops mptcp_rs_rsk_v4_ops;
#if IS_ENABLED(CONFIG_IPV6)
static struct request_sock_ops mptcp_rs_rsk_v6_ops;
#endif

static bool mptcp_rs_rsk_ours(const struct request_sock *req)
{
#if IS_ENABLED(CONFIG_IPV6)
	if (req->rsk_ops == &mptcp_rs_rsk_v6_ops)
		return true;
#endif
	return req->rsk_ops == &mptcp_rs_rsk_v4_ops;
}

/* The join state of @req, or NULL if it is not one of our request socks (a SYN
 * cookie's request is TCP's).
 */
struct mptcp_rs_join_req *mptcp_rs_req_join(const struct request_sock *req)
{
	if (!mptcp_rs_rsk_ours(req))
		return NULL;
	return &((struct mptcp_rs_request_sock *)req)->join;
}

static void mptcp_rs_join_req_release(struct request_sock *req)
{
	struct mptcp_rs_join_req *j = mptcp_rs_req_join(req);

	if (j && j->meta) {
		sock_put(j->meta);
		j->meta = NULL;
	}
}

static void mptcp_rs_rsk_v4_destructor(struct request_sock *req)
{
	mptcp_rs_join_req_release(req);
	tcp_prot.rsk_prot->destructor(req);
}

#if IS_ENABLED(CONFIG_IPV6)
static void mptcp_rs_rsk_v6_destructor(struct request_sock *req)
{
	mptcp_rs_join_req_release(req);
	tcpv6_prot.rsk_prot->destructor(req);
}
#endif

static int mptcp_rs_rsk_ops_init(struct request_sock_ops *ops,
				 const struct request_sock_ops *tcp, char *name,
				 void (*destructor)(struct request_sock *req))
{
	*ops = *tcp;
	ops->slab_name = name;
	ops->obj_size = sizeof(struct mptcp_rs_request_sock);
	ops->destructor = destructor;
	/* request socks are looked up under RCU, as TCP's own slab */
	ops->slab = kmem_cache_create(name, ops->obj_size, 0,
				      SLAB_ACCOUNT | SLAB_TYPESAFE_BY_RCU, NULL);
	return ops->slab ? 0 : -ENOMEM;
}

/*
 * Our request sock ops and their slabs, before any listener of ours exists;
 * mptcp_rs_req_ops_exit() when none is left (each listener pins the module).
 */
int mptcp_rs_req_ops_init(void)
{
	int err;

	BUILD_BUG_ON(sizeof(struct tcp_request_sock) != sizeof(struct tcp6_request_sock));
	err = mptcp_rs_rsk_ops_init(&mptcp_rs_rsk_v4_ops, tcp_prot.rsk_prot,
				    "request_sock_mptcp_rs_v4", mptcp_rs_rsk_v4_destructor);
	if (err)
		return err;
#if IS_ENABLED(CONFIG_IPV6)
	err = mptcp_rs_rsk_ops_init(&mptcp_rs_rsk_v6_ops, tcpv6_prot.rsk_prot,
				    "request_sock_mptcp_rs_v6", mptcp_rs_rsk_v6_destructor);
	if (err) {
		kmem_cache_destroy(mptcp_rs_rsk_v4_ops.slab);
		mptcp_rs_rsk_v4_ops.slab = NULL;
		return err;
	}
#endif
	return 0;
}

void mptcp_rs_req_ops_exit(void)
{
	/* __reqsk_free() may still be on its way out of kmem_cache_free() */
	synchronize_rcu();
#if IS_ENABLED(CONFIG_IPV6)
	kmem_cache_destroy(mptcp_rs_rsk_v6_ops.slab);
#endif
	kmem_cache_destroy(mptcp_rs_rsk_v4_ops.slab);
}

/*
 * A request sock for the third ACK of a SYN cookie on one of our listeners
 * (@ops: TCP's): ours, so that a join's state has room (its part zeroed).
 */
struct request_sock *mptcp_rs_cookie_reqsk_alloc(const struct request_sock_ops *ops,
						 struct sock *sk_listener, bool attach_listener)
{
	struct request_sock *req;

	if (ops == tcp_prot.rsk_prot)
		ops = &mptcp_rs_rsk_v4_ops;
#if IS_ENABLED(CONFIG_IPV6)
	else if (ops == tcpv6_prot.rsk_prot)
		ops = &mptcp_rs_rsk_v6_ops;
#endif
	req = inet_reqsk_alloc(ops, sk_listener, attach_listener);
	if (req && mptcp_rs_req_join(req))
		memset(mptcp_rs_req_join(req), 0, sizeof(struct mptcp_rs_join_req));
	return req;
}

/*
 * MP_JOIN under SYN cookies (as upstream's join_entries, net/mptcp/syncookies.c):
 * the request of a SYN answered with a cookie is freed after its SYN/ACK, and the
 * third ACK carries neither nonce. What that ACK needs is kept in a small table,
 * at a keyed hash of the peer's ISN, the ports and the namespace; a later SYN with
 * the same hash takes the place (that join then fails, as upstream's would).
 */
struct mptcp_rs_join_cookie {
	const struct net *net;
	u32 peer_isn;
	__be16 peer_port;
	__be16 local_port;
	u32 token;
	struct mptcp_rs_join_req join;	/* its meta is always NULL here */
	bool valid;
};

#define MPTCP_RS_JOIN_COOKIES 1024
static struct mptcp_rs_join_cookie mptcp_rs_join_cookies[MPTCP_RS_JOIN_COOKIES];
static DEFINE_SPINLOCK(mptcp_rs_join_cookies_lock);
static u32 mptcp_rs_join_cookie_secret __read_mostly;

static struct mptcp_rs_join_cookie *mptcp_rs_join_cookie_slot(const struct net *net, u32 peer_isn,
							      const struct tcphdr *th)
{
	u32 h;

	net_get_random_once(&mptcp_rs_join_cookie_secret, sizeof(mptcp_rs_join_cookie_secret));
	h = jhash_3words(peer_isn, net_hash_mix(net),
			 (__force u32)th->source << 16 | (__force u32)th->dest,
			 mptcp_rs_join_cookie_secret);
	return &mptcp_rs_join_cookies[h % MPTCP_RS_JOIN_COOKIES];
}

/* The SYN @syn of join request @req of @net is answered with a cookie: keep its state. */
void mptcp_rs_join_cookie_store(const struct net *net, const struct request_sock *req,
				const struct sk_buff *syn, u32 token)
{
	const struct mptcp_rs_join_req *j = mptcp_rs_req_join(req);
	const struct tcphdr *th = tcp_hdr(syn);
	struct mptcp_rs_join_cookie *e;

	if (!j)
		return;
	e = mptcp_rs_join_cookie_slot(net, ntohl(th->seq), th);
	spin_lock_bh(&mptcp_rs_join_cookies_lock);
	e->net = net;
	e->peer_isn = ntohl(th->seq);
	e->peer_port = th->source;
	e->local_port = th->dest;
	e->token = token;
	e->join = *j;
	e->join.meta = NULL;
	e->valid = true;
	spin_unlock_bh(&mptcp_rs_join_cookies_lock);
}

/*
 * The third ACK @ack of a SYN cookie on @listener: the state kept for its SYN goes
 * to @req (ours, from mptcp_rs_cookie_reqsk_alloc(); its meta stays NULL), and
 * *@token gets the connection's token. False if nothing was kept (or it was
 * overwritten).
 */
bool mptcp_rs_join_cookie_take(const struct sock *listener, struct request_sock *req,
			       const struct sk_buff *ack, u32 *token)
{
	struct mptcp_rs_join_req *j = mptcp_rs_req_join(req);
	const struct tcphdr *th = tcp_hdr(ack);
	const struct net *net = sock_net(listener);
	u32 peer_isn = ntohl(th->seq) - 1;
	struct mptcp_rs_join_cookie *e;
	bool found = false;

	if (!j)
		return false;
	e = mptcp_rs_join_cookie_slot(net, peer_isn, th);
	spin_lock_bh(&mptcp_rs_join_cookies_lock);
	if (e->valid && net_eq(e->net, net) && e->peer_isn == peer_isn &&
	    e->peer_port == th->source && e->local_port == th->dest) {
		*j = e->join;
		*token = e->token;
		e->valid = false;
		found = true;
	}
	spin_unlock_bh(&mptcp_rs_join_cookies_lock);
	return found;
}

/*
 * Before TCP's route_req: nothing in our part of the request is valid yet
 * (the slab does not zero it) and the destructor may run if TCP gives up.
 * After it: the SYN's MPTCP options; a refused MP_JOIN is answered with a
 * reset and the request dropped, one to be taken later (its local address id
 * is being made) is dropped silently.
 */
static struct dst_entry *mptcp_rs_route_req_done(const struct sock *sk, struct sk_buff *skb,
						 struct request_sock *req,
						 struct dst_entry *dst)
{
	if (!dst)
		return NULL;
	switch (mptcp_rs_req_init(req, sk, skb)) {
	case MPTCP_RS_REQ_ACCEPT:
		return dst;
	case MPTCP_RS_REQ_DROP:
		dst_release(dst);
		return NULL;
	default:
		dst_release(dst);
		req->rsk_ops->send_reset(sk, skb, SK_RST_REASON_MPTCP_RST_EMPTCP);
		return NULL;
	}
}

static void mptcp_rs_join_req_init(struct request_sock *req)
{
	struct mptcp_rs_join_req *j = mptcp_rs_req_join(req);

	if (j)
		memset(j, 0, sizeof(*j));
}

/* route_req of our request ops: TCP's, then the SYN's MPTCP options. */
static struct dst_entry *mptcp_rs_route_req_v4(const struct sock *sk, struct sk_buff *skb,
					       struct flowi *fl, struct request_sock *req,
					       u32 tw_isn)
{
	mptcp_rs_join_req_init(req);
	return mptcp_rs_route_req_done(sk, skb, req,
				       tcp_request_sock_ipv4_ops.route_req(sk, skb, fl, req, tw_isn));
}

/* conn_request of our listening subflows: TCP's, with our request ops. */
static int mptcp_rs_conn_request_v4(struct sock *sk, struct sk_buff *skb)
{
	if (skb_rtable(skb)->rt_flags & (RTCF_BROADCAST | RTCF_MULTICAST)) {
		tcp_listendrop(sk);
		return 0;
	}
	return tcp_conn_request(&mptcp_rs_rsk_v4_ops, &mptcp_rs_req_v4_ops, sk, skb);
}

#if IS_ENABLED(CONFIG_IPV6)
static struct dst_entry *mptcp_rs_route_req_v6(const struct sock *sk, struct sk_buff *skb,
					       struct flowi *fl, struct request_sock *req,
					       u32 tw_isn)
{
	mptcp_rs_join_req_init(req);
	return mptcp_rs_route_req_done(sk, skb, req,
				       tcp_request_sock_ipv6_ops.route_req(sk, skb, fl, req, tw_isn));
}

static int mptcp_rs_conn_request_v6(struct sock *sk, struct sk_buff *skb)
{
	/* IPv4 SYNs on a dual-stack listener: the IPv4 request ops, as TCP does;
	 * ipv6_specific.syn_recv_sock makes the child a v4-mapped socket.
	 */
	if (skb->protocol == htons(ETH_P_IP))
		return mptcp_rs_conn_request_v4(sk, skb);
	if (!ipv6_unicast_destination(skb) ||
	    ipv6_addr_v4mapped(&ipv6_hdr(skb)->saddr)) {
		tcp_listendrop(sk);
		return 0;
	}
	return tcp_conn_request(&mptcp_rs_rsk_v6_ops, &mptcp_rs_req_v6_ops, sk, skb);
}
#endif

/*
 * Our copies of TCP's address-family and request ops: they see the SYN/ACK
 * (sk_rx_dst_set), the SYN (route_req) and the third ACK (syn_recv_sock).
 */
void mptcp_rs_af_ops_init(void (*rx_dst_set)(struct sock *, const struct sk_buff *),
			  mptcp_rs_syn_recv_sock_t syn_recv_sock,
			  int (*req_init)(struct request_sock *req, const struct sock *listener,
					  const struct sk_buff *skb))
{
	mptcp_rs_req_init = req_init;
	mptcp_rs_subflow_v4_ops = ipv4_specific;
	mptcp_rs_subflow_v4_ops.sk_rx_dst_set = rx_dst_set;
	mptcp_rs_subflow_v4_ops.conn_request = mptcp_rs_conn_request_v4;
	mptcp_rs_subflow_v4_ops.syn_recv_sock = syn_recv_sock;
	mptcp_rs_req_v4_ops = tcp_request_sock_ipv4_ops;
	mptcp_rs_req_v4_ops.route_req = mptcp_rs_route_req_v4;
#if IS_ENABLED(CONFIG_IPV6)
	mptcp_rs_subflow_v6_ops = ipv6_specific;
	mptcp_rs_subflow_v6_ops.sk_rx_dst_set = rx_dst_set;
	mptcp_rs_subflow_v6_ops.conn_request = mptcp_rs_conn_request_v6;
	mptcp_rs_subflow_v6_ops.syn_recv_sock = syn_recv_sock;
	mptcp_rs_req_v6_ops = tcp_request_sock_ipv6_ops;
	mptcp_rs_req_v6_ops.route_req = mptcp_rs_route_req_v6;
#endif
}

/* TCP's syn_recv_sock for the listener's family. */
struct sock *mptcp_rs_af_ops_syn_recv_sock(const struct sock *sk, struct sk_buff *skb,
					   struct request_sock *req,
					   struct dst_entry *dst,
					   struct request_sock *req_unhash,
					   bool *own_req,
					   void (*opt_child_init)(struct sock *newsk,
								  const struct sock *sk))
{
#if IS_ENABLED(CONFIG_IPV6)
	if (inet_csk(sk)->icsk_af_ops == &mptcp_rs_subflow_v6_ops)
		return ipv6_specific.syn_recv_sock(sk, skb, req, dst, req_unhash, own_req,
						   opt_child_init);
#endif
	return ipv4_specific.syn_recv_sock(sk, skb, req, dst, req_unhash, own_req,
					   opt_child_init);
}

#if IS_ENABLED(CONFIG_IPV6)
/*
 * IPv6 subflows talking to v4-mapped addresses: TCP switches them to its
 * ipv6_mapped ops (not exported), then calls the provider's v6_handle_mapped.
 * The first time, we copy the ops TCP just installed; our copy replaces them as
 * our v6 ops replace ipv6_specific.
 */
static struct inet_connection_sock_af_ops mptcp_rs_subflow_v6m_ops;
static const struct inet_connection_sock_af_ops *mptcp_rs_ipv6_mapped;
static DEFINE_SPINLOCK(mptcp_rs_v6m_lock);

void mptcp_rs_handle_mapped(struct sock *ssk, bool mapped)
{
	struct inet_connection_sock *icsk = inet_csk(ssk);
	const struct inet_connection_sock_af_ops *tcp_ops = icsk->icsk_af_ops;

	if (!mapped) {
		/* the v4 connect failed: TCP went back to ipv6_specific */
		if (tcp_ops == &ipv6_specific)
			WRITE_ONCE(icsk->icsk_af_ops, &mptcp_rs_subflow_v6_ops);
		return;
	}
	if (!smp_load_acquire(&mptcp_rs_ipv6_mapped)) {
		spin_lock_bh(&mptcp_rs_v6m_lock);
		if (!mptcp_rs_ipv6_mapped) {
			mptcp_rs_subflow_v6m_ops = *tcp_ops;
			mptcp_rs_subflow_v6m_ops.sk_rx_dst_set =
				mptcp_rs_subflow_v4_ops.sk_rx_dst_set;
			smp_store_release(&mptcp_rs_ipv6_mapped, tcp_ops);
		}
		spin_unlock_bh(&mptcp_rs_v6m_lock);
	}
	/* only what we copied: anything else is not TCP's ipv6_mapped */
	if (tcp_ops == mptcp_rs_ipv6_mapped)
		WRITE_ONCE(icsk->icsk_af_ops, &mptcp_rs_subflow_v6m_ops);
}
#else
void mptcp_rs_handle_mapped(struct sock *ssk, bool mapped)
{
}
#endif

/* The rx_dst_set of the ops our copy replaced. */
void mptcp_rs_af_ops_rx_dst_set(struct sock *sk, const struct sk_buff *skb)
{
#if IS_ENABLED(CONFIG_IPV6)
	if (inet_csk(sk)->icsk_af_ops == &mptcp_rs_subflow_v6_ops) {
		ipv6_specific.sk_rx_dst_set(sk, skb);
		return;
	}
	if (inet_csk(sk)->icsk_af_ops == &mptcp_rs_subflow_v6m_ops) {
		mptcp_rs_ipv6_mapped->sk_rx_dst_set(sk, skb);
		return;
	}
#endif
	ipv4_specific.sk_rx_dst_set(sk, skb);
}

/*
 * Makes @ssk an MPTCP subflow: our ULP context (freed by ops->release when the
 * socket is destroyed; the ULP holds a module reference), our af_ops, is_mptcp.
 */
void mptcp_rs_subflow_attach(struct sock *ssk, const struct tcp_ulp_ops *ops,
			     void *ctx, bool ipv6)
{
	struct inet_connection_sock *icsk = inet_csk(ssk);

	__module_get(ops->owner);
	rcu_assign_pointer(icsk->icsk_ulp_data, ctx);
	icsk->icsk_ulp_ops = ops;
	/* See mptcp_rs_subflow_ack_lowat(): no subflow-level low-water mark. */
	WRITE_ONCE(ssk->sk_rcvlowat, 0);
#if IS_ENABLED(CONFIG_IPV6)
	if (ipv6) {
		icsk->icsk_af_ops = &mptcp_rs_subflow_v6_ops;
		return;
	}
#endif
	icsk->icsk_af_ops = &mptcp_rs_subflow_v4_ops;
}

/*
 * The subflow context of @ssk, or NULL if its ULP is not ours. Also for lockless
 * readers of sockets that may have been freed and reused meanwhile (TCP's slab is
 * SLAB_TYPESAFE_BY_RCU): another ULP's data (kTLS, ...) is never taken for ours.
 */
void *mptcp_rs_subflow_ctx(const struct sock *ssk)
{
	const struct tcp_ulp_ops *ops = READ_ONCE(inet_csk(ssk)->icsk_ulp_ops);

	if (!ops || ops->owner != THIS_MODULE)
		return NULL;
	return rcu_dereference_raw(inet_csk(ssk)->icsk_ulp_data);
}

void mptcp_rs_set_is_mptcp(struct sock *ssk, bool on)
{
	tcp_sk(ssk)->is_mptcp = on;
}

/*
 * A DSS mapping covers at most 64 KB - 1 (16-bit data-level length) and the
 * same mapping goes on every segment cut from an skb, so subflow skbs must
 * stay below that: no BIG TCP, and no more segments per TSO skb than fit
 * (tcp_tso_autosize() asks for at least tcp_min_tso_segs, two 64 KB segments
 * on loopback). sk_setup_caps() may raise the limits again when the route
 * changes and the MSS changes with the path: the established-options hook
 * re-clamps before every transmission.
 */
void mptcp_rs_clamp_gso(struct sock *ssk)
{
	const unsigned int max = U16_MAX - MAX_TCP_HEADER;
	unsigned int mss = READ_ONCE(tcp_sk(ssk)->mss_cache);
	unsigned int segs = mss ? max(1U, max / mss) : 1;

	if (READ_ONCE(ssk->sk_gso_max_size) > max)
		WRITE_ONCE(ssk->sk_gso_max_size, max);
	if (READ_ONCE(ssk->sk_gso_max_segs) > segs)
		WRITE_ONCE(ssk->sk_gso_max_segs, segs);
}

bool mptcp_rs_is_mptcp(const struct sock *ssk)
{
	return sk_is_mptcp(ssk);
}

u32 mptcp_rs_tcp_copied_seq(const struct sock *ssk)
{
	return READ_ONCE(tcp_sk(ssk)->copied_seq);
}

u32 mptcp_rs_tcp_rcv_nxt(const struct sock *ssk)
{
	return READ_ONCE(tcp_sk(ssk)->rcv_nxt);
}

int mptcp_rs_icsk_retransmits(const struct sock *ssk)
{
	return READ_ONCE(inet_csk(ssk)->icsk_retransmits);
}

u32 mptcp_rs_tcp_inq(const struct sock *ssk)
{
	return tcp_inq((struct sock *)ssk);
}

void mptcp_rs_tcp_send_ack(struct sock *ssk)
{
	tcp_send_ack(ssk);
}

int mptcp_rs_tcp_sendmsg_locked(struct sock *ssk, struct msghdr *msg, size_t size)
{
	return tcp_sendmsg_locked(ssk, msg, size);
}

void mptcp_rs_tcp_cleanup_rbuf(struct sock *ssk, int copied)
{
	tcp_cleanup_rbuf(ssk, copied);
}

/*
 * Processes what waits in the backlog of @ssk, which the caller owns (what
 * arrived while it held the socket), as TCP's recvmsg does before it returns a
 * short read; false if the backlog was empty.
 */
bool mptcp_rs_flush_backlog(struct sock *ssk)
{
	return sk_flush_backlog(ssk);
}

/*
 * The reader took @copied bytes from @meta: receive buffer autotuning, then
 * the window update TCP's recvmsg would send. The subflow's copied_seq
 * advances when its data moves to the meta socket, so tcp_rcv_space_adjust()
 * measures what the subflow delivered in the last RTT and grows the subflow's
 * buffer and window clamp; the meta socket's buffer, whose free space is the
 * advertised window, follows. The caller owns both sockets.
 */
void mptcp_rs_subflow_read_done(struct sock *meta, struct sock *ssk, int copied)
{
	tcp_rcv_space_adjust(ssk);
	mptcp_rs_meta_grow_rcvbuf(meta, READ_ONCE(ssk->sk_rcvbuf));
	tcp_cleanup_rbuf(ssk, copied);
}

/*
 * With several subflows each one's autotuning sees its own share of the data:
 * the meta socket's buffer grows to the sum of theirs (@total), at most
 * tcp_rmem[2], unless the application set SO_RCVBUF.
 */
void mptcp_rs_meta_grow_rcvbuf(struct sock *meta, int total)
{
	int max = READ_ONCE(sock_net(meta)->ipv4.sysctl_tcp_rmem[2]);

	total = min(total, max);
	if (!(meta->sk_userlocks & SOCK_RCVBUF_LOCK) && total > READ_ONCE(meta->sk_rcvbuf))
		WRITE_ONCE(meta->sk_rcvbuf, total);
}

/* A joined subflow's share of a read: autotuning, then its window. Owned. */
int mptcp_rs_joined_read_done(struct sock *ssk, int copied)
{
	tcp_rcv_space_adjust(ssk);
	tcp_cleanup_rbuf(ssk, copied);
	return READ_ONCE(ssk->sk_rcvbuf);
}

/* skbs. */

u32 mptcp_rs_skb_seq(const struct sk_buff *skb)
{
	return TCP_SKB_CB(skb)->seq;
}

u32 mptcp_rs_skb_end_seq(const struct sk_buff *skb)
{
	return TCP_SKB_CB(skb)->end_seq;
}

u8 mptcp_rs_skb_tcp_flags(const struct sk_buff *skb)
{
	return TCP_SKB_CB(skb)->tcp_flags;
}

u32 mptcp_rs_skb_len(const struct sk_buff *skb)
{
	return skb->len;
}

/* The TCP options of a received segment whose header is still in place. */
const u8 *mptcp_rs_tcp_options(const struct sk_buff *skb, unsigned int *len)
{
	const struct tcphdr *th = tcp_hdr(skb);
	unsigned int hdr = th->doff * 4;

	if (hdr < sizeof(*th)) {
		*len = 0;
		return NULL;
	}
	*len = hdr - sizeof(*th);
	return (const u8 *)(th + 1);
}

/*
 * Ones-complement sum of @len payload bytes from @offset as big-endian 16-bit
 * words, folded, not complemented (what rust/proto/csum.rs calls a Sum).
 */
u16 mptcp_rs_skb_sum(const struct sk_buff *skb, unsigned int offset, unsigned int len)
{
	__sum16 folded = csum_fold(skb_checksum((struct sk_buff *)skb, offset, len, 0));

	return ntohs((__force __be16)(u16)~(__force u16)folded);
}

/*
 * The sum (as mptcp_rs_skb_sum() gives it) of the @len payload bytes from TCP
 * sequence number @seq, if the locked subflow's receive queue holds them all;
 * false while some have not arrived. The queue is in order; a byte is found in
 * the skb whose sequence range covers it.
 */
static u32 span_have(struct sock *ssk, u32 seq, u32 len)
{
	struct sk_buff *skb;
	u32 done = 0;

	skb_queue_walk(&ssk->sk_receive_queue, skb) {
		u32 start = TCP_SKB_CB(skb)->seq, want = seq + done, off;

		if (done == len || before(want, start))
			break;
		off = want - start;
		if (off >= skb->len)
			continue;
		done += min(skb->len - off, len - done);
	}
	return done;
}

bool mptcp_rs_subflow_span_sum(struct sock *ssk, u32 seq, u32 len, u16 *sum)
{
	struct sk_buff *skb;
	__wsum acc = 0;
	u32 done = 0;

	/* lengths first: while the mapping is incomplete nothing is summed again */
	if (span_have(ssk, seq, len) < len)
		return false;
	skb_queue_walk(&ssk->sk_receive_queue, skb) {
		u32 start = TCP_SKB_CB(skb)->seq, want = seq + done, off, n;

		if (done == len)
			break;
		if (before(want, start))
			return false;
		off = want - start;
		if (off >= skb->len)
			continue;
		n = min(skb->len - off, len - done);
		acc = csum_block_add(acc, skb_checksum(skb, off, n, 0), done);
		done += n;
	}
	if (done < len)
		return false;
	*sum = ntohs((__force __be16)(u16)~(__force u16)csum_fold(acc));
	return true;
}

bool mptcp_rs_skb_get_map(const struct sk_buff *skb, struct mptcp_rs_map *map)
{
	const struct mptcp_ext *ext = skb_ext_find(skb, SKB_EXT_MPTCP);

	if (!ext || !ext->use_map)
		return false;
	map->dsn = ext->data_seq;
	map->ssn = ext->subflow_seq;
	map->data_len = ext->data_len;
	map->csum = (__force u16)ext->csum;
	map->data_fin = ext->data_fin;
	map->csum_reqd = ext->csum_reqd;
	return true;
}

/* Returns false when no extension could be allocated (the mapping is lost). */
bool mptcp_rs_skb_set_map(struct sk_buff *skb, const struct mptcp_rs_map *map)
{
	struct mptcp_ext *ext = skb_ext_add(skb, SKB_EXT_MPTCP);

	if (!ext)
		return false;
	memset(ext, 0, sizeof(*ext));
	ext->data_seq = map->dsn;
	ext->subflow_seq = map->ssn;
	ext->data_len = map->data_len;
	ext->csum = (__force __sum16)map->csum;
	ext->use_map = 1;
	ext->dsn64 = 1;
	ext->data_fin = map->data_fin;
	ext->csum_reqd = map->csum_reqd;
	return true;
}

struct sk_buff *mptcp_rs_subflow_peek(struct sock *ssk)
{
	return skb_peek(&ssk->sk_receive_queue);
}

/* Drops the head of the subflow's receive queue as read (duplicate, FIN...). */
void mptcp_rs_subflow_consume(struct sock *ssk, struct sk_buff *skb)
{
	WRITE_ONCE(tcp_sk(ssk)->copied_seq, TCP_SKB_CB(skb)->end_seq);
	__skb_unlink(skb, &ssk->sk_receive_queue);
	__kfree_skb(skb);
}

/*
 * Charges @size bytes of receive memory to @sk whatever its protocol's limits
 * say, as sk_forced_mem_schedule() (not exported) does for TCP. False, with
 * nothing charged, for a socket charged to a memory cgroup, whose charge a
 * module cannot force.
 */
static bool mptcp_rs_force_rmem(struct sock *sk, int size)
{
	int delta = size - sk->sk_forward_alloc;
	int amt;

	if (delta <= 0)
		return true;
	if (mem_cgroup_sk_enabled(sk))
		return false;
	amt = sk_mem_pages(delta);
	sk_forward_alloc_add(sk, amt << PAGE_SHIFT);
	if (!sk->sk_bypass_prot_mem)
		sk_memory_allocated_add(sk, amt);
	return true;
}

/*
 * Moves the head of the subflow's receive queue to the meta socket (its
 * receive queue, or the out-of-order queue sorted by DSN), charging it to the
 * meta socket. Both sockets are locked by the caller. Returns -ENOMEM, and
 * leaves the skb where it is, when the meta socket cannot take it now.
 *
 * Out-of-order data the meta socket cannot charge while its receive queue is
 * empty is dropped instead (consumed from the subflow, counted as TCP's
 * TCPOFODrop) and -ENOBUFS returned: no reader can make room for it, and it
 * may stand in front of the hole's own bytes on the same subflow, which would
 * then wait behind it forever. It was never DATA_ACKed, so the peer sends it
 * again at the connection level.
 */
int mptcp_rs_subflow_move(struct sock *meta, struct sock *ssk, struct sk_buff *skb,
			  u64 dsn, u32 offset, bool ofo)
{
	struct mptcp_rs_skb_cb *cb;
	struct sk_buff_head *q;
	u32 end_seq = TCP_SKB_CB(skb)->end_seq;
	bool has_rxtstamp = TCP_SKB_CB(skb)->has_rxtstamp;

	/*
	 * As TCP's tcp_data_queue(): in-order data for an empty receive queue is
	 * taken beyond the memory limits, else a connection whose out-of-order
	 * queue holds what the memory allowed would wait for its hole forever.
	 */
	if (!sk_rmem_schedule(meta, skb, skb->truesize)) {
		bool empty = skb_queue_empty(&meta->sk_receive_queue);

		if (ofo && empty) {
			NET_INC_STATS(sock_net(meta), LINUX_MIB_TCPOFODROP);
			sk_drops_skbadd(meta, skb);
			mptcp_rs_subflow_consume(ssk, skb);
			return -ENOBUFS;
		}
		if (ofo || !empty || !mptcp_rs_force_rmem(meta, skb->truesize))
			return -ENOMEM;
	}

	__skb_unlink(skb, &ssk->sk_receive_queue);
	WRITE_ONCE(tcp_sk(ssk)->copied_seq, end_seq);
	skb_ext_reset(skb);
	skb_dst_drop(skb);
	skb_set_owner_r(skb, meta);

	cb = mptcp_rs_skb_cb(skb);
	cb->dsn = dsn;
	cb->offset = offset;
	cb->len = skb->len;
	cb->has_rxtstamp = has_rxtstamp;

	if (!ofo) {
		__skb_queue_tail(&meta->sk_receive_queue, skb);
		return 0;
	}

	q = &mptcp_rs_sk(meta)->ofo_queue;
	{
		struct sk_buff *pos;

		/* Sorted by DSN; the last entry is the likely neighbour. */
		skb_queue_reverse_walk(q, pos) {
			if (mptcp_rs_skb_cb(pos)->dsn <= dsn) {
				__skb_queue_after(q, pos, skb);
				return 0;
			}
		}
		__skb_queue_head(q, skb);
	}
	return 0;
}

struct sk_buff *mptcp_rs_ofo_peek(struct sock *meta)
{
	return skb_peek(&mptcp_rs_sk(meta)->ofo_queue);
}

void mptcp_rs_ofo_to_rcv(struct sock *meta, struct sk_buff *skb)
{
	__skb_unlink(skb, &mptcp_rs_sk(meta)->ofo_queue);
	__skb_queue_tail(&meta->sk_receive_queue, skb);
}

void mptcp_rs_ofo_drop(struct sock *meta, struct sk_buff *skb)
{
	__skb_unlink(skb, &mptcp_rs_sk(meta)->ofo_queue);
	__kfree_skb(skb);
}

struct sk_buff *mptcp_rs_rcv_peek(struct sock *meta)
{
	return skb_peek(&meta->sk_receive_queue);
}

void mptcp_rs_rcv_free(struct sock *meta, struct sk_buff *skb)
{
	__skb_unlink(skb, &meta->sk_receive_queue);
	__kfree_skb(skb);
}

int mptcp_rs_skb_copy_msg(const struct sk_buff *skb, int offset, struct msghdr *msg, int len)
{
	return skb_copy_datagram_msg(skb, offset, msg, len);
}

u64 mptcp_rs_random_u64(void)
{
	return get_random_u64();
}

/*
 * The option bytes the established/SYN hooks prepare travel to the
 * write_options hook inside struct mptcp_out_options: the union holds the
 * encoded option, @suboptions its length.
 */
u8 *mptcp_rs_out_buf(struct mptcp_out_options *opts, size_t *cap)
{
	BUILD_BUG_ON(sizeof(*opts) - offsetof(struct mptcp_out_options, sndr_key) < 32);
	*cap = sizeof(*opts) - offsetof(struct mptcp_out_options, sndr_key);
	return (u8 *)&opts->sndr_key;
}

void mptcp_rs_out_set_len(struct mptcp_out_options *opts, u16 len)
{
	opts->suboptions = len;
}

void mptcp_rs_out_drop_ts(struct mptcp_out_options *opts)
{
	opts->drop_ts = 1;
}

u16 mptcp_rs_out_len(const struct mptcp_out_options *opts)
{
	return opts->suboptions;
}

/*
 * Whether the prepared options carry a DATA_ACK (for the write_options hook):
 * kept in @backup, which only upstream's own option writer reads.
 */
void mptcp_rs_out_set_data_ack(struct mptcp_out_options *opts, bool data_ack)
{
	opts->backup = data_ack;
}

bool mptcp_rs_out_data_ack(const struct mptcp_out_options *opts)
{
	return opts->backup;
}

u32 mptcp_rs_tcp_rcv_wnd(const struct tcp_sock *tp)
{
	return tp->rcv_wnd;
}

/*
 * The header TCP is writing announces tp->rcv_wnd, the window it chose for this
 * subflow; another subflow announced the connection's edge @win bytes beyond our
 * DATA_ACK, further: this one announces that much too (upstream's
 * mptcp_set_rwin()), and takes data up to there. Not while data of this subflow
 * waits in its own queues (the DATA_ACK does not count it yet, so the window from
 * there would cover it twice; what it put in the meta socket's out-of-order queue
 * is counted in the free space the other subflows announced), nor when TCP
 * announces 0 for lack of memory (ICSK_ACK_NOMEM). True when raised. Called from
 * the write_options hook, the header's other fields written.
 */
bool mptcp_rs_raise_rcv_wnd(struct tcp_sock *tp, struct tcphdr *th, u64 win)
{
	struct sock *ssk = (struct sock *)tp;
	u32 new_win = min_t(u64, win, U32_MAX);

	if (th->syn || atomic_read(&ssk->sk_rmem_alloc) || READ_ONCE(ssk->sk_backlog.len) ||
	    (inet_csk(ssk)->icsk_ack.pending & ICSK_ACK_NOMEM))
		return false;
	tp->rcv_wnd = new_win;
	tcp_update_max_rcv_wnd_seq(tp);
	if (!tp->rx_opt.rcv_wscale &&
	    READ_ONCE(sock_net((struct sock *)tp)->ipv4.sysctl_tcp_workaround_signed_windows))
		new_win = min(new_win, MAX_TCP_WINDOW);
	else
		new_win = min(new_win, 65535U << tp->rx_opt.rcv_wscale);
	th->window = htons(new_win >> tp->rx_opt.rcv_wscale);
	return true;
}

u32 mptcp_rs_tcp_write_seq(const struct sock *ssk)
{
	return READ_ONCE(tcp_sk(ssk)->write_seq);
}

/*
 * A subflow's data moves to the meta socket as soon as it arrives, so
 * copied_seq always equals rcv_nxt and TCP's "the reader is below its
 * low-water mark" test in __tcp_ack_snd_check() would ACK every segment:
 * subflows have sk_rcvlowat 0 (set when attached), and the test is done here,
 * from sk_data_ready (before TCP's ACK check), against the meta socket's
 * queue and low-water mark. Otherwise the subflow ACKs as TCP does when its
 * window moves, and when the reader frees space (tcp_cleanup_rbuf()).
 */
void mptcp_rs_subflow_ack_lowat(struct sock *ssk, const struct sock *meta)
{
	const struct tcp_sock *tp = tcp_sk(ssk);
	struct inet_connection_sock *icsk = inet_csk(ssk);

	if (atomic_read(&meta->sk_rmem_alloc) < READ_ONCE(meta->sk_rcvlowat) &&
	    tp->rcv_nxt - tp->rcv_wup > icsk->icsk_ack.rcv_mss)
		icsk->icsk_ack.pending |= ICSK_ACK_NOW;
}

/* The segment being received gets its ACK at once (__tcp_ack_snd_check()). */
void mptcp_rs_ack_now(struct sock *ssk)
{
	inet_csk(ssk)->icsk_ack.pending |= ICSK_ACK_SCHED | ICSK_ACK_NOW;
}

void mptcp_rs_schedule_ack(struct sock *ssk)
{
	inet_csk_schedule_ack(ssk);
}

struct sk_buff *mptcp_rs_rcv_next(struct sock *meta, struct sk_buff *skb)
{
	return skb_peek_next(skb, &meta->sk_receive_queue);
}

/* Operations on a subflow's struct socket. */

int mptcp_rs_sf_bind(struct socket *sf, void *addr, int len)
{
	return kernel_bind(sf, addr, len);
}

int mptcp_rs_sf_connect(struct socket *sf, void *addr, int len)
{
	int err = kernel_connect(sf, addr, len, O_NONBLOCK);

	return err == -EINPROGRESS ? 0 : err;
}

int mptcp_rs_sf_setsockopt(struct socket *sf, int level, int name, void *optval_sockptr,
			   unsigned int len)
{
	return sf->ops->setsockopt(sf, level, name, *(sockptr_t *)optval_sockptr, len);
}

int mptcp_rs_sf_getsockopt(struct socket *sf, int level, int name, char *optval, int *optlen)
{
	return sf->sk->sk_prot->getsockopt(sf->sk, level, name, optval, optlen);
}

/*
 * SOL_SOCKET options are the meta socket's (buffers, timeouts, SO_ERROR), and
 * those that shape the connection on the wire also go to the subflow.
 */
int mptcp_rs_sol_socket_setsockopt(struct sock *meta, struct socket *sf, int name,
				   void *optval_sockptr, unsigned int len)
{
	sockptr_t optval = *(sockptr_t *)optval_sockptr;
	int err = sock_setsockopt(meta->sk_socket, SOL_SOCKET, name, optval, len);

	if (err || !sf)
		return err;
	switch (name) {
	case SO_RCVLOWAT:
	case SO_RCVTIMEO_OLD:
	case SO_RCVTIMEO_NEW:
	case SO_SNDTIMEO_OLD:
	case SO_SNDTIMEO_NEW:
	case SO_BUSY_POLL:
	case SO_PREFER_BUSY_POLL:
	case SO_BUSY_POLL_BUDGET:
		return 0;
	}
	sock_setsockopt(sf, SOL_SOCKET, name, optval, len);
	return 0;
}

void mptcp_rs_set_custom_sockopt(struct sock *meta)
{
	if (meta->sk_socket)
		set_bit(SOCK_CUSTOM_SOCKOPT, &meta->sk_socket->flags);
}

void mptcp_rs_sf_release(struct socket *sf)
{
	sock_release(sf);
}

struct sock *mptcp_rs_sf_sk(struct socket *sf)
{
	return sf->sk;
}

/*
 * A protocol error on a subflow (its data is not the connection's): the error
 * EBADMSG for the connection to see, and what waits on its receive queue
 * dropped as read, as upstream's subflow_check_data_avail() does before its
 * reset. Subflow locked.
 */
void mptcp_rs_subflow_fail_rcv(struct sock *ssk)
{
	WRITE_ONCE(ssk->sk_err, EBADMSG);
	mptcp_rs_subflow_drop_rcv(ssk);
}

/* Drops what waits on a subflow's receive queue, as read. Subflow locked. */
void mptcp_rs_subflow_drop_rcv(struct sock *ssk)
{
	struct sk_buff *skb;

	while ((skb = skb_peek(&ssk->sk_receive_queue))) {
		WRITE_ONCE(tcp_sk(ssk)->copied_seq, TCP_SKB_CB(skb)->end_seq);
		sk_eat_skb(ssk, skb);
	}
}

/* Aborts a subflow: RST to the peer, socket closed. Subflow locked. */
void mptcp_rs_subflow_reset(struct sock *ssk)
{
	if (ssk->sk_state == TCP_CLOSE)
		return;
	tcp_send_active_reset(ssk, SK_RST_REASON_MPTCP_RST_EMPTCP);
	tcp_done(ssk);
}

void mptcp_rs_tcp_shutdown(struct sock *ssk, int how)
{
	tcp_shutdown(ssk, how);
}

/*
 * The connection fell back to TCP with our DATA_FIN queued: only the subflow's
 * FIN can carry it now. Subflow locked, in softirq (incoming options), so the
 * FIN's skb is allocated atomically.
 */
void mptcp_rs_fallback_fin(struct sock *ssk)
{
	gfp_t gfp = ssk->sk_allocation;

	if (ssk->sk_shutdown & SEND_SHUTDOWN)
		return;
	ssk->sk_allocation = GFP_ATOMIC;
	tcp_shutdown(ssk, SEND_SHUTDOWN);
	ssk->sk_allocation = gfp;
}

/*
 * The subflow is released from a work item after the connection lingered: its
 * close must not wait (SO_LINGER, copied from the meta socket, was honoured by
 * the application's close already).
 */
void mptcp_rs_sf_no_linger(struct sock *ssk)
{
	sock_reset_flag(ssk, SOCK_LINGER);
}

/*
 * The receive buffer of a connection is the meta socket's. Its free space is
 * the subflow's receive window (mptcp_rs_space()), so it starts as TCP's does,
 * at tcp_rmem[1], and grows with the subflow's autotuning
 * (mptcp_rs_subflow_read_done()) unless the application set SO_RCVBUF. A
 * buffer far larger than the window TCP would offer keeps the window at the
 * subflow's rcv_ssthresh, which the data moved off the subflow never lowers:
 * TCP then ACKs every segment (its right edge always advances).
 */
void mptcp_rs_meta_init_rcvbuf(struct sock *sk)
{
	if (!(sk->sk_userlocks & SOCK_RCVBUF_LOCK))
		WRITE_ONCE(sk->sk_rcvbuf, READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_rmem[1]));
}

/* Hooks our destructor in front of the one inet_create() installed. */
void mptcp_rs_meta_setup(struct sock *sk, void (*destruct)(struct sock *),
			 void (**old)(struct sock *))
{
	*old = sk->sk_destruct;
	sk->sk_destruct = destruct;
	mptcp_rs_meta_init_queues(sk);
	mptcp_rs_meta_init_rcvbuf(sk);
}

int mptcp_rs_sock_error(struct sock *sk)
{
	return sock_error(sk);
}

/* Request sockets. */

/*
 * TCP does not initialise drop_req (MPTCP's "do not queue this child for
 * accept()", for MP_JOIN subflows): with is_mptcp set, a stale bit from the
 * slab would make tcp_check_req() hand the child to nobody.
 */
void mptcp_rs_req_set_mptcp(struct request_sock *req, bool on)
{
	tcp_rsk(req)->drop_req = false;
	tcp_rsk(req)->is_mptcp = on;
}

/* The join child is not queued for accept(): tcp_check_req() drops the request. */
void mptcp_rs_req_set_drop(struct request_sock *req)
{
	tcp_rsk(req)->drop_req = true;
}

/* Whether @req arrived on the address the meta socket's first subflow uses. */
bool mptcp_rs_req_local_is_initial(const struct request_sock *req, const struct sock *meta)
{
	const struct inet_request_sock *ireq = inet_rsk(req);

#if IS_ENABLED(CONFIG_IPV6)
	if (req->rsk_ops->family == AF_INET6)
		return meta->sk_family == AF_INET6 &&
		       ipv6_addr_equal(&ireq->ir_v6_loc_addr, &meta->sk_v6_rcv_saddr);
#endif
	return ireq->ir_loc_addr == meta->sk_rcv_saddr;
}

/* The local address of @req into @addr (IPv4: the first 4 bytes); its family. */
int mptcp_rs_req_local_addr(const struct request_sock *req, u8 *addr)
{
	const struct inet_request_sock *ireq = inet_rsk(req);

	memset(addr, 0, 16);
#if IS_ENABLED(CONFIG_IPV6)
	if (req->rsk_ops->family == AF_INET6) {
		memcpy(addr, &ireq->ir_v6_loc_addr, 16);
		return AF_INET6;
	}
#endif
	memcpy(addr, &ireq->ir_loc_addr, 4);
	return AF_INET;
}

bool mptcp_rs_req_syncookie(const struct request_sock *req)
{
	return req->syncookie;
}

/* Whether two sockets use the same local port. */
bool mptcp_rs_same_sport(const struct sock *a, const struct sock *b)
{
	return inet_sk(a)->inet_sport == inet_sk(b)->inet_sport;
}

/* Whether two sockets use the same remote port. */
bool mptcp_rs_same_dport(const struct sock *a, const struct sock *b)
{
	return inet_sk(a)->inet_dport == inet_sk(b)->inet_dport;
}

/* Sends the reset refusing a request whose third ACK @skb we do not accept. */
void mptcp_rs_req_send_reset(const struct sock *listener, struct sk_buff *skb,
			     struct request_sock *req)
{
	req->rsk_ops->send_reset(listener, skb, SK_RST_REASON_MPTCP_RST_EMPTCP);
}

/*
 * Closes a joined subflow the meta socket owns (its last reference but the
 * ones TCP holds): FIN, or RST with unread data, then TCP finishes on its own.
 * Process context.
 */
void mptcp_rs_joined_close(struct sock *ssk)
{
	struct socket *sf = READ_ONCE(ssk->sk_socket);

	/* its own struct socket (mptcp_rs_graft_subflow()) goes with it */
	if (sf && sf->sk == ssk)
		sock_release(sf);
	else
		ssk->sk_prot->close(ssk, 0);
}

static void mptcp_rs_close_work_fn(struct work_struct *work)
{
	struct mptcp_rs_close_work *w = container_of(work, struct mptcp_rs_close_work, work);
	struct sock *ssk = w->ssk;

	w->ssk = NULL;
	if (ssk)
		mptcp_rs_joined_close(ssk);
}

void mptcp_rs_close_work_init(struct mptcp_rs_close_work *w)
{
	INIT_WORK(&w->work, mptcp_rs_close_work_fn);
	w->ssk = NULL;
}

/* mptcp_rs_joined_close(@ssk) from a workqueue (any context). */
void mptcp_rs_close_work_schedule(struct mptcp_rs_close_work *w, struct sock *ssk)
{
	w->ssk = ssk;
	schedule_work(&w->work);
}

bool mptcp_rs_req_is_mptcp(const struct request_sock *req)
{
	return rsk_is_mptcp(req);
}

const struct sock *mptcp_rs_req_listener(const struct request_sock *req)
{
	return req->rsk_listener;
}

/* The connection's identity, for deriving our key from it: addresses, ports, ISN. */
size_t mptcp_rs_req_tuple(const struct request_sock *req, u8 *buf, size_t len)
{
	const struct inet_request_sock *ireq = inet_rsk(req);
	struct {
		struct in6_addr loc, rmt;
		__be16 lport, rport;
		u32 isn;
	} __packed t = {};

	if (len < sizeof(t))
		return 0;
#if IS_ENABLED(CONFIG_IPV6)
	if (req->rsk_ops->family == AF_INET6) {
		t.loc = ireq->ir_v6_loc_addr;
		t.rmt = ireq->ir_v6_rmt_addr;
	} else
#endif
	{
		t.loc.s6_addr32[3] = ireq->ir_loc_addr;
		t.rmt.s6_addr32[3] = ireq->ir_rmt_addr;
	}
	t.lport = htons(ireq->ir_num);
	t.rport = ireq->ir_rmt_port;
	t.isn = tcp_rsk(req)->snt_isn;
	memcpy(buf, &t, sizeof(t));
	return sizeof(t);
}

u32 mptcp_rs_req_snt_isn(const struct request_sock *req)
{
	return tcp_rsk(req)->snt_isn;
}

u32 mptcp_rs_req_rcv_isn(const struct request_sock *req)
{
	return tcp_rsk(req)->rcv_isn;
}

/*
 * Disposes of @child, which TCP's syn_recv_sock created for @req and hashed in
 * its place (own_req), when we will not serve it, as upstream's
 * subflow_syn_recv_sock() does: tcp_check_req() drops the request (drop_req:
 * its timer, the listener's queue count and the lookup reference go with it),
 * the child is closed and destroyed here (its port released under its own
 * bucket's lock, see below) and stays locked with the reference its
 * caller releases (tcp_child_process() discards the segment on a closed
 * socket), and the third ACK is answered with a reset. Returns @child for
 * syn_recv_sock to return. (Returning NULL instead would leave the request
 * unhashed, counted in the listener's queue for good, resending SYN/ACKs.)
 */
struct sock *mptcp_rs_dispose_child(const struct sock *listener, struct sk_buff *skb,
				    struct request_sock *req, struct sock *child)
	__must_hold(&child->sk_lock.slock)
{
	u16 port = inet_sk(child)->inet_num;

	tcp_rsk(req)->drop_req = true;
	/*
	 * inet_csk_prepare_for_destroy_sock() (SOCK_DEAD, the orphan count) is not
	 * exported: inet_csk_prepare_forced_close() does it, but also lets go of
	 * the lock and a reference and forgets the port, which are taken back.
	 * The child leaves the established hash first, under its lock: a segment
	 * of the same 4-tuple on another CPU, waiting for that lock, then finds it
	 * closed and discards (an RST processed on it in the window would destroy
	 * it a second time). Closing it here also releases the port, unless the
	 * listener's was bound explicitly; then destruction releases it, under
	 * the bucket lock of the port restored here.
	 */
	tcp_set_state(child, TCP_CLOSE);
	TCP_INC_STATS(sock_net(child), TCP_MIB_ATTEMPTFAILS);
	sock_hold(child);
	inet_csk_prepare_forced_close(child);
	bh_lock_sock(child);
	if (inet_csk(child)->icsk_bind_hash)
		WRITE_ONCE(inet_sk(child)->inet_num, port);
	tcp_done(child);
	req->rsk_ops->send_reset(listener, skb, SK_RST_REASON_MPTCP_RST_EMPTCP);
	return child;
}

/*
 * Disposes of a child socket that is not hashed in a request's place (one taken
 * from the accept queue).
 */
void mptcp_rs_forced_close(struct sock *child)
{
	inet_csk_prepare_forced_close(child);
	tcp_done(child);
}

/* Listening and accepting. */

int mptcp_rs_sf_listen(struct socket *sf, int backlog)
{
	return kernel_listen(sf, backlog);
}

unsigned int mptcp_rs_listen_poll(const struct sock *ssk)
{
	return inet_csk_listen_poll(ssk);
}

struct sock *mptcp_rs_accept_child(struct sock *listener, struct proto_accept_arg *arg, int *err)
{
	struct sock *child = inet_csk_accept(listener, arg);

	*err = child ? 0 : arg->err;
	return child;
}

/* A struct socket for an accepted subflow, so it is released like the others. */
int mptcp_rs_socket_for(struct sock *ssk, struct socket **res)
{
	struct socket *sf;
	int err;

	err = sock_create_lite(ssk->sk_family, SOCK_STREAM, IPPROTO_TCP, &sf);
	if (err)
		return err;
#if IS_ENABLED(CONFIG_IPV6)
	if (ssk->sk_family == AF_INET6)
		sf->ops = &inet6_stream_ops;
	else
#endif
		sf->ops = &inet_stream_ops;
	__module_get(sf->ops->owner);
	lock_sock(ssk);
	sock_graft(ssk, sf);
	release_sock(ssk);
	sf->state = SS_CONNECTED;
	*res = sf;
	return 0;
}

void mptcp_rs_graft(struct sock *meta, struct socket *newsock)
{
	lock_sock(meta);
	sock_graft(meta, newsock);
	release_sock(meta);
	newsock->state = SS_CONNECTED;
	mptcp_rs_set_custom_sockopt(meta);
}

/*
 * A new meta socket for a connection a listener accepted, cloned from the
 * listening meta socket (family, options, security context). It starts with
 * @destruct and no Rust state; two references (sk_clone()).
 */
struct sock *mptcp_rs_meta_clone(const struct sock *listener, void (*destruct)(struct sock *))
{
	struct sock *nsk = sk_clone(listener, GFP_ATOMIC, false);

	if (!nsk)
		return NULL;
	nsk->sk_destruct = destruct;
	mptcp_rs_sk(nsk)->state = NULL;
	mptcp_rs_meta_init_rcvbuf(nsk);
	__skb_queue_head_init(&mptcp_rs_sk(nsk)->ofo_queue);
	mptcp_rs_token_init(nsk);
#if IS_ENABLED(CONFIG_IPV6)
	if (nsk->sk_family == AF_INET6)
		inet_sk(nsk)->pinet6 = (void *)nsk + nsk->sk_prot->ipv6_pinfo_offset;
#endif
	return nsk;
}

void mptcp_rs_set_destruct(struct sock *sk, void (*destruct)(struct sock *))
{
	sk->sk_destruct = destruct;
}

void mptcp_rs_set_ulp_ctx(struct sock *ssk, void *ctx)
{
	rcu_assign_pointer(inet_csk(ssk)->icsk_ulp_data, ctx);
	WRITE_ONCE(ssk->sk_rcvlowat, 0);
}

/* A clone we could not give a context: plain TCP, no ULP (and no module ref). */
void mptcp_rs_ulp_detach(struct sock *ssk)
{
	inet_csk(ssk)->icsk_ulp_ops = NULL;
	rcu_assign_pointer(inet_csk(ssk)->icsk_ulp_data, NULL);
	tcp_sk(ssk)->is_mptcp = 0;
}

