// SPDX-License-Identifier: GPL-2.0
/* C helpers of the congestion control modules: static inlines of the TCP headers. */

#include <net/inet_connection_sock.h>

#include "mptcp_rs_shim.h"

static_assert(MPTCP_RS_CA_PRIV_SIZE == ICSK_CA_PRIV_SIZE);

void *mptcp_rs_cc_priv(struct sock *sk)
{
	return inet_csk_ca(sk);
}
