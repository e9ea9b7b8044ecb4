// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "mptcp_pm", version 1, as upstream registers it
 * (include/uapi/linux/mptcp_pm.h, Documentation/netlink/specs/mptcp_pm.yaml):
 * the same commands, policies, permissions and multicast groups, so that
 * iproute2's `ip mptcp` and the kernel selftests' pm_nl_ctl work unchanged.
 *
 * This file only translates between netlink messages and the plain structures
 * of mptcp_rs_pm.h; the endpoint table and limits live in rust/pm.rs, the
 * userspace path manager's commands (those naming a connection by its token) in
 * rust/pm_userspace.rs, behind struct mptcp_rs_pm_ops.
 */

#include <linux/netlink.h>
#include <net/genetlink.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>
#include <net/netlink.h>
#include <net/sock.h>
#include <uapi/linux/mptcp.h>

#include "mptcp_rs_net_shim.h"
#include "mptcp_rs_pm.h"

#define MPTCP_RS_PM_CMD_GRP_OFFSET	0
#define MPTCP_RS_PM_EV_GRP_OFFSET	1

static const struct genl_multicast_group mptcp_rs_pm_mcgrps[] = {
	[MPTCP_RS_PM_CMD_GRP_OFFSET] = { .name = MPTCP_PM_CMD_GRP_NAME, },
	[MPTCP_RS_PM_EV_GRP_OFFSET] = { .name = MPTCP_PM_EV_GRP_NAME,
					.flags = GENL_MCAST_CAP_NET_ADMIN, },
};

/* The policies of Documentation/netlink/specs/mptcp_pm.yaml. */
static const struct nla_policy mptcp_rs_pm_address_policy[MPTCP_PM_ADDR_ATTR_MAX + 1] = {
	[MPTCP_PM_ADDR_ATTR_FAMILY] = { .type = NLA_U16, },
	[MPTCP_PM_ADDR_ATTR_ID] = { .type = NLA_U8, },
	[MPTCP_PM_ADDR_ATTR_ADDR4] = { .type = NLA_BE32, },
	[MPTCP_PM_ADDR_ATTR_ADDR6] = NLA_POLICY_EXACT_LEN(16),
	[MPTCP_PM_ADDR_ATTR_PORT] = { .type = NLA_U16, },
	[MPTCP_PM_ADDR_ATTR_FLAGS] = { .type = NLA_U32, },
	[MPTCP_PM_ADDR_ATTR_IF_IDX] = { .type = NLA_S32, },
};

/* ADD_ADDR, DEL_ADDR, FLUSH_ADDRS */
static const struct nla_policy mptcp_rs_pm_endpoint_policy[MPTCP_PM_ENDPOINT_ADDR + 1] = {
	[MPTCP_PM_ENDPOINT_ADDR] = NLA_POLICY_NESTED(mptcp_rs_pm_address_policy),
};

/* GET_ADDR, ANNOUNCE */
static const struct nla_policy mptcp_rs_pm_addr_token_policy[MPTCP_PM_ATTR_TOKEN + 1] = {
	[MPTCP_PM_ATTR_ADDR] = NLA_POLICY_NESTED(mptcp_rs_pm_address_policy),
	[MPTCP_PM_ATTR_TOKEN] = { .type = NLA_U32, },
};

/* SET_LIMITS, GET_LIMITS */
static const struct nla_policy mptcp_rs_pm_limits_policy[MPTCP_PM_ATTR_SUBFLOWS + 1] = {
	[MPTCP_PM_ATTR_RCV_ADD_ADDRS] = { .type = NLA_U32, },
	[MPTCP_PM_ATTR_SUBFLOWS] = { .type = NLA_U32, },
};

/* SET_FLAGS, SUBFLOW_CREATE, SUBFLOW_DESTROY */
static const struct nla_policy mptcp_rs_pm_addr_pair_policy[MPTCP_PM_ATTR_ADDR_REMOTE + 1] = {
	[MPTCP_PM_ATTR_ADDR] = NLA_POLICY_NESTED(mptcp_rs_pm_address_policy),
	[MPTCP_PM_ATTR_TOKEN] = { .type = NLA_U32, },
	[MPTCP_PM_ATTR_ADDR_REMOTE] = NLA_POLICY_NESTED(mptcp_rs_pm_address_policy),
};

/* REMOVE */
static const struct nla_policy mptcp_rs_pm_remove_policy[MPTCP_PM_ATTR_LOC_ID + 1] = {
	[MPTCP_PM_ATTR_TOKEN] = { .type = NLA_U32, },
	[MPTCP_PM_ATTR_LOC_ID] = { .type = NLA_U8, },
};

/* Set while the family is registered (before registration, cleared after). */
static const struct mptcp_rs_pm_ops *mptcp_rs_pm;

static struct genl_family mptcp_rs_pm_family;

/* A static message (from Rust or a literal) against @attr, as NL_SET_ERR_MSG_ATTR. */
static void mptcp_rs_pm_set_msg(struct genl_info *info, const struct nlattr *attr,
				const char *msg)
{
	if (!msg || !info->extack)
		return;
	info->extack->_msg = msg;
	NL_SET_BAD_ATTR(info->extack, attr);
}

/*
 * Parses the nested address @attr into @ep, as upstream's
 * mptcp_pm_parse_entry(): the id, then the family with its address (required
 * or not), then the interface, flags and port. The genl core has validated
 * the attribute against mptcp_rs_pm_address_policy already.
 */
static int mptcp_rs_pm_parse_entry(const struct nlattr *attr, struct genl_info *info,
				   bool require_family, struct mptcp_rs_pm_endpoint *ep)
{
	struct nlattr *tb[MPTCP_PM_ADDR_ATTR_MAX + 1];
	int err, addr_type;

	memset(ep, 0, sizeof(*ep));
	if (!attr) {
		GENL_SET_ERR_MSG(info, "missing address info");
		return -EINVAL;
	}
	err = nla_parse_nested_deprecated(tb, MPTCP_PM_ADDR_ATTR_MAX, attr,
					  mptcp_rs_pm_address_policy, info->extack);
	if (err)
		return err;

	if (tb[MPTCP_PM_ADDR_ATTR_ID])
		ep->id = nla_get_u8(tb[MPTCP_PM_ADDR_ATTR_ID]);

	if (tb[MPTCP_PM_ADDR_ATTR_FAMILY]) {
		ep->family = nla_get_u16(tb[MPTCP_PM_ADDR_ATTR_FAMILY]);
		if (ep->family != AF_INET &&
		    !(IS_ENABLED(CONFIG_IPV6) && ep->family == AF_INET6)) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr, "unknown address family");
			return -EINVAL;
		}
		addr_type = ep->family == AF_INET6 ? MPTCP_PM_ADDR_ATTR_ADDR6 :
						     MPTCP_PM_ADDR_ATTR_ADDR4;
		if (!tb[addr_type]) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr, "missing address data");
			return -EINVAL;
		}
		if (ep->family == AF_INET6)
			nla_memcpy(ep->addr, tb[addr_type], 16);
		else
			nla_memcpy(ep->addr, tb[addr_type], 4);
	} else if (require_family) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "missing family");
		return -EINVAL;
	}

	if (tb[MPTCP_PM_ADDR_ATTR_IF_IDX])
		ep->ifindex = nla_get_s32(tb[MPTCP_PM_ADDR_ATTR_IF_IDX]);
	if (tb[MPTCP_PM_ADDR_ATTR_FLAGS])
		ep->flags = nla_get_u32(tb[MPTCP_PM_ADDR_ATTR_FLAGS]) &
			    MPTCP_PM_ADDR_FLAGS_MASK;
	if (tb[MPTCP_PM_ADDR_ATTR_PORT])
		ep->port = nla_get_u16(tb[MPTCP_PM_ADDR_ATTR_PORT]);
	return 0;
}

/* The nested MPTCP_PM_ATTR_ADDR of a reply, in upstream's attribute order. */
static int mptcp_rs_pm_fill_addr(struct sk_buff *skb, const struct mptcp_rs_pm_endpoint *ep)
{
	struct nlattr *nest = nla_nest_start(skb, MPTCP_PM_ATTR_ADDR);

	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u16(skb, MPTCP_PM_ADDR_ATTR_FAMILY, ep->family) ||
	    nla_put_u16(skb, MPTCP_PM_ADDR_ATTR_PORT, ep->port) ||
	    nla_put_u8(skb, MPTCP_PM_ADDR_ATTR_ID, ep->id) ||
	    nla_put_u32(skb, MPTCP_PM_ADDR_ATTR_FLAGS, ep->flags) ||
	    (ep->ifindex && nla_put_s32(skb, MPTCP_PM_ADDR_ATTR_IF_IDX, ep->ifindex)) ||
	    (ep->family == AF_INET && nla_put(skb, MPTCP_PM_ADDR_ATTR_ADDR4, 4, ep->addr)) ||
	    (ep->family == AF_INET6 && nla_put(skb, MPTCP_PM_ADDR_ATTR_ADDR6, 16, ep->addr))) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/* The attribute of @info that error @bad (MPTCP_RS_PM_BAD_*) is about. */
static const struct nlattr *mptcp_rs_pm_bad_attr(struct genl_info *info, int bad)
{
	switch (bad) {
	case MPTCP_RS_PM_BAD_TOKEN:
		return info->attrs[MPTCP_PM_ATTR_TOKEN];
	case MPTCP_RS_PM_BAD_ADDR:
		return info->attrs[MPTCP_PM_ATTR_ADDR];
	case MPTCP_RS_PM_BAD_REMOTE:
		return info->attrs[MPTCP_PM_ATTR_ADDR_REMOTE];
	case MPTCP_RS_PM_BAD_LOC_ID:
		return info->attrs[MPTCP_PM_ATTR_LOC_ID];
	default:
		return NULL;
	}
}

/* Reports a userspace PM command's error @ret with its message, if any. */
static int mptcp_rs_pm_us_result(struct genl_info *info, int ret, const char *msg, int bad)
{
	if (ret < 0 && msg && info->extack) {
		const struct nlattr *attr = mptcp_rs_pm_bad_attr(info, bad);

		info->extack->_msg = msg;
		if (attr)
			NL_SET_BAD_ATTR(info->extack, attr);
	}
	return ret;
}

static u32 mptcp_rs_pm_token(struct genl_info *info)
{
	return nla_get_u32(info->attrs[MPTCP_PM_ATTR_TOKEN]);
}

static int mptcp_rs_pm_add_addr_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct mptcp_rs_pm_endpoint ep;
	const char *msg = NULL;
	struct nlattr *attr;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, MPTCP_PM_ENDPOINT_ADDR))
		return -EINVAL;
	attr = info->attrs[MPTCP_PM_ENDPOINT_ADDR];
	ret = mptcp_rs_pm_parse_entry(attr, info, true, &ep);
	if (ret < 0)
		return ret;
	ret = mptcp_rs_pm->add(genl_info_net(info), &ep, &msg);
	if (ret >= 0)
		return 0;
	if (msg)
		mptcp_rs_pm_set_msg(info, attr, msg);
	else
		GENL_SET_ERR_MSG_FMT(info, "too many addresses or duplicate one: %d", ret);
	return ret;
}

static int mptcp_rs_pm_del_addr_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct mptcp_rs_pm_endpoint ep;
	const char *msg = NULL;
	struct nlattr *attr;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, MPTCP_PM_ENDPOINT_ADDR))
		return -EINVAL;
	attr = info->attrs[MPTCP_PM_ENDPOINT_ADDR];
	ret = mptcp_rs_pm_parse_entry(attr, info, false, &ep);
	if (ret < 0)
		return ret;
	ret = mptcp_rs_pm->del(genl_info_net(info), &ep, &msg);
	if (ret < 0)
		mptcp_rs_pm_set_msg(info, attr, msg);
	return ret;
}

static int mptcp_rs_pm_get_addr_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct mptcp_rs_pm_endpoint ep;
	struct nlattr *attr;
	struct sk_buff *msg;
	void *reply;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, MPTCP_PM_ENDPOINT_ADDR))
		return -EINVAL;
	attr = info->attrs[MPTCP_PM_ENDPOINT_ADDR];
	ret = mptcp_rs_pm_parse_entry(attr, info, false, &ep);
	if (ret < 0)
		return ret;

	msg = nlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	reply = genlmsg_put_reply(msg, info, &mptcp_rs_pm_family, 0, info->genlhdr->cmd);
	if (!reply) {
		GENL_SET_ERR_MSG(info, "not enough space in Netlink message");
		ret = -EMSGSIZE;
		goto fail;
	}
	if (info->attrs[MPTCP_PM_ATTR_TOKEN]) {
		const char *err = NULL;
		u8 id = ep.id;
		int bad = 0;

		ret = mptcp_rs_pm->us_next(genl_info_net(info), mptcp_rs_pm_token(info), id, true,
					   &ep, &err, &bad);
		if (ret == 1 && ep.id != id)
			ret = 0;
		if (ret == 0) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr, "address not found");
			ret = -EINVAL;
		}
		if (ret < 0) {
			mptcp_rs_pm_us_result(info, ret, err, bad);
			goto fail;
		}
		ret = 0;
	} else {
		ret = mptcp_rs_pm->get(genl_info_net(info), ep.id, &ep);
	}
	if (ret) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "address not found");
		goto fail;
	}
	ret = mptcp_rs_pm_fill_addr(msg, &ep);
	if (ret)
		goto fail;
	genlmsg_end(msg, reply);
	return genlmsg_reply(msg, info);

fail:
	nlmsg_free(msg);
	return ret;
}

/* One address of a dump: false if the message is full. */
static bool mptcp_rs_pm_dump_one(struct sk_buff *msg, struct netlink_callback *cb,
				 const struct mptcp_rs_pm_endpoint *ep)
{
	void *hdr = genlmsg_put(msg, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
				&mptcp_rs_pm_family, NLM_F_MULTI, MPTCP_PM_CMD_GET_ADDR);

	if (!hdr)
		return false;
	if (mptcp_rs_pm_fill_addr(msg, ep) < 0) {
		genlmsg_cancel(msg, hdr);
		return false;
	}
	genlmsg_end(msg, hdr);
	return true;
}

/*
 * Every endpoint of the namespace, or with a token our known addresses of that
 * connection (userspace PM), by increasing id; cb->args[0]: the last id sent,
 * cb->args[1]: whether any was (id 0 may be the first).
 */
static int mptcp_rs_pm_get_addr_dumpit(struct sk_buff *msg, struct netlink_callback *cb)
{
	const struct genl_info *info = genl_info_dump(cb);
	struct nlattr *token = info->attrs[MPTCP_PM_ATTR_TOKEN];
	struct net *net = sock_net(msg->sk);
	struct mptcp_rs_pm_endpoint ep;
	u8 last = cb->args[0];
	const char *err = NULL;
	int bad = 0, ret;

	for (;;) {
		if (token) {
			ret = mptcp_rs_pm->us_next(net, nla_get_u32(token), last, !cb->args[1],
						   &ep, &err, &bad);
			if (ret < 0)
				return ret;
		} else {
			ret = mptcp_rs_pm->next(net, last, &ep);
		}
		if (!ret || !mptcp_rs_pm_dump_one(msg, cb, &ep))
			break;
		last = ep.id;
		cb->args[1] = 1;
	}
	cb->args[0] = last;
	return msg->len;
}

static int mptcp_rs_pm_flush_addrs_doit(struct sk_buff *skb, struct genl_info *info)
{
	mptcp_rs_pm->flush(genl_info_net(info));
	return 0;
}

static int mptcp_rs_pm_set_limits_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *rcv = info->attrs[MPTCP_PM_ATTR_RCV_ADD_ADDRS];
	struct nlattr *subflows = info->attrs[MPTCP_PM_ATTR_SUBFLOWS];
	u32 rcv_val = 0, subflows_val = 0, max = 0;
	int bad = 0, ret;

	if (rcv)
		rcv_val = nla_get_u32(rcv);
	if (subflows)
		subflows_val = nla_get_u32(subflows);
	ret = mptcp_rs_pm->set_limits(genl_info_net(info), rcv ? &rcv_val : NULL,
				      subflows ? &subflows_val : NULL, &bad, &max);
	if (ret && (bad == MPTCP_PM_ATTR_RCV_ADD_ADDRS || bad == MPTCP_PM_ATTR_SUBFLOWS))
		NL_SET_ERR_MSG_ATTR_FMT(info->extack, info->attrs[bad],
					"limit greater than maximum (%u)", max);
	return ret;
}

static int mptcp_rs_pm_get_limits_doit(struct sk_buff *skb, struct genl_info *info)
{
	u32 rcv_add_addrs, subflows;
	struct sk_buff *msg;
	void *reply;

	msg = nlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	reply = genlmsg_put_reply(msg, info, &mptcp_rs_pm_family, 0, MPTCP_PM_CMD_GET_LIMITS);
	if (!reply)
		goto fail;
	mptcp_rs_pm->get_limits(genl_info_net(info), &rcv_add_addrs, &subflows);
	if (nla_put_u32(msg, MPTCP_PM_ATTR_RCV_ADD_ADDRS, rcv_add_addrs) ||
	    nla_put_u32(msg, MPTCP_PM_ATTR_SUBFLOWS, subflows))
		goto fail;
	genlmsg_end(msg, reply);
	return genlmsg_reply(msg, info);

fail:
	GENL_SET_ERR_MSG(info, "not enough space in Netlink message");
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static int mptcp_rs_pm_set_flags_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct mptcp_rs_pm_endpoint ep;
	const char *msg = NULL;
	struct nlattr *attr;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, MPTCP_PM_ATTR_ADDR))
		return -EINVAL;
	attr = info->attrs[MPTCP_PM_ATTR_ADDR];
	ret = mptcp_rs_pm_parse_entry(attr, info, false, &ep);
	if (ret < 0)
		return ret;
	if (info->attrs[MPTCP_PM_ATTR_TOKEN]) {
		struct mptcp_rs_pm_endpoint rem = {};
		int bad = 0;

		if (GENL_REQ_ATTR_CHECK(info, MPTCP_PM_ATTR_ADDR_REMOTE))
			return -EINVAL;
		ret = mptcp_rs_pm_parse_entry(info->attrs[MPTCP_PM_ATTR_ADDR_REMOTE], info, false,
					      &rem);
		if (ret < 0)
			return ret;
		ret = mptcp_rs_pm->us_set_flags(genl_info_net(info), mptcp_rs_pm_token(info), &ep,
						&rem, &msg, &bad);
		return mptcp_rs_pm_us_result(info, ret, msg, bad);
	}
	ret = mptcp_rs_pm->set_flags(genl_info_net(info), &ep, &msg);
	if (ret < 0)
		mptcp_rs_pm_set_msg(info, attr, msg);
	return ret;
}

static int mptcp_rs_pm_announce_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct mptcp_rs_pm_endpoint ep;
	const char *msg = NULL;
	int bad = 0, ret;

	if (GENL_REQ_ATTR_CHECK(info, MPTCP_PM_ATTR_ADDR) ||
	    GENL_REQ_ATTR_CHECK(info, MPTCP_PM_ATTR_TOKEN))
		return -EINVAL;
	ret = mptcp_rs_pm_parse_entry(info->attrs[MPTCP_PM_ATTR_ADDR], info, true, &ep);
	if (ret < 0)
		return ret;
	ret = mptcp_rs_pm->us_announce(genl_info_net(info), mptcp_rs_pm_token(info), &ep, &msg,
				       &bad);
	return mptcp_rs_pm_us_result(info, ret, msg, bad);
}

static int mptcp_rs_pm_remove_doit(struct sk_buff *skb, struct genl_info *info)
{
	const char *msg = NULL;
	int bad = 0, ret;

	if (GENL_REQ_ATTR_CHECK(info, MPTCP_PM_ATTR_LOC_ID) ||
	    GENL_REQ_ATTR_CHECK(info, MPTCP_PM_ATTR_TOKEN))
		return -EINVAL;
	ret = mptcp_rs_pm->us_remove(genl_info_net(info), mptcp_rs_pm_token(info),
				     nla_get_u8(info->attrs[MPTCP_PM_ATTR_LOC_ID]), &msg, &bad);
	return mptcp_rs_pm_us_result(info, ret, msg, bad);
}

/* SUBFLOW_CREATE and SUBFLOW_DESTROY */
static int mptcp_rs_pm_subflow_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct mptcp_rs_pm_endpoint local, remote;
	const char *msg = NULL;
	int bad = 0, ret;

	if (GENL_REQ_ATTR_CHECK(info, MPTCP_PM_ATTR_ADDR) ||
	    GENL_REQ_ATTR_CHECK(info, MPTCP_PM_ATTR_ADDR_REMOTE) ||
	    GENL_REQ_ATTR_CHECK(info, MPTCP_PM_ATTR_TOKEN))
		return -EINVAL;
	ret = mptcp_rs_pm_parse_entry(info->attrs[MPTCP_PM_ATTR_ADDR], info, true, &local);
	if (ret < 0)
		return ret;
	ret = mptcp_rs_pm_parse_entry(info->attrs[MPTCP_PM_ATTR_ADDR_REMOTE], info, true,
				      &remote);
	if (ret < 0)
		return ret;
	ret = mptcp_rs_pm->us_subflow(genl_info_net(info), mptcp_rs_pm_token(info),
				      info->genlhdr->cmd == MPTCP_PM_CMD_SUBFLOW_CREATE, &local,
				      &remote, &msg, &bad);
	return mptcp_rs_pm_us_result(info, ret, msg, bad);
}

#define MPTCP_RS_PM_OP(_cmd, _doit, _policy, _maxattr, _flags) {	\
	.cmd = (_cmd),							\
	.validate = GENL_DONT_VALIDATE_STRICT,				\
	.doit = (_doit),						\
	.policy = (_policy),						\
	.maxattr = (_maxattr),						\
	.flags = (_flags),						\
}

static const struct genl_ops mptcp_rs_pm_genl_ops[] = {
	MPTCP_RS_PM_OP(MPTCP_PM_CMD_ADD_ADDR, mptcp_rs_pm_add_addr_doit,
		       mptcp_rs_pm_endpoint_policy, MPTCP_PM_ENDPOINT_ADDR, GENL_UNS_ADMIN_PERM),
	MPTCP_RS_PM_OP(MPTCP_PM_CMD_DEL_ADDR, mptcp_rs_pm_del_addr_doit,
		       mptcp_rs_pm_endpoint_policy, MPTCP_PM_ENDPOINT_ADDR, GENL_UNS_ADMIN_PERM),
	{
		.cmd = MPTCP_PM_CMD_GET_ADDR,
		.validate = GENL_DONT_VALIDATE_STRICT,
		.doit = mptcp_rs_pm_get_addr_doit,
		.dumpit = mptcp_rs_pm_get_addr_dumpit,
		.policy = mptcp_rs_pm_addr_token_policy,
		.maxattr = MPTCP_PM_ATTR_TOKEN,
	},
	MPTCP_RS_PM_OP(MPTCP_PM_CMD_FLUSH_ADDRS, mptcp_rs_pm_flush_addrs_doit,
		       mptcp_rs_pm_endpoint_policy, MPTCP_PM_ENDPOINT_ADDR, GENL_UNS_ADMIN_PERM),
	MPTCP_RS_PM_OP(MPTCP_PM_CMD_SET_LIMITS, mptcp_rs_pm_set_limits_doit,
		       mptcp_rs_pm_limits_policy, MPTCP_PM_ATTR_SUBFLOWS, GENL_UNS_ADMIN_PERM),
	MPTCP_RS_PM_OP(MPTCP_PM_CMD_GET_LIMITS, mptcp_rs_pm_get_limits_doit,
		       mptcp_rs_pm_limits_policy, MPTCP_PM_ATTR_SUBFLOWS, 0),
	MPTCP_RS_PM_OP(MPTCP_PM_CMD_SET_FLAGS, mptcp_rs_pm_set_flags_doit,
		       mptcp_rs_pm_addr_pair_policy, MPTCP_PM_ATTR_ADDR_REMOTE,
		       GENL_UNS_ADMIN_PERM),
	MPTCP_RS_PM_OP(MPTCP_PM_CMD_ANNOUNCE, mptcp_rs_pm_announce_doit,
		       mptcp_rs_pm_addr_token_policy, MPTCP_PM_ATTR_TOKEN, GENL_UNS_ADMIN_PERM),
	MPTCP_RS_PM_OP(MPTCP_PM_CMD_REMOVE, mptcp_rs_pm_remove_doit,
		       mptcp_rs_pm_remove_policy, MPTCP_PM_ATTR_LOC_ID, GENL_UNS_ADMIN_PERM),
	MPTCP_RS_PM_OP(MPTCP_PM_CMD_SUBFLOW_CREATE, mptcp_rs_pm_subflow_doit,
		       mptcp_rs_pm_addr_pair_policy, MPTCP_PM_ATTR_ADDR_REMOTE,
		       GENL_UNS_ADMIN_PERM),
	MPTCP_RS_PM_OP(MPTCP_PM_CMD_SUBFLOW_DESTROY, mptcp_rs_pm_subflow_doit,
		       mptcp_rs_pm_addr_pair_policy, MPTCP_PM_ATTR_ADDR_REMOTE,
		       GENL_UNS_ADMIN_PERM),
};

static struct genl_family mptcp_rs_pm_family = {
	.name		= MPTCP_PM_NAME,
	.version	= MPTCP_PM_VER,
	.netnsok	= true,
	.module		= THIS_MODULE,
	.ops		= mptcp_rs_pm_genl_ops,
	.n_ops		= ARRAY_SIZE(mptcp_rs_pm_genl_ops),
	.resv_start_op	= MPTCP_PM_CMD_SUBFLOW_DESTROY + 1,
	.mcgrps		= mptcp_rs_pm_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(mptcp_rs_pm_mcgrps),
};

/* Registers the family with @ops behind it; -EEXIST if another module has it. */
int mptcp_rs_pm_genl_register(const struct mptcp_rs_pm_ops *ops)
{
	int err;

	if (mptcp_rs_pm)
		return -EBUSY;
	mptcp_rs_pm = ops;
	err = genl_register_family(&mptcp_rs_pm_family);
	if (err)
		mptcp_rs_pm = NULL;
	return err;
}

/* Unregisters the family; no handler runs any more when this returns. */
void mptcp_rs_pm_genl_unregister(void)
{
	genl_unregister_family(&mptcp_rs_pm_family);
	mptcp_rs_pm = NULL;
}

bool mptcp_rs_pm_event_listeners(const struct net *net)
{
	return mptcp_rs_pm && genl_has_listeners(&mptcp_rs_pm_family, (struct net *)net,
				  MPTCP_RS_PM_EV_GRP_OFFSET);
}

static int mptcp_rs_pm_event_fill(struct sk_buff *skb, const struct mptcp_rs_pm_event *ev)
{
#define HAS(attr) (ev->present & BIT(attr))
	if ((HAS(MPTCP_ATTR_TOKEN) && nla_put_u32(skb, MPTCP_ATTR_TOKEN, ev->token)) ||
	    (HAS(MPTCP_ATTR_SERVER_SIDE) &&
	     nla_put_u8(skb, MPTCP_ATTR_SERVER_SIDE, ev->server_side)) ||
	    (HAS(MPTCP_ATTR_FLAGS) && nla_put_u16(skb, MPTCP_ATTR_FLAGS, ev->flags)) ||
	    (HAS(MPTCP_ATTR_FAMILY) && nla_put_u16(skb, MPTCP_ATTR_FAMILY, ev->family)) ||
	    (HAS(MPTCP_ATTR_SADDR4) && nla_put(skb, MPTCP_ATTR_SADDR4, 4, ev->saddr)) ||
	    (HAS(MPTCP_ATTR_SADDR6) && nla_put(skb, MPTCP_ATTR_SADDR6, 16, ev->saddr)) ||
	    (HAS(MPTCP_ATTR_DADDR4) && nla_put(skb, MPTCP_ATTR_DADDR4, 4, ev->daddr)) ||
	    (HAS(MPTCP_ATTR_DADDR6) && nla_put(skb, MPTCP_ATTR_DADDR6, 16, ev->daddr)) ||
	    (HAS(MPTCP_ATTR_SPORT) && nla_put_be16(skb, MPTCP_ATTR_SPORT, ev->sport)) ||
	    (HAS(MPTCP_ATTR_DPORT) && nla_put_be16(skb, MPTCP_ATTR_DPORT, ev->dport)) ||
	    (HAS(MPTCP_ATTR_LOC_ID) && nla_put_u8(skb, MPTCP_ATTR_LOC_ID, ev->loc_id)) ||
	    (HAS(MPTCP_ATTR_REM_ID) && nla_put_u8(skb, MPTCP_ATTR_REM_ID, ev->rem_id)) ||
	    (HAS(MPTCP_ATTR_BACKUP) && nla_put_u8(skb, MPTCP_ATTR_BACKUP, ev->backup)) ||
	    (HAS(MPTCP_ATTR_IF_IDX) && nla_put_s32(skb, MPTCP_ATTR_IF_IDX, ev->if_idx)) ||
	    (HAS(MPTCP_ATTR_ERROR) && nla_put_u8(skb, MPTCP_ATTR_ERROR, ev->error)) ||
	    (HAS(MPTCP_ATTR_TIMEOUT) && nla_put_u32(skb, MPTCP_ATTR_TIMEOUT, ev->timeout)) ||
	    (HAS(MPTCP_ATTR_RESET_REASON) &&
	     nla_put_u32(skb, MPTCP_ATTR_RESET_REASON, ev->reset_reason)) ||
	    (HAS(MPTCP_ATTR_RESET_FLAGS) &&
	     nla_put_u32(skb, MPTCP_ATTR_RESET_FLAGS, ev->reset_flags)))
		return -EMSGSIZE;
	return 0;
#undef HAS
}

/* The address part of @ssk (family, then addresses as @ssk's family stores them). */
static void mptcp_rs_pm_event_addrs(struct mptcp_rs_pm_event *ev, const struct sock *ssk,
				    bool daddr)
{
	const struct inet_sock *issk = inet_sk(ssk);

	ev->family = ssk->sk_family;
	ev->present |= BIT(MPTCP_ATTR_FAMILY);
	if (ssk->sk_family == AF_INET) {
		memcpy(ev->saddr, &issk->inet_saddr, 4);
		ev->present |= BIT(MPTCP_ATTR_SADDR4);
		if (daddr) {
			memcpy(ev->daddr, &issk->inet_daddr, 4);
			ev->present |= BIT(MPTCP_ATTR_DADDR4);
		}
#if IS_ENABLED(CONFIG_IPV6)
	} else if (ssk->sk_family == AF_INET6) {
		memcpy(ev->saddr, &inet6_sk(ssk)->saddr, 16);
		ev->present |= BIT(MPTCP_ATTR_SADDR6);
		if (daddr) {
			memcpy(ev->daddr, &ssk->sk_v6_daddr, 16);
			ev->present |= BIT(MPTCP_ATTR_DADDR6);
		}
#endif
	}
	ev->sport = issk->inet_sport;
	ev->present |= BIT(MPTCP_ATTR_SPORT);
}

void mptcp_rs_pm_event_subflow(struct mptcp_rs_pm_event *ev, const struct sock *ssk,
			       bool with_dev)
{
	mptcp_rs_pm_event_addrs(ev, ssk, true);
	ev->dport = inet_sk(ssk)->inet_dport;
	ev->present |= BIT(MPTCP_ATTR_DPORT);
	if (with_dev && READ_ONCE(ssk->sk_bound_dev_if)) {
		ev->if_idx = READ_ONCE(ssk->sk_bound_dev_if);
		ev->present |= BIT(MPTCP_ATTR_IF_IDX);
	}
}

void mptcp_rs_pm_event_listener(struct mptcp_rs_pm_event *ev, const struct sock *ssk)
{
	mptcp_rs_pm_event_addrs(ev, ssk, false);
}

u16 mptcp_rs_pm_event_dport(const struct sock *ssk)
{
	return inet_sk(ssk)->inet_dport;
}

int mptcp_rs_pm_event_send(struct net *net, u8 type, const struct mptcp_rs_pm_event *ev,
			   bool atomic)
{
	gfp_t gfp = atomic ? GFP_ATOMIC : GFP_KERNEL;
	struct sk_buff *skb;
	void *hdr;

	if (!mptcp_rs_pm || !mptcp_rs_pm_event_listeners(net))
		return 0;
	skb = nlmsg_new(NLMSG_DEFAULT_SIZE, gfp);
	if (!skb)
		return -ENOMEM;
	hdr = genlmsg_put(skb, 0, 0, &mptcp_rs_pm_family, 0, type);
	if (!hdr || mptcp_rs_pm_event_fill(skb, ev)) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	/* no listener (any more) is not an error, as for upstream */
	genlmsg_multicast_netns(&mptcp_rs_pm_family, net, skb, 0,
				MPTCP_RS_PM_EV_GRP_OFFSET, gfp);
	return 0;
}
