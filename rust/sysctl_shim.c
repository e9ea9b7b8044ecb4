// SPDX-License-Identifier: GPL-2.0
/*
 * Handlers of the net.mptcp sysctls that choose the path manager and the
 * scheduler by name, with upstream's semantics (net/mptcp/ctrl.c): a name is
 * accepted only if it is one mptcp_rs knows (-ENOENT otherwise), and writing
 * pm_type or path_manager updates the other.
 *
 * mptcp_rs knows the path managers upstream registers, "kernel" and
 * "userspace", and three schedulers: upstream's "default" and its own
 * "roundrobin" and "redundant" (rust/sendq.rs). The choices are stored per
 * namespace; a connection reads the scheduler when it starts sending on
 * several subflows.
 */

#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysctl.h>
#include <net/mptcp.h>
#include <net/tcp.h>

#include "mptcp_rs_sysctl.h"

static_assert(MPTCP_RS_NAME_MAX == MPTCP_PM_NAME_MAX);
static_assert(MPTCP_RS_NAME_MAX == MPTCP_SCHED_NAME_MAX);

/* in pm_type order */
static const char *const mptcp_rs_path_managers[] = { "kernel", "userspace" };
/* in enum mptcp_rs_sched order; upstream registers "default" only */
static const char *const mptcp_rs_schedulers[] = { "default", "roundrobin", "redundant" };
static int mptcp_rs_pm_type_max_val = ARRAY_SIZE(mptcp_rs_path_managers) - 1;

void *mptcp_rs_pm_type_max(void)
{
	return &mptcp_rs_pm_type_max_val;
}

unsigned int mptcp_rs_tcp_rto_max(void)
{
	return TCP_RTO_MAX;
}

void mptcp_rs_pm_names_init(struct mptcp_rs_pm_names *names)
{
	names->pm_type = 0;
	strscpy(names->path_manager, mptcp_rs_path_managers[0]);
	strscpy(names->scheduler, mptcp_rs_schedulers[0]);
}

static int mptcp_rs_name_index(const char *const *names, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strncmp(names[i], name, MPTCP_RS_NAME_MAX))
			return i;
	return -ENOENT;
}

/* A string sysctl of @names whose value is one of @known (-ENOENT otherwise). */
static int mptcp_rs_proc_name(const struct ctl_table *ctl, int write, void *buffer,
			      size_t *lenp, loff_t *ppos, const char *const *known,
			      size_t n_known, int *index)
{
	char *cur = ctl->data;
	char val[MPTCP_RS_NAME_MAX];
	const struct ctl_table tbl = { .data = val, .maxlen = sizeof(val), };
	int ret;

	*index = -1;
	strscpy(val, cur, sizeof(val));
	ret = proc_dostring(&tbl, write, buffer, lenp, ppos);
	if (!write || ret)
		return ret;
	*index = mptcp_rs_name_index(known, n_known, val);
	if (*index < 0)
		return *index;
	strscpy(cur, known[*index], MPTCP_RS_NAME_MAX);
	return 0;
}

int mptcp_rs_proc_pm_type(const struct ctl_table *ctl, int write, void *buffer,
			  size_t *lenp, loff_t *ppos)
{
	struct mptcp_rs_pm_names *names = container_of(ctl->data, struct mptcp_rs_pm_names,
						       pm_type);
	int ret = proc_dou8vec_minmax(ctl, write, buffer, lenp, ppos);
	u8 type;

	if (write && !ret) {
		type = READ_ONCE(names->pm_type);
		if (type < ARRAY_SIZE(mptcp_rs_path_managers))
			strscpy(names->path_manager, mptcp_rs_path_managers[type]);
	}
	return ret;
}

int mptcp_rs_proc_path_manager(const struct ctl_table *ctl, int write, void *buffer,
			       size_t *lenp, loff_t *ppos)
{
	struct mptcp_rs_pm_names *names = container_of(ctl->data, struct mptcp_rs_pm_names,
						       path_manager);
	int index, ret;

	ret = mptcp_rs_proc_name(ctl, write, buffer, lenp, ppos, mptcp_rs_path_managers,
				 ARRAY_SIZE(mptcp_rs_path_managers), &index);
	if (!ret && index >= 0)
		WRITE_ONCE(names->pm_type, index);
	return ret;
}

int mptcp_rs_proc_scheduler(const struct ctl_table *ctl, int write, void *buffer,
			    size_t *lenp, loff_t *ppos)
{
	int index;

	return mptcp_rs_proc_name(ctl, write, buffer, lenp, ppos, mptcp_rs_schedulers,
				  ARRAY_SIZE(mptcp_rs_schedulers), &index);
}

/* The names of @known separated by spaces, as upstream's lists of registered ops. */
static int mptcp_rs_proc_list(int write, void *buffer, size_t *lenp, loff_t *ppos,
			      const char *const *known, size_t n_known)
{
	struct ctl_table tbl = { .maxlen = MPTCP_RS_NAME_MAX * 8, };
	size_t i, off = 0;
	int ret;

	tbl.data = kzalloc(tbl.maxlen, GFP_USER);
	if (!tbl.data)
		return -ENOMEM;
	for (i = 0; i < n_known; i++)
		off += scnprintf((char *)tbl.data + off, tbl.maxlen - off, "%s%s",
				 i ? " " : "", known[i]);
	ret = proc_dostring(&tbl, write, buffer, lenp, ppos);
	kfree(tbl.data);
	return ret;
}

int mptcp_rs_proc_available_path_managers(const struct ctl_table *ctl, int write,
					  void *buffer, size_t *lenp, loff_t *ppos)
{
	return mptcp_rs_proc_list(write, buffer, lenp, ppos, mptcp_rs_path_managers,
				  ARRAY_SIZE(mptcp_rs_path_managers));
}

int mptcp_rs_proc_available_schedulers(const struct ctl_table *ctl, int write,
				       void *buffer, size_t *lenp, loff_t *ppos)
{
	return mptcp_rs_proc_list(write, buffer, lenp, ppos, mptcp_rs_schedulers,
				  ARRAY_SIZE(mptcp_rs_schedulers));
}

/* The scheduler stored in @names as an index of mptcp_rs_schedulers (0 if unknown). */
int mptcp_rs_scheduler_index(const struct mptcp_rs_pm_names *names)
{
	char val[MPTCP_RS_NAME_MAX];
	int i;

	strscpy(val, names->scheduler, sizeof(val));
	i = mptcp_rs_name_index(mptcp_rs_schedulers, ARRAY_SIZE(mptcp_rs_schedulers), val);
	return i < 0 ? 0 : i;
}
