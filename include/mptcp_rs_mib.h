/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rust/mib_shim.c: per-CPU storage of the MPTcpExt counters (rust/mib.rs) and
 * the namespaces rust/net.rs borrows (mptcp_rs_sock_net() is in
 * mptcp_rs_net_shim.h).
 *
 * A counter block is an array of @count unsigned longs on every possible CPU,
 * handed to Rust as an opaque pointer (a per-CPU offset, never dereferenced
 * there). Increments are this_cpu operations: safe in any context, including
 * hard and soft interrupts, without locks.
 */
#ifndef MPTCP_RS_MIB_H
#define MPTCP_RS_MIB_H

#include <linux/types.h>

struct net;
struct seq_file;

void *mptcp_rs_mib_alloc(size_t count);
void mptcp_rs_mib_free(void *mib);
void mptcp_rs_mib_add(void *mib, size_t field, long delta);
void mptcp_rs_mib_sum(const void *mib, unsigned long *sum, size_t count);

struct net *mptcp_rs_init_net(void);
struct net *mptcp_rs_seq_file_single_net(struct seq_file *seq);

#endif /* MPTCP_RS_MIB_H */
