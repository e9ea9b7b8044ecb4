/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rust/sysctl_shim.c: the net.mptcp sysctls whose handlers are not the
 * kernel's generic ones (rust/sysctl.rs builds the table): the path manager
 * and scheduler, chosen by name (path_manager, scheduler) or by number
 * (pm_type), and the read-only lists of the names mptcp_rs accepts.
 */
#ifndef MPTCP_RS_SYSCTL_H
#define MPTCP_RS_SYSCTL_H

#include <linux/types.h>

struct ctl_table;

#define MPTCP_RS_NAME_MAX 16	/* MPTCP_PM_NAME_MAX, MPTCP_SCHED_NAME_MAX */

/*
 * A namespace's choice of path manager and scheduler; part of its sysctl
 * state. pm_type and path_manager always name the same path manager.
 */
struct mptcp_rs_pm_names {
	u8 pm_type;				/* 0: "kernel", 1: "userspace" */
	char path_manager[MPTCP_RS_NAME_MAX];
	char scheduler[MPTCP_RS_NAME_MAX];
};

/* upstream's defaults: "kernel", "default" */
void mptcp_rs_pm_names_init(struct mptcp_rs_pm_names *names);
int mptcp_rs_scheduler_index(const struct mptcp_rs_pm_names *names);

/* ctl->data: &names->pm_type; extra1, extra2: as for proc_dou8vec_minmax */
int mptcp_rs_proc_pm_type(const struct ctl_table *ctl, int write, void *buffer,
			  size_t *lenp, loff_t *ppos);
/* ctl->data: names->path_manager */
int mptcp_rs_proc_path_manager(const struct ctl_table *ctl, int write, void *buffer,
			       size_t *lenp, loff_t *ppos);
/* ctl->data: names->scheduler */
int mptcp_rs_proc_scheduler(const struct ctl_table *ctl, int write, void *buffer,
			    size_t *lenp, loff_t *ppos);
/* read-only, no data */
int mptcp_rs_proc_available_path_managers(const struct ctl_table *ctl, int write,
					  void *buffer, size_t *lenp, loff_t *ppos);
int mptcp_rs_proc_available_schedulers(const struct ctl_table *ctl, int write,
				       void *buffer, size_t *lenp, loff_t *ppos);

void *mptcp_rs_pm_type_max(void);
unsigned int mptcp_rs_tcp_rto_max(void);

#endif /* MPTCP_RS_SYSCTL_H */
