/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C helpers of the mptcp_rs module: static inline functions and macros of the
 * kernel headers that bindgen cannot turn into callable Rust.
 */
#ifndef MPTCP_RS_SHIM_H
#define MPTCP_RS_SHIM_H

#include <linux/types.h>

struct net;
struct sock;

void *mptcp_rs_net_generic(const struct net *net, unsigned int id);
void *mptcp_rs_sysctl_zero(void);
void *mptcp_rs_sysctl_one(void);
unsigned int mptcp_rs_tcp_timewait_len(void);

/* rust/cc_shim.c, linked into the congestion control modules */
#define MPTCP_RS_CA_PRIV_SIZE 104	/* checked against ICSK_CA_PRIV_SIZE there */
void *mptcp_rs_cc_priv(struct sock *sk);
u32 mptcp_rs_cc_cwnd(const struct sock *sk);
void mptcp_rs_cc_set_cwnd(struct sock *sk, u32 cwnd);
bool mptcp_rs_cc_cwnd_limited(const struct sock *sk);
bool mptcp_rs_cc_in_slow_start(const struct sock *sk);
u32 mptcp_rs_cc_slow_start(struct sock *sk, u32 acked);
void mptcp_rs_cc_cong_avoid_ai(struct sock *sk, u32 w, u32 acked);
u32 mptcp_rs_cc_delivered(const struct sock *sk);

/*
 * Sizes and offsets of the C structures the module shares with the kernel, as
 * the C compiler lays them out; a KUnit suite checks that the Rust view agrees.
 */
struct mptcp_rs_c_layout {
	size_t mptcp_ext_size;
	size_t mptcp_ext_data_seq;
	size_t mptcp_ext_subflow_seq;
	size_t mptcp_ext_data_len;
	size_t mptcp_out_options_size;
	size_t mptcp_tcp_ops_size;
	size_t mptcp_tcp_ops_owner;
	size_t ctl_table_size;
	size_t ctl_table_proc_handler;
	size_t pernet_operations_size;
	size_t tcp_sock_size;
	size_t sock_size;
	size_t sock_sk_rcvbuf;
	size_t sock_sk_wmem_queued;
	size_t sock_sk_protocol;
	size_t sock_sk_sndbuf;
	size_t sk_buff_size;
	size_t sk_buff_cb;
	size_t tcp_request_sock_size;
};

void mptcp_rs_c_layout(struct mptcp_rs_c_layout *layout);

#endif /* MPTCP_RS_SHIM_H */
