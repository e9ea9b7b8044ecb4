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

#include "mptcp_rs_shim.h"

#endif /* MPTCP_RS_BINDINGS_H */
