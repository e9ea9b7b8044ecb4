/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C helpers of the mptcp_rs socket layer (rust/net_shim.c): the kernel's
 * static inline socket, TCP and skb helpers, and the fields of structures
 * whose Rust view is opaque (struct tcp_sock, struct inet_connection_sock).
 * Each helper does one thing; the protocol logic stays in Rust.
 */
#ifndef MPTCP_RS_NET_SHIM_H
#define MPTCP_RS_NET_SHIM_H

#include <linux/types.h>
#include <linux/workqueue.h>

struct file;
struct inet_connection_sock_af_ops;
struct mptcp_ext;
struct msghdr;
struct net;
struct proto;
struct sk_buff;
struct request_sock_ops;
struct sock;
struct socket;
struct tcp_ulp_ops;

/*
 * The meta socket as the socket core sees it: an inet_connection_sock, the
 * pointer to the Rust state and the meta out-of-order queue. IPv6 sockets
 * append struct ipv6_pinfo (struct mptcp_rs6_sock in net_shim.c).
 */
size_t mptcp_rs_meta_obj_size(bool ipv6);
size_t mptcp_rs_meta_ipv6_pinfo_offset(void);
void *mptcp_rs_meta_state(const struct sock *sk);
void mptcp_rs_meta_set_state_ptr(struct sock *sk, void *state);
void mptcp_rs_meta_init_queues(struct sock *sk);
void mptcp_rs_meta_purge_queues(struct sock *sk);
void mptcp_rs_meta_purge_rcv(struct sock *sk);

/* Data that the meta socket keeps in skb->cb while an skb is on its queues. */
struct mptcp_rs_skb_cb {
	u64 dsn;	/* data sequence number of the first byte */
	u32 offset;	/* bytes already consumed (read, or duplicate) */
	u32 len;	/* payload bytes */
	bool has_rxtstamp;	/* TCP's receive timestamp is set (recvmsg cmsgs) */
};

struct mptcp_rs_skb_cb *mptcp_rs_skb_cb(struct sk_buff *skb);

/* Socket locking and state. */
void mptcp_rs_lock_sock(struct sock *sk);
bool mptcp_rs_owned_by_user(const struct sock *sk);
void mptcp_rs_data_lock(struct sock *sk);
void mptcp_rs_data_unlock(struct sock *sk);
int mptcp_rs_sk_state(const struct sock *sk);
void mptcp_rs_set_shutdown(struct sock *sk, u8 how);
void mptcp_rs_clear_shutdown(struct sock *sk);
u8 mptcp_rs_shutdown(const struct sock *sk);
void mptcp_rs_set_err(struct sock *sk, int err);
int mptcp_rs_sk_err(const struct sock *sk);
/* net.ipv4.tcp_rto_max_ms of @net */
u32 mptcp_rs_tcp_rto_max_ms(const struct net *net);
int mptcp_rs_sock_error(struct sock *sk);
void mptcp_rs_sock_hold(struct sock *sk);
void mptcp_rs_sock_put(struct sock *sk);
/* call_rcu() and rcu_barrier(), for the subflow contexts */
void mptcp_rs_call_rcu(struct rcu_head *head, rcu_callback_t fn);
void mptcp_rs_rcu_barrier(void);
bool mptcp_rs_linger_zero(const struct sock *sk);
void mptcp_rs_ack_now(struct sock *ssk);
struct sock *mptcp_rs_token_next(const struct net *net, long *slot, long *num);
void mptcp_rs_listener_add(struct sock *sk);
void mptcp_rs_listener_remove(struct sock *sk);
struct sock *mptcp_rs_listener_next(const struct net *net, long *num);
struct mptcp_info;
typedef struct sock *(*mptcp_rs_diag_first_t)(struct sock *sk);
typedef void (*mptcp_rs_diag_fill_t)(struct sock *sk, struct mptcp_info *info);
struct mptcp_rs_subflow_info {
	bool valid;
	u8 id_rem;
	u8 id_loc;
	u16 map_datalen;
	u32 token_rem;
	u32 token_loc;
	u32 flags;
	u32 rel_write_seq;
	u32 map_sfseq;
	u32 ssn_offset;
	u64 map_seq;
};
typedef void (*mptcp_rs_subflow_fill_t)(struct sock *ssk, struct mptcp_rs_subflow_info *out);
int mptcp_rs_subflow_get_info(struct sock *sk, struct sk_buff *skb, bool net_admin);
size_t mptcp_rs_subflow_get_info_size(const struct sock *sk, bool net_admin);
int mptcp_rs_diag_register(struct module *owner, mptcp_rs_diag_first_t first,
			   mptcp_rs_diag_fill_t fill, mptcp_rs_subflow_fill_t subflow_fill);
void mptcp_rs_diag_unregister(void);
struct mptcp_rs_subflow_stats {
	u64 bytes_sent;
	u64 bytes_retrans;
	u32 retransmits;
	u32 last_data_sent;
	u32 last_data_recv;
	u32 last_ack_recv;
};
void mptcp_rs_subflow_stats(struct sock *ssk, struct mptcp_rs_subflow_stats *out);
int mptcp_rs_put_sockopt(char __user *optval, int __user *optlen, const void *buf, size_t size);
int mptcp_rs_token_insert(struct sock *sk, u32 token);
void mptcp_rs_token_remove(struct sock *sk);
u32 mptcp_rs_meta_token(const struct sock *sk);
struct sock *mptcp_rs_token_lookup(const struct net *net, u32 token);
int mptcp_rs_token_selftest(void);
void mptcp_rs_handle_mapped(struct sock *ssk, bool mapped);
bool mptcp_rs_sock_dead(const struct sock *sk);
void mptcp_rs_sock_orphan(struct sock *sk);
long mptcp_rs_rcvtimeo(const struct sock *sk, bool noblock);
long mptcp_rs_sndtimeo(const struct sock *sk, bool noblock);
int mptcp_rs_sock_intr_errno(long timeo);
bool mptcp_rs_signal_pending(void);
int mptcp_rs_wait(struct sock *sk, long *timeo, bool (*cond)(struct sock *sk));
void mptcp_rs_wake_readers(struct sock *sk);
void mptcp_rs_wake_state(struct sock *sk);
void mptcp_rs_close_wait(struct sock *sk, long timeout, bool (*done)(struct sock *sk));
void mptcp_rs_wake_writers(struct sock *sk);
void mptcp_rs_error_report(struct sock *sk);
unsigned int mptcp_rs_poll_wait(struct file *file, struct socket *sock, void *wait);
struct sock *mptcp_rs_socket_sk(struct socket *sock);
struct net *mptcp_rs_sock_net(const struct sock *sk);
int mptcp_rs_sk_family(const struct sock *sk);
bool mptcp_rs_sk_kern(const struct sock *sk);
void mptcp_rs_copy_addrs(struct sock *meta, const struct sock *ssk);
void mptcp_rs_set_nospace(struct sock *ssk);
bool mptcp_rs_stream_writeable(const struct sock *ssk);
bool mptcp_rs_rcv_queue_empty(const struct sock *sk);
/* The socket callbacks TCP installed on a subflow, replaced by ours. */
struct mptcp_rs_sk_callbacks {
	void (*data_ready)(struct sock *sk);
	void (*state_change)(struct sock *sk);
	void (*write_space)(struct sock *sk);
	void (*error_report)(struct sock *sk);
};

void mptcp_rs_sk_swap_callbacks(struct sock *ssk, struct mptcp_rs_sk_callbacks *cbs);

/*
 * Free receive space of the connection as the peer's window counts it: the meta
 * socket's buffer less what it holds and what waits on @ssk (may be NULL), in
 * bytes; negative when over. Lockless reads.
 */
int mptcp_rs_meta_free_space(const struct sock *meta, const struct sock *ssk);
void mptcp_rs_space(const struct sock *ssk, const struct sock *meta, int *space,
		    int *full_space);

/* Subflows: kernel TCP sockets with the module's ULP context. */
int mptcp_rs_subflow_create(struct sock *meta, int family, struct socket **res);
void mptcp_rs_subflow_attach(struct sock *ssk, const struct tcp_ulp_ops *ops,
			     void *ctx, bool ipv6);
void *mptcp_rs_subflow_ctx(const struct sock *ssk);
void mptcp_rs_set_is_mptcp(struct sock *ssk, bool on);
void mptcp_rs_clamp_gso(struct sock *ssk);
bool mptcp_rs_is_mptcp(const struct sock *ssk);
struct dst_entry;
struct proto_accept_arg;
struct request_sock;
typedef struct sock *(*mptcp_rs_syn_recv_sock_t)(const struct sock *sk, struct sk_buff *skb,
						 struct request_sock *req,
						 struct dst_entry *dst,
						 struct request_sock *req_unhash,
						 bool *own_req,
						 void (*opt_child_init)(struct sock *newsk,
									const struct sock *sk));
/* What req_init decides about a SYN on one of our listeners */
enum {
	MPTCP_RS_REQ_RESET = 0,	/* refused: answered with a reset */
	MPTCP_RS_REQ_ACCEPT = 1,	/* answered with a SYN/ACK */
	MPTCP_RS_REQ_DROP = 2,	/* dropped silently: the peer sends it again */
};
void mptcp_rs_af_ops_init(void (*rx_dst_set)(struct sock *, const struct sk_buff *),
			  mptcp_rs_syn_recv_sock_t syn_recv_sock,
			  int (*req_init)(struct request_sock *req, const struct sock *listener,
					  const struct sk_buff *skb));
struct sock *mptcp_rs_af_ops_syn_recv_sock(const struct sock *sk, struct sk_buff *skb,
					   struct request_sock *req,
					   struct dst_entry *dst,
					   struct request_sock *req_unhash,
					   bool *own_req,
					   void (*opt_child_init)(struct sock *newsk,
								  const struct sock *sk));

/* Request sockets (passive side). */
void mptcp_rs_req_set_mptcp(struct request_sock *req, bool on);
/*
 * The MP_JOIN state of a request of one of our listeners, from its SYN to its
 * third ACK (rust/join.rs); all zero until the SYN showed MP_JOIN.
 */
struct mptcp_rs_join_req {
	struct sock *meta;	/* the connection joined, with a reference; or NULL */
	u64 thmac;		/* our truncated HMAC, sent on the SYN/ACK */
	u32 local_nonce;
	u32 remote_nonce;
	u8 local_id;
	u8 remote_id;
	bool backup;		/* the peer asked for a backup subflow */
	bool local_backup;	/* so do we (our endpoint's flag), on the SYN/ACK */
	bool join;		/* the SYN carried MP_JOIN and was accepted */
};

struct mptcp_rs_join_req *mptcp_rs_req_join(const struct request_sock *req);
int mptcp_rs_req_ops_init(void);
void mptcp_rs_req_ops_exit(void);
void mptcp_rs_req_set_drop(struct request_sock *req);
bool mptcp_rs_req_local_is_initial(const struct request_sock *req, const struct sock *meta);
int mptcp_rs_req_local_addr(const struct request_sock *req, u8 *addr);
bool mptcp_rs_req_syncookie(const struct request_sock *req);
struct request_sock *mptcp_rs_cookie_reqsk_alloc(const struct request_sock_ops *ops,
						 struct sock *sk_listener, bool attach_listener);
void mptcp_rs_join_cookie_store(const struct net *net, const struct request_sock *req,
				const struct sk_buff *syn, u32 token);
bool mptcp_rs_join_cookie_take(const struct sock *listener, struct request_sock *req,
			       const struct sk_buff *ack, u32 *token);
bool mptcp_rs_same_sport(const struct sock *a, const struct sock *b);
bool mptcp_rs_same_dport(const struct sock *a, const struct sock *b);
void mptcp_rs_req_send_reset(const struct sock *listener, struct sk_buff *skb,
			     struct request_sock *req);
void mptcp_rs_joined_close(struct sock *ssk);
/* Closes a joined subflow later, from a context that cannot sleep. */
struct mptcp_rs_close_work {
	struct work_struct work;
	struct sock *ssk;
};

void mptcp_rs_close_work_init(struct mptcp_rs_close_work *w);
void mptcp_rs_close_work_schedule(struct mptcp_rs_close_work *w, struct sock *ssk);
bool mptcp_rs_req_is_mptcp(const struct request_sock *req);
const struct sock *mptcp_rs_req_listener(const struct request_sock *req);
size_t mptcp_rs_req_tuple(const struct request_sock *req, u8 *buf, size_t len);
u32 mptcp_rs_req_snt_isn(const struct request_sock *req);
u32 mptcp_rs_req_rcv_isn(const struct request_sock *req);
void mptcp_rs_forced_close(struct sock *child);
struct sock *mptcp_rs_dispose_child(const struct sock *listener, struct sk_buff *skb,
				    struct request_sock *req, struct sock *child);

/* Listening and accepting. */
int mptcp_rs_sf_listen(struct socket *sf, int backlog);
unsigned int mptcp_rs_listen_poll(const struct sock *ssk);
struct sock *mptcp_rs_accept_child(struct sock *listener, struct proto_accept_arg *arg, int *err);
int mptcp_rs_socket_for(struct sock *ssk, struct socket **res);
void mptcp_rs_graft(struct sock *meta, struct socket *newsock);
struct sock *mptcp_rs_meta_clone(const struct sock *listener, void (*destruct)(struct sock *));
void mptcp_rs_set_destruct(struct sock *sk, void (*destruct)(struct sock *));
void mptcp_rs_set_ulp_ctx(struct sock *ssk, void *ctx);
void mptcp_rs_ulp_detach(struct sock *ssk);
void mptcp_rs_af_ops_rx_dst_set(struct sock *sk, const struct sk_buff *skb);
u32 mptcp_rs_tcp_copied_seq(const struct sock *ssk);
u32 mptcp_rs_tcp_rcv_nxt(const struct sock *ssk);
int mptcp_rs_icsk_retransmits(const struct sock *ssk);
u32 mptcp_rs_tcp_inq(const struct sock *ssk);
void mptcp_rs_tcp_send_ack(struct sock *ssk);
int mptcp_rs_tcp_sendmsg_locked(struct sock *ssk, struct msghdr *msg, size_t size);
void mptcp_rs_tcp_cleanup_rbuf(struct sock *ssk, int copied);
bool mptcp_rs_flush_backlog(struct sock *ssk);
void mptcp_rs_subflow_read_done(struct sock *meta, struct sock *ssk, int copied);
void mptcp_rs_meta_grow_rcvbuf(struct sock *meta, int total);
int mptcp_rs_joined_read_done(struct sock *ssk, int copied);

/* skbs. */
u32 mptcp_rs_skb_seq(const struct sk_buff *skb);
u32 mptcp_rs_skb_end_seq(const struct sk_buff *skb);
u8 mptcp_rs_skb_tcp_flags(const struct sk_buff *skb);
u32 mptcp_rs_skb_len(const struct sk_buff *skb);
const u8 *mptcp_rs_tcp_options(const struct sk_buff *skb, unsigned int *len);
u16 mptcp_rs_skb_sum(const struct sk_buff *skb, unsigned int offset, unsigned int len);
bool mptcp_rs_subflow_span_sum(struct sock *ssk, u32 seq, u32 len, u16 *sum);
void mptcp_rs_subflow_fail_rcv(struct sock *ssk);
void mptcp_rs_subflow_drop_rcv(struct sock *ssk);
/* A received DSS mapping, carried on its skb as SKB_EXT_MPTCP. */
struct mptcp_rs_map {
	u64 dsn;
	u32 ssn;
	u16 data_len;
	u16 csum;
	bool data_fin;
	bool csum_reqd;
};

bool mptcp_rs_skb_get_map(const struct sk_buff *skb, struct mptcp_rs_map *map);
bool mptcp_rs_skb_set_map(struct sk_buff *skb, const struct mptcp_rs_map *map);
struct sk_buff *mptcp_rs_subflow_peek(struct sock *ssk);
void mptcp_rs_subflow_consume(struct sock *ssk, struct sk_buff *skb);
int mptcp_rs_subflow_move(struct sock *meta, struct sock *ssk, struct sk_buff *skb,
			  u64 dsn, u32 offset, bool ofo);
struct sk_buff *mptcp_rs_ofo_peek(struct sock *meta);
void mptcp_rs_ofo_to_rcv(struct sock *meta, struct sk_buff *skb);
void mptcp_rs_ofo_drop(struct sock *meta, struct sk_buff *skb);
struct sk_buff *mptcp_rs_rcv_peek(struct sock *meta);
void mptcp_rs_rcv_free(struct sock *meta, struct sk_buff *skb);
int mptcp_rs_skb_copy_msg(const struct sk_buff *skb, int offset, struct msghdr *msg, int len);
u64 mptcp_rs_random_u64(void);
struct mptcp_out_options;
u8 *mptcp_rs_out_buf(struct mptcp_out_options *opts, size_t *cap);
void mptcp_rs_out_set_len(struct mptcp_out_options *opts, u16 len);
/* TCP leaves out its timestamps on this segment (room for the MPTCP option). */
void mptcp_rs_out_drop_ts(struct mptcp_out_options *opts);
u16 mptcp_rs_out_len(const struct mptcp_out_options *opts);
void mptcp_rs_out_set_data_ack(struct mptcp_out_options *opts, bool data_ack);
bool mptcp_rs_out_data_ack(const struct mptcp_out_options *opts);
u32 mptcp_rs_tcp_rcv_wnd(const struct tcp_sock *tp);
bool mptcp_rs_raise_rcv_wnd(struct tcp_sock *tp, struct tcphdr *th, u64 win);
u32 mptcp_rs_tcp_write_seq(const struct sock *ssk);
void mptcp_rs_subflow_ack_lowat(struct sock *ssk, const struct sock *meta);
void mptcp_rs_schedule_ack(struct sock *ssk);
struct sk_buff *mptcp_rs_rcv_next(struct sock *meta, struct sk_buff *skb);


/* Operations on a subflow's struct socket (the caller owns the meta socket). */
int mptcp_rs_sf_bind(struct socket *sf, void *addr, int len);
int mptcp_rs_sf_connect(struct socket *sf, void *addr, int len);
int mptcp_rs_sf_setsockopt(struct socket *sf, int level, int name, void *optval_sockptr,
			   unsigned int len);
int mptcp_rs_sf_getsockopt(struct socket *sf, int level, int name, char *optval, int *optlen);
void mptcp_rs_sf_release(struct socket *sf);
int mptcp_rs_sol_socket_setsockopt(struct sock *meta, struct socket *sf, int name,
				   void *optval_sockptr, unsigned int len);
void mptcp_rs_set_custom_sockopt(struct sock *meta);
struct sock *mptcp_rs_sf_sk(struct socket *sf);
void mptcp_rs_subflow_reset(struct sock *ssk);
void mptcp_rs_tcp_shutdown(struct sock *ssk, int how);
void mptcp_rs_fallback_fin(struct sock *ssk);
void mptcp_rs_sf_no_linger(struct sock *ssk);
void mptcp_rs_meta_init_rcvbuf(struct sock *sk);
void mptcp_rs_meta_setup(struct sock *sk, void (*destruct)(struct sock *),
			 void (**old)(struct sock *));

#endif /* MPTCP_RS_NET_SHIM_H */
