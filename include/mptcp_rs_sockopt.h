/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C helpers of the SOL_MPTCP socket options, TCP_INQ, the receive timestamps
 * and the ioctls of the meta socket (rust/sockopt.rs, rust/sockopt_shim.c):
 * user memory, the subflows' tcp_info and addresses, control messages.
 */
#ifndef MPTCP_RS_SOCKOPT_H
#define MPTCP_RS_SOCKOPT_H

#include <linux/types.h>
#include <linux/compiler_types.h>

struct sock;
struct sk_buff;
struct msghdr;
struct tcp_info;
struct mptcp_subflow_addrs;
struct scm_timestamping_internal;

/* get_user()/put_user() of an option length; 0 or -EFAULT. */
int mptcp_rs_get_optlen(const int __user *optlen, int *len);
int mptcp_rs_put_optlen(int __user *optlen, int len);
/* copy_from_user()/copy_to_user(): 0 or -EFAULT. */
int mptcp_rs_from_user(void *dst, const void __user *src, size_t n);
int mptcp_rs_to_user(void __user *dst, const void *src, size_t n);
/* An int option value from a setsockopt() sockptr_t (passed by address). */
int mptcp_rs_get_int_sockptr(const void *optval_sockptr, unsigned int optlen, int *val);
/* An int option to the user as upstream MPTCP's: one byte if asked for less. */
int mptcp_rs_put_int_option(char __user *optval, int __user *optlen, int val);

/* What a subflow reports: TCP's tcp_info, its addresses as upstream puts them. */
void mptcp_rs_sf_tcp_info(struct sock *ssk, struct tcp_info *info);
void mptcp_rs_sf_addrs(const struct sock *ssk, struct mptcp_subflow_addrs *a);
/* A subflow's unacknowledged and not yet sent bytes (TCP sequence space). */
void mptcp_rs_sf_outq(struct sock *ssk, u32 *unacked, u32 *notsent);

/* recvmsg(): an skb's receive timestamps, and the control messages at the end. */
void mptcp_rs_skb_rx_tstamp(struct sk_buff *skb, struct scm_timestamping_internal *tss);
void mptcp_rs_put_rx_timestamp(struct msghdr *msg, const struct sock *sk,
			       struct scm_timestamping_internal *tss);
void mptcp_rs_put_inq(struct msghdr *msg, unsigned int inq);

#endif /* MPTCP_RS_SOCKOPT_H */
