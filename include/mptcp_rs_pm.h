/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rust/pm_netlink_shim.c: the generic netlink family "mptcp_pm" (upstream's
 * commands, attributes, policies and multicast groups) for the path manager
 * in rust/pm.rs.
 *
 * The C side registers the family, parses requests (after the genl core has
 * validated them against upstream's policies) into plain structures, builds
 * replies and dumps, and sets extack messages. What a command does to a
 * namespace's endpoints and limits is decided by the callbacks of struct
 * mptcp_rs_pm_ops, implemented in Rust. Every callback runs in process
 * context (a netlink handler), with a live @net.
 */
#ifndef MPTCP_RS_PM_H
#define MPTCP_RS_PM_H

#include <linux/socket.h>
#include <linux/types.h>
#include <uapi/linux/mptcp.h>

struct net;

/* uapi values rust/pm.rs uses (bindgen cannot expand _BITUL()). */
enum {
	MPTCP_RS_PM_FLAG_SIGNAL = MPTCP_PM_ADDR_FLAG_SIGNAL,
	MPTCP_RS_PM_FLAG_SUBFLOW = MPTCP_PM_ADDR_FLAG_SUBFLOW,
	MPTCP_RS_PM_FLAG_BACKUP = MPTCP_PM_ADDR_FLAG_BACKUP,
	MPTCP_RS_PM_FLAG_FULLMESH = MPTCP_PM_ADDR_FLAG_FULLMESH,
	MPTCP_RS_PM_FLAG_IMPLICIT = MPTCP_PM_ADDR_FLAG_IMPLICIT,
	MPTCP_RS_PM_FLAG_LAMINAR = MPTCP_PM_ADDR_FLAG_LAMINAR,
	MPTCP_RS_PM_ATTR_RCV_ADD_ADDRS = MPTCP_PM_ATTR_RCV_ADD_ADDRS,
	MPTCP_RS_PM_ATTR_SUBFLOWS = MPTCP_PM_ATTR_SUBFLOWS,
	MPTCP_RS_AF_UNSPEC = AF_UNSPEC,
	MPTCP_RS_AF_INET = AF_INET,
	MPTCP_RS_AF_INET6 = AF_INET6,
};

/* Events and their attributes (uapi mptcp_pm.h, mptcp.h), for rust/pm_events.rs. */
enum {
	MPTCP_RS_PM_EVENT_CREATED = MPTCP_EVENT_CREATED,
	MPTCP_RS_PM_EVENT_ESTABLISHED = MPTCP_EVENT_ESTABLISHED,
	MPTCP_RS_PM_EVENT_CLOSED = MPTCP_EVENT_CLOSED,
	MPTCP_RS_PM_EVENT_ANNOUNCED = MPTCP_EVENT_ANNOUNCED,
	MPTCP_RS_PM_EVENT_REMOVED = MPTCP_EVENT_REMOVED,
	MPTCP_RS_PM_EVENT_SUB_ESTABLISHED = MPTCP_EVENT_SUB_ESTABLISHED,
	MPTCP_RS_PM_EVENT_SUB_CLOSED = MPTCP_EVENT_SUB_CLOSED,
	MPTCP_RS_PM_EVENT_SUB_PRIORITY = MPTCP_EVENT_SUB_PRIORITY,
	MPTCP_RS_PM_EVENT_LISTENER_CREATED = MPTCP_EVENT_LISTENER_CREATED,
	MPTCP_RS_PM_EVENT_LISTENER_CLOSED = MPTCP_EVENT_LISTENER_CLOSED,
	MPTCP_RS_PM_EV_ATTR_TOKEN = MPTCP_ATTR_TOKEN,
	MPTCP_RS_PM_EV_ATTR_LOC_ID = MPTCP_ATTR_LOC_ID,
	MPTCP_RS_PM_EV_ATTR_REM_ID = MPTCP_ATTR_REM_ID,
	MPTCP_RS_PM_EV_ATTR_DADDR4 = MPTCP_ATTR_DADDR4,
	MPTCP_RS_PM_EV_ATTR_DADDR6 = MPTCP_ATTR_DADDR6,
	MPTCP_RS_PM_EV_ATTR_DPORT = MPTCP_ATTR_DPORT,
	MPTCP_RS_PM_EV_ATTR_BACKUP = MPTCP_ATTR_BACKUP,
	MPTCP_RS_PM_EV_ATTR_ERROR = MPTCP_ATTR_ERROR,
	MPTCP_RS_PM_EV_ATTR_FLAGS = MPTCP_ATTR_FLAGS,
	MPTCP_RS_PM_EV_ATTR_RESET_REASON = MPTCP_ATTR_RESET_REASON,
	MPTCP_RS_PM_EV_ATTR_RESET_FLAGS = MPTCP_ATTR_RESET_FLAGS,
	MPTCP_RS_PM_EV_ATTR_SERVER_SIDE = MPTCP_ATTR_SERVER_SIDE,
	MPTCP_RS_PM_EV_FLAG_SERVER_SIDE = MPTCP_PM_EV_FLAG_SERVER_SIDE,
	MPTCP_RS_PM_EV_FLAG_DENY_JOIN_ID0 = MPTCP_PM_EV_FLAG_DENY_JOIN_ID0,
};

/* One endpoint as the netlink API describes it (MPTCP_PM_ADDR_ATTR_*). */
struct mptcp_rs_pm_endpoint {
	u8 addr[16];	/* AF_INET: the first 4 bytes; network order */
	u32 flags;	/* MPTCP_PM_ADDR_FLAG_*, masked with MPTCP_PM_ADDR_FLAGS_MASK */
	s32 ifindex;	/* 0: none */
	u16 family;	/* AF_INET, AF_INET6, or AF_UNSPEC when not given */
	u16 port;	/* host order; 0: none */
	u8 id;		/* 0: none / to be allocated */
};

/*
 * The namespace's in-kernel path manager, implemented in Rust. Where a
 * callback takes @msg, it may set it to a static message that the shim
 * reports in extack against the request's address attribute.
 */
struct mptcp_rs_pm_ops {
	/* MPTCP_PM_CMD_ADD_ADDR: the new endpoint's id, or -errno. */
	int (*add)(struct net *net, struct mptcp_rs_pm_endpoint *ep, const char **msg);
	/* MPTCP_PM_CMD_DEL_ADDR: by id; id 0 by address (the connections using it
	 * as their initial address withdraw it). */
	int (*del)(struct net *net, const struct mptcp_rs_pm_endpoint *ep, const char **msg);
	/* The endpoint with @id into @ep: 0, or -EINVAL when there is none. */
	int (*get)(struct net *net, u8 id, struct mptcp_rs_pm_endpoint *ep);
	/* The endpoint with the smallest id above @after into @ep: true if any. */
	bool (*next)(struct net *net, u8 after, struct mptcp_rs_pm_endpoint *ep);
	/* MPTCP_PM_CMD_FLUSH_ADDRS. */
	void (*flush)(struct net *net);
	/*
	 * MPTCP_PM_CMD_SET_LIMITS: NULL for a limit not in the request. On error,
	 * @bad is the MPTCP_PM_ATTR_* of the limit above @max.
	 */
	int (*set_limits)(struct net *net, const u32 *rcv_add_addrs, const u32 *subflows,
			  int *bad, u32 *max);
	/* MPTCP_PM_CMD_GET_LIMITS. */
	void (*get_limits)(struct net *net, u32 *rcv_add_addrs, u32 *subflows);
	/* MPTCP_PM_CMD_SET_FLAGS of the in-kernel PM (@ep: by address, or by id). */
	int (*set_flags)(struct net *net, const struct mptcp_rs_pm_endpoint *ep,
			 const char **msg);

	/*
	 * The userspace path manager's commands on the connection with @token
	 * (rust/pm_userspace.rs). On error, @msg may be set to a static message
	 * and @bad to the request attribute it is about (MPTCP_RS_PM_BAD_*).
	 */
	/* MPTCP_PM_CMD_ANNOUNCE of @ep. */
	int (*us_announce)(struct net *net, u32 token, const struct mptcp_rs_pm_endpoint *ep,
			   const char **msg, int *bad);
	/* MPTCP_PM_CMD_REMOVE of our address @id. */
	int (*us_remove)(struct net *net, u32 token, u8 id, const char **msg, int *bad);
	/* MPTCP_PM_CMD_SUBFLOW_CREATE (@create) or _DESTROY, @local to @remote. */
	int (*us_subflow)(struct net *net, u32 token, bool create,
			  const struct mptcp_rs_pm_endpoint *local,
			  const struct mptcp_rs_pm_endpoint *remote, const char **msg, int *bad);
	/* MPTCP_PM_CMD_SET_FLAGS with a token: MP_PRIO on the subflows @local to @remote. */
	int (*us_set_flags)(struct net *net, u32 token, const struct mptcp_rs_pm_endpoint *local,
			    const struct mptcp_rs_pm_endpoint *remote, const char **msg, int *bad);
	/*
	 * MPTCP_PM_CMD_GET_ADDR with a token: our known address with the smallest id
	 * above @after (or equal, with @inclusive) into @ep. 1 if there is one, 0 if
	 * not, or -errno.
	 */
	int (*us_next)(struct net *net, u32 token, u8 after, bool inclusive,
		       struct mptcp_rs_pm_endpoint *ep, const char **msg, int *bad);
};

/* The request attribute an error of a userspace PM command is about. */
enum {
	MPTCP_RS_PM_BAD_NONE,
	MPTCP_RS_PM_BAD_TOKEN,
	MPTCP_RS_PM_BAD_ADDR,
	MPTCP_RS_PM_BAD_REMOTE,
	MPTCP_RS_PM_BAD_LOC_ID,
};

int mptcp_rs_pm_genl_register(const struct mptcp_rs_pm_ops *ops);
void mptcp_rs_pm_genl_unregister(void);

/*
 * An event for the "mptcp_pm_events" multicast group (MPTCP_EVENT_*). Each
 * attribute is sent only when its MPTCP_ATTR_* bit is set in @present;
 * addresses and ports are in network order, as upstream sends them.
 */
struct mptcp_rs_pm_event {
	u32 present;		/* BIT(MPTCP_ATTR_x) for each attribute to send */
	u32 token;
	u32 timeout;
	u32 reset_reason;
	u32 reset_flags;
	s32 if_idx;
	u16 family;
	u16 flags;		/* MPTCP_PM_EV_FLAG_* */
	__be16 sport;
	__be16 dport;
	u8 saddr[16];		/* SADDR4: the first 4 bytes; SADDR6: all 16 */
	u8 daddr[16];		/* DADDR4, DADDR6: the same */
	u8 loc_id;
	u8 rem_id;
	u8 backup;
	u8 error;
	u8 server_side;
};

/* Whether anyone in @net listens to "mptcp_pm_events". Any context. */
bool mptcp_rs_pm_event_listeners(const struct net *net);
/*
 * Sends @ev as event @type to @net's listeners; @atomic: from a context that
 * cannot sleep (GFP_ATOMIC). 0, -ENOMEM, or -EMSGSIZE.
 */
int mptcp_rs_pm_event_send(struct net *net, u8 type, const struct mptcp_rs_pm_event *ev,
			   bool atomic);

/*
 * Fill @ev from subflow @ssk as upstream's events describe a subflow: family,
 * source and destination address of @ssk's family, ports (network order), and
 * with @with_dev the device @ssk is bound to, if any. Any context, @ssk held.
 */
void mptcp_rs_pm_event_subflow(struct mptcp_rs_pm_event *ev, const struct sock *ssk,
			       bool with_dev);
/* Fill @ev from listening subflow @ssk: family, local address and port. */
void mptcp_rs_pm_event_listener(struct mptcp_rs_pm_event *ev, const struct sock *ssk);
/* @ssk's remote port, network order. */
u16 mptcp_rs_pm_event_dport(const struct sock *ssk);

#endif /* MPTCP_RS_PM_H */
