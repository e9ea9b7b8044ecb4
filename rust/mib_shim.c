// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers of rust/mib.rs: per-CPU counter blocks (allocation, this_cpu
 * increments, summing over CPUs as upstream's snmp_get_cpu_field_batch_cnt()
 * does), &init_net, and the namespace of a /proc/net file.
 */

#include <linux/percpu.h>
#include <linux/seq_file_net.h>
#include <net/net_namespace.h>

#include "mptcp_rs_mib.h"

static unsigned long __percpu *mptcp_rs_mib_pcpu(const void *mib)
{
	return (unsigned long __percpu __force *)mib;
}

/* Process context (GFP_KERNEL); zeroed on every CPU; NULL on failure. */
void *mptcp_rs_mib_alloc(size_t count)
{
	if (!count || count > SIZE_MAX / sizeof(unsigned long))
		return NULL;
	return (void __force *)__alloc_percpu(count * sizeof(unsigned long),
					      __alignof__(unsigned long));
}

void mptcp_rs_mib_free(void *mib)
{
	free_percpu(mptcp_rs_mib_pcpu(mib));
}

/* Any context: one this_cpu_add, as SNMP_ADD_STATS(); @field < count. */
void mptcp_rs_mib_add(void *mib, size_t field, long delta)
{
	this_cpu_add(mptcp_rs_mib_pcpu(mib)[field], delta);
}

/* @sum[i] = the sum over possible CPUs of counter i (wrapping, as upstream). */
void mptcp_rs_mib_sum(const void *mib, unsigned long *sum, size_t count)
{
	unsigned long __percpu *pcpu = mptcp_rs_mib_pcpu(mib);
	size_t i;
	int cpu;

	for (i = 0; i < count; i++)
		sum[i] = 0;
	for_each_possible_cpu(cpu) {
		const unsigned long *v = per_cpu_ptr(pcpu, cpu);

		for (i = 0; i < count; i++)
			sum[i] += READ_ONCE(v[i]);
	}
}

struct net *mptcp_rs_init_net(void)
{
	return &init_net;
}

/* The namespace of a /proc/net file opened with single_open_net(). */
struct net *mptcp_rs_seq_file_single_net(struct seq_file *seq)
{
	return seq_file_single_net(seq);
}
