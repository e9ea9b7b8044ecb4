// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers of the mptcp_rs module: wrappers for static inlines and macros,
 * and the C-side view of shared structure layouts.
 */

#include <linux/module.h>
#include <linux/stddef.h>
#include <linux/sysctl.h>
#include <net/mptcp.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/tcp.h>

#include "mptcp_rs_shim.h"

void *mptcp_rs_net_generic(const struct net *net, unsigned int id)
{
	return net_generic(net, id);
}

void *mptcp_rs_sysctl_zero(void)
{
	return SYSCTL_ZERO;
}

void *mptcp_rs_sysctl_one(void)
{
	return SYSCTL_ONE;
}

unsigned int mptcp_rs_tcp_timewait_len(void)
{
	return TCP_TIMEWAIT_LEN;
}

void mptcp_rs_c_layout(struct mptcp_rs_c_layout *l)
{
	l->mptcp_ext_size = sizeof(struct mptcp_ext);
	l->mptcp_ext_data_seq = offsetof(struct mptcp_ext, data_seq);
	l->mptcp_ext_subflow_seq = offsetof(struct mptcp_ext, subflow_seq);
	l->mptcp_ext_data_len = offsetof(struct mptcp_ext, data_len);
	l->mptcp_out_options_size = sizeof(struct mptcp_out_options);
	l->mptcp_tcp_ops_size = sizeof(struct mptcp_tcp_ops);
	l->mptcp_tcp_ops_owner = offsetof(struct mptcp_tcp_ops, owner);
	l->ctl_table_size = sizeof(struct ctl_table);
	l->ctl_table_proc_handler = offsetof(struct ctl_table, proc_handler);
	l->pernet_operations_size = sizeof(struct pernet_operations);
	l->tcp_sock_size = sizeof(struct tcp_sock);
	l->sock_size = sizeof(struct sock);
	l->sock_sk_rcvbuf = offsetof(struct sock, sk_rcvbuf);
	l->sock_sk_wmem_queued = offsetof(struct sock, sk_wmem_queued);
	l->sock_sk_protocol = offsetof(struct sock, sk_protocol);
	l->sock_sk_sndbuf = offsetof(struct sock, sk_sndbuf);
	l->sk_buff_size = sizeof(struct sk_buff);
	l->sk_buff_cb = offsetof(struct sk_buff, cb);
	l->tcp_request_sock_size = sizeof(struct tcp_request_sock);
}
