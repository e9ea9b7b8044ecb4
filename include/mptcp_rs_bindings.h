/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Input of the module-local bindgen run (see Kbuild): the kernel headers the
 * mptcp_rs module talks to, and the C shim's own declarations.
 */
#ifndef MPTCP_RS_BINDINGS_H
#define MPTCP_RS_BINDINGS_H

#include <crypto/sha2.h>
#include <linux/module.h>
#include <linux/skbuff.h>
#include <linux/sysctl.h>
#include <net/mptcp.h>
#include <net/net_namespace.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/inet_common.h>
#include <net/protocol.h>
#include <net/ipv6.h>
#include <net/transp_v6.h>
#include <linux/poll.h>
#include <uapi/linux/mptcp.h>

#include "mptcp_rs_shim.h"
#include "mptcp_rs_net_shim.h"
#include "mptcp_rs_mib.h"
#include "mptcp_rs_pm.h"
#include "mptcp_rs_sysctl.h"
#include "mptcp_rs_send.h"
#include "mptcp_rs_join.h"
#include "mptcp_rs_addr.h"
#include "mptcp_rs_cc.h"
#include "mptcp_rs_sockopt_sync.h"
#include "mptcp_rs_sockopt.h"

#endif /* MPTCP_RS_BINDINGS_H */
