// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers of the meta socket's options (see rust/sockopt.rs): user memory
 * for the SOL_MPTCP getsockopts, what each subflow reports (TCP's tcp_info,
 * its addresses), the TCP_INQ and receive timestamp control messages of
 * recvmsg(), the queue sizes of the ioctls. The option logic is in Rust.
 */

#include <linux/in.h>
#include <linux/in6.h>
#include <linux/net_tstamp.h>
#include <linux/socket.h>
#include <linux/sockptr.h>
#include <linux/tcp.h>
#include <linux/time64.h>
#include <linux/uaccess.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <uapi/linux/mptcp.h>
#include "mptcp_rs_sockopt.h"

int mptcp_rs_get_optlen(const int __user *optlen, int *len)
{
	return get_user(*len, optlen) ? -EFAULT : 0;
}

int mptcp_rs_put_optlen(int __user *optlen, int len)
{
	return put_user(len, optlen) ? -EFAULT : 0;
}

int mptcp_rs_from_user(void *dst, const void __user *src, size_t n)
{
	return copy_from_user(dst, src, n) ? -EFAULT : 0;
}

int mptcp_rs_to_user(void __user *dst, const void *src, size_t n)
{
	return copy_to_user(dst, src, n) ? -EFAULT : 0;
}

int mptcp_rs_get_int_sockptr(const void *optval_sockptr, unsigned int optlen, int *val)
{
	sockptr_t optval = *(const sockptr_t *)optval_sockptr;

	if (optlen < sizeof(int))
		return -EINVAL;
	return copy_from_sockptr(val, optval, sizeof(*val)) ? -EFAULT : 0;
}

int mptcp_rs_put_int_option(char __user *optval, int __user *optlen, int val)
{
	int len;

	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;
	if (len > 0 && len < sizeof(int) && val >= 0 && val <= 255) {
		unsigned char byte = val;

		if (put_user(1, optlen) || copy_to_user(optval, &byte, 1))
			return -EFAULT;
		return 0;
	}
	len = min_t(unsigned int, len, sizeof(int));
	if (put_user(len, optlen) || copy_to_user(optval, &val, len))
		return -EFAULT;
	return 0;
}

/* tcp_get_info() takes the subflow's lock itself (nested in the owned meta). */
void mptcp_rs_sf_tcp_info(struct sock *ssk, struct tcp_info *info)
{
	tcp_get_info(ssk, info);
}

/*
 * The subflow's local and remote address and port, of its own family (a
 * v4-mapped subflow of an IPv6 socket reports IPv6 addresses); the local
 * address is the bound one, else the source address routing chose.
 */
void mptcp_rs_sf_addrs(const struct sock *ssk, struct mptcp_subflow_addrs *a)
{
	const struct inet_sock *inet = inet_sk(ssk);

	memset(a, 0, sizeof(*a));
	if (ssk->sk_family == AF_INET) {
		a->sin_local.sin_family = AF_INET;
		a->sin_local.sin_port = inet->inet_sport;
		a->sin_local.sin_addr.s_addr = inet->inet_rcv_saddr ?: inet->inet_saddr;
		a->sin_remote.sin_family = AF_INET;
		a->sin_remote.sin_port = inet->inet_dport;
		a->sin_remote.sin_addr.s_addr = inet->inet_daddr;
		return;
	}
#if IS_ENABLED(CONFIG_IPV6)
	if (ssk->sk_family == AF_INET6) {
		const struct ipv6_pinfo *np = inet6_sk(ssk);

		if (!np)
			return;
		a->sin6_local.sin6_family = AF_INET6;
		a->sin6_local.sin6_port = inet->inet_sport;
		a->sin6_local.sin6_addr = ipv6_addr_any(&ssk->sk_v6_rcv_saddr) ?
					  np->saddr : ssk->sk_v6_rcv_saddr;
		a->sin6_remote.sin6_family = AF_INET6;
		a->sin6_remote.sin6_port = inet->inet_dport;
		a->sin6_remote.sin6_addr = ssk->sk_v6_daddr;
	}
#endif
}

void mptcp_rs_sf_outq(struct sock *ssk, u32 *unacked, u32 *notsent)
{
	const struct tcp_sock *tp = tcp_sk(ssk);
	u32 write_seq = READ_ONCE(tp->write_seq);

	*unacked = write_seq - READ_ONCE(tp->snd_una);
	*notsent = write_seq - READ_ONCE(tp->snd_nxt);
}

void mptcp_rs_skb_rx_tstamp(struct sk_buff *skb, struct scm_timestamping_internal *tss)
{
	tcp_update_recv_tstamps(skb, tss);
}

/*
 * The receive timestamp control messages of a stream read, as TCP puts them
 * (tcp_recv_timestamp() is TCP's own): SO_TIMESTAMP{,NS}_{OLD,NEW} for
 * SO_TIMESTAMP{,NS}, SCM_TIMESTAMPING{,64} for SO_TIMESTAMPING's software and
 * hardware receive stamps. @tss holds the stamps of the last skb read.
 */
void mptcp_rs_put_rx_timestamp(struct msghdr *msg, const struct sock *sk,
			       struct scm_timestamping_internal *tss)
{
	bool new_tstamp = sock_flag(sk, SOCK_TSTAMP_NEW);
	u32 tsflags = READ_ONCE(sk->sk_tsflags);

	if (tss->ts[0] && sock_flag(sk, SOCK_RCVTSTAMP)) {
		struct timespec64 tv = ktime_to_timespec64(tss->ts[0]);

		if (sock_flag(sk, SOCK_RCVTSTAMPNS) && new_tstamp) {
			struct __kernel_timespec ts = { .tv_sec = tv.tv_sec, .tv_nsec = tv.tv_nsec };

			put_cmsg(msg, SOL_SOCKET, SO_TIMESTAMPNS_NEW, sizeof(ts), &ts);
		} else if (sock_flag(sk, SOCK_RCVTSTAMPNS)) {
			struct __kernel_old_timespec ts = { .tv_sec = tv.tv_sec,
							    .tv_nsec = tv.tv_nsec };

			put_cmsg(msg, SOL_SOCKET, SO_TIMESTAMPNS_OLD, sizeof(ts), &ts);
		} else if (new_tstamp) {
			struct __kernel_sock_timeval tv_new = { .tv_sec = tv.tv_sec,
								.tv_usec = tv.tv_nsec / 1000 };

			put_cmsg(msg, SOL_SOCKET, SO_TIMESTAMP_NEW, sizeof(tv_new), &tv_new);
		} else {
			struct __kernel_old_timeval tv_old = { .tv_sec = tv.tv_sec,
							       .tv_usec = tv.tv_nsec / 1000 };

			put_cmsg(msg, SOL_SOCKET, SO_TIMESTAMP_OLD, sizeof(tv_old), &tv_old);
		}
	}
	/* SO_TIMESTAMPING: software and hardware stamps the flags ask for */
	if (!(tsflags & SOF_TIMESTAMPING_SOFTWARE &&
	      (tsflags & SOF_TIMESTAMPING_RX_SOFTWARE ||
	       !(tsflags & SOF_TIMESTAMPING_OPT_RX_FILTER))))
		tss->ts[0] = 0;
	if (!(tsflags & SOF_TIMESTAMPING_RAW_HARDWARE &&
	      (tsflags & SOF_TIMESTAMPING_RX_HARDWARE ||
	       !(tsflags & SOF_TIMESTAMPING_OPT_RX_FILTER))))
		tss->ts[2] = 0;
	if (tss->ts[0] || tss->ts[2]) {
		tss->ts[1] = 0;
		if (new_tstamp)
			put_cmsg_scm_timestamping64(msg, tss);
		else
			put_cmsg_scm_timestamping(msg, tss);
	}
}

void mptcp_rs_put_inq(struct msghdr *msg, unsigned int inq)
{
	put_cmsg(msg, SOL_TCP, TCP_CM_INQ, sizeof(inq), &inq);
}
