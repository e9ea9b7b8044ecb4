// SPDX-License-Identifier: GPL-2.0

//! The meta socket's own options, as upstream MPTCP has them
//! (`net/mptcp/sockopt.c`, `include/uapi/linux/mptcp.h`):
//!
//! * `getsockopt(SOL_MPTCP)`: `MPTCP_INFO` (the fields are `info.rs`'s),
//!   `MPTCP_TCPINFO` and `MPTCP_SUBFLOW_ADDRS` (one `struct tcp_info` or
//!   `struct mptcp_subflow_addrs` per subflow after a `struct mptcp_subflow_data`
//!   header through which caller and kernel agree on sizes), and `MPTCP_FULL_INFO`
//!   (`struct mptcp_info` plus per-subflow arrays in the caller's memory);
//! * `TCP_INQ`: recvmsg() adds a `TCP_CM_INQ` control message with the bytes left
//!   to read (upstream's hint: one more once the peer's DATA_FIN is in, 1 at EOF);
//! * the receive timestamps (`SO_TIMESTAMP`, `SO_TIMESTAMPNS`, `SO_TIMESTAMPING`,
//!   set on the meta socket by the socket core) as control messages of recvmsg();
//! * the ioctls `SIOCINQ` (`FIONREAD`), `SIOCOUTQ` and `SIOCOUTQNSD`.
//!
//! Subflows are walked with the meta socket owned ([`Meta::subflows`]); each
//! subflow's lock is taken by the helper that reads it (`tcp_get_info()`), nested
//! inside the meta socket's.

use crate::bindings;
use crate::proto::seq::after64;
use crate::sock::Meta;
use crate::tcp_state::{TCP_CLOSE, TCP_LISTEN, TCP_SYN_RECV, TCP_SYN_SENT};
use core::mem::{offset_of, size_of};
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::ffi::{c_char, c_int, c_void};

/// `SOL_MPTCP` (`include/linux/socket.h`).
pub(crate) const SOL_MPTCP: c_int = 284;
/// `SOL_MPTCP` option names.
const MPTCP_INFO: c_int = 1;
const MPTCP_TCPINFO: c_int = 2;
const MPTCP_SUBFLOW_ADDRS: c_int = 3;
const MPTCP_FULL_INFO: c_int = 4;
/// `TCP_INQ` (`include/uapi/linux/tcp.h`).
pub(crate) const TCP_INQ: c_int = 36;
/// ioctls (`include/uapi/asm-generic/ioctls.h`, `include/uapi/linux/sockios.h`).
const SIOCINQ: c_int = 0x541b;
const SIOCOUTQ: c_int = 0x5411;
const SIOCOUTQNSD: c_int = 0x894b;

use crate::sock::errno::{EFAULT, EINVAL, EOPNOTSUPP};
const ENOIOCTLCMD: c_int = 515;
const RCV_SHUTDOWN: u8 = 1;
const INT_MAX: u32 = i32::MAX as u32;

/// `sizeof(struct mptcp_subflow_data)`: the least a caller passes.
const SFD_LEN: u32 = size_of::<bindings::mptcp_subflow_data>() as u32;
/// The part of `struct mptcp_full_info` before its `mptcp_info`: the least a caller
/// passes.
const FULL_INFO_HDR: u32 = offset_of!(bindings::mptcp_full_info, mptcp_info) as u32;
const TCP_INFO_LEN: u32 = size_of::<bindings::tcp_info>() as u32;
const ADDRS_LEN: u32 = size_of::<bindings::mptcp_subflow_addrs>() as u32;
const SF_INFO_LEN: u32 = size_of::<bindings::mptcp_subflow_info>() as u32;
const MPTCP_INFO_LEN: u32 = size_of::<bindings::mptcp_info>() as u32;

/// Options of one meta socket.
pub(crate) struct MetaOpts {
    /// `TCP_INQ`: recvmsg() reports the bytes left to read.
    recvmsg_inq: AtomicBool,
}

impl MetaOpts {
    pub(crate) fn new() -> Self {
        MetaOpts {
            recvmsg_inq: AtomicBool::new(false),
        }
    }

    /// A listener's options, for a connection it accepts (as the socket core copies
    /// the listener's socket options to the clone).
    pub(crate) fn clone_for_child(&self) -> Self {
        MetaOpts {
            recvmsg_inq: AtomicBool::new(self.inq()),
        }
    }

    pub(crate) fn inq(&self) -> bool {
        self.recvmsg_inq.load(Ordering::Relaxed)
    }
}

/// `setsockopt(SOL_TCP, TCP_INQ)`: 0 or 1, as TCP takes it.
///
/// # Safety
///
/// `optval` points to the caller's `sockptr_t`.
pub(crate) unsafe fn set_inq(meta: &Meta, optval: *const c_void, optlen: u32) -> c_int {
    let mut val: c_int = 0;
    // SAFETY: per the contract.
    let err = unsafe { bindings::mptcp_rs_get_int_sockptr(optval, optlen, &mut val) };
    if err != 0 {
        return err;
    }
    if !(0..=1).contains(&val) {
        return -EINVAL;
    }
    meta.opts().recvmsg_inq.store(val == 1, Ordering::Relaxed);
    0
}

/// `getsockopt(SOL_TCP, TCP_INQ)`.
///
/// # Safety
///
/// `optval`/`optlen` are the caller's user pointers.
pub(crate) unsafe fn get_inq(meta: &Meta, optval: *mut c_char, optlen: *mut c_int) -> c_int {
    // SAFETY: per the contract.
    unsafe { bindings::mptcp_rs_put_int_option(optval, optlen, c_int::from(meta.opts().inq())) }
}

/// What recvmsg() leaves to read: in-order bytes queued on the meta socket, plus one
/// once the peer's DATA_FIN is in (it takes a data sequence number); 1 at EOF with
/// nothing queued. The meta socket is owned.
pub(crate) fn inq_hint(meta: &Meta) -> u32 {
    let sk = meta.sk();
    // SAFETY: the meta socket is owned: its receive queue is stable.
    let skb = unsafe { bindings::mptcp_rs_rcv_peek(sk) };
    if !skb.is_null() {
        // SAFETY: a queued skb of ours carries our control block.
        let cb = unsafe { &*bindings::mptcp_rs_skb_cb(skb) };
        let head = cb.dsn.wrapping_add(u64::from(cb.offset));
        let left = meta.ack_seq().wrapping_sub(head);
        return u32::try_from(left).map_or(INT_MAX, |v| v.min(INT_MAX));
    }
    // SAFETY: live socket.
    let shut = unsafe { bindings::mptcp_rs_shutdown(sk) };
    u32::from(meta.state() == TCP_CLOSE || shut & RCV_SHUTDOWN != 0)
}

/// The control messages recvmsg() collects while it copies.
pub(crate) struct RecvCmsgs {
    inq: bool,
    ts: bool,
    tss: bindings::scm_timestamping_internal,
}

impl RecvCmsgs {
    pub(crate) fn new(meta: &Meta) -> Self {
        RecvCmsgs {
            inq: meta.opts().inq(),
            ts: false,
            tss: bindings::scm_timestamping_internal::default(),
        }
    }

    /// `skb` (on the meta socket's receive queue) is being read.
    pub(crate) fn skb_read(&mut self, skb: *mut bindings::sk_buff) {
        // SAFETY: a queued skb of ours carries our control block.
        if unsafe { (*bindings::mptcp_rs_skb_cb(skb)).has_rxtstamp } {
            // SAFETY: `skb` is live; `tss` is ours.
            unsafe { bindings::mptcp_rs_skb_rx_tstamp(skb, &mut self.tss) };
            self.ts = true;
        }
    }

    /// Puts the control messages into `msg` at the end of a read that did not fail,
    /// with the meta socket still owned (as upstream: timestamps of the last skb
    /// read, then the `TCP_INQ` hint).
    ///
    /// # Safety
    ///
    /// `msg` is the caller's.
    pub(crate) unsafe fn put(&mut self, meta: &Meta, msg: *mut bindings::msghdr) {
        if self.ts {
            // SAFETY: per the contract; the meta socket is live.
            unsafe { bindings::mptcp_rs_put_rx_timestamp(msg, meta.sk(), &mut self.tss) };
        }
        if self.inq {
            // SAFETY: per the contract.
            unsafe { bindings::mptcp_rs_put_inq(msg, inq_hint(meta)) };
        }
    }
}

/// `ioctl()` `SIOCOUTQ`/`SIOCOUTQNSD` (`nsd`): bytes not yet acknowledged at the data
/// level, or not yet sent. After fallback, the subflow's own (TCP's) count. The meta
/// socket is owned.
fn outq(meta: &Meta, nsd: bool) -> Result<c_int, c_int> {
    let state = meta.state();
    if state == TCP_LISTEN {
        return Err(-EINVAL);
    }
    if state == TCP_SYN_SENT || state == TCP_SYN_RECV {
        return Ok(0);
    }
    let (mut unacked, mut notsent) = (0u64, 0u64);
    for (ssk, _) in meta.subflows() {
        // SAFETY: a subflow of the owned meta socket.
        let sf_state = unsafe { bindings::mptcp_rs_sk_state(ssk) };
        if sf_state == TCP_SYN_SENT || sf_state == TCP_SYN_RECV || sf_state == TCP_CLOSE {
            continue;
        }
        let (mut u, mut n) = (0u32, 0u32);
        // SAFETY: as above.
        unsafe { bindings::mptcp_rs_sf_outq(ssk, &mut u, &mut n) };
        notsent = notsent.saturating_add(u64::from(n));
        if meta.is_fallback() {
            unacked = unacked.saturating_add(u64::from(u));
        }
    }
    if !meta.is_fallback() {
        let una = meta.snd_una();
        let write_seq = meta.write_seq();
        unacked = if after64(write_seq, una) {
            write_seq.wrapping_sub(una)
        } else {
            0
        };
    }
    let v = if nsd { notsent.min(unacked) } else { unacked };
    Ok(c_int::try_from(v).unwrap_or(c_int::MAX))
}

/// `ioctl()` on the meta socket, owned by the caller; `SIOCINQ` moves what waits on
/// the subflows first (`pull`).
pub(crate) fn ioctl(meta: &Meta, cmd: c_int, karg: &mut c_int, pull: impl FnOnce()) -> c_int {
    let r = match cmd {
        SIOCINQ => {
            if meta.state() == TCP_LISTEN {
                Err(-EINVAL)
            } else {
                pull();
                Ok(c_int::try_from(inq_hint(meta)).unwrap_or(c_int::MAX))
            }
        }
        SIOCOUTQ => outq(meta, false),
        SIOCOUTQNSD => outq(meta, true),
        _ => Err(-ENOIOCTLCMD),
    };
    match r {
        Ok(v) => {
            *karg = v;
            0
        }
        Err(e) => e,
    }
}

/// `getsockopt()` at level `SOL_MPTCP`, with the meta socket owned by the caller.
///
/// # Safety
///
/// `optval`/`optlen` are the caller's user pointers.
pub(crate) unsafe fn getsockopt(
    meta: &Meta,
    listening: bool,
    name: c_int,
    optval: *mut c_char,
    optlen: *mut c_int,
) -> c_int {
    // as upstream: a connection that fell back to TCP answers as a TCP socket does
    if meta.is_fallback() {
        return -EOPNOTSUPP;
    }
    // SAFETY (all arms): the caller's user pointers, the owned meta socket.
    match name {
        MPTCP_INFO => {
            let info = crate::info::fill(meta, meta.first_ssk(), listening);
            // SAFETY: see above; `info` is a plain struct of its size.
            unsafe {
                bindings::mptcp_rs_put_sockopt(
                    optval,
                    optlen,
                    core::ptr::from_ref(&info).cast(),
                    MPTCP_INFO_LEN as usize,
                )
            }
        }
        // SAFETY: see above.
        MPTCP_TCPINFO => unsafe { subflow_array(meta, optval, optlen, Array::TcpInfo) },
        // SAFETY: see above.
        MPTCP_SUBFLOW_ADDRS => unsafe { subflow_array(meta, optval, optlen, Array::Addrs) },
        // SAFETY: see above.
        MPTCP_FULL_INFO => unsafe { full_info(meta, listening, optval, optlen) },
        _ => -EOPNOTSUPP,
    }
}

fn status(r: c_int) -> Result<(), c_int> {
    if r == 0 {
        Ok(())
    } else {
        Err(r)
    }
}

/// Copies `len` bytes of `val` to user address `dst`.
///
/// # Safety
///
/// `dst` is a user pointer; `len` is at most the size of `T`.
unsafe fn to_user<T>(dst: *mut c_char, val: &T, len: u32) -> Result<(), c_int> {
    if len as usize > size_of::<T>() {
        return Err(-EFAULT);
    }
    // SAFETY: per the contract, `val` has `len` bytes.
    status(unsafe {
        bindings::mptcp_rs_to_user(dst.cast(), core::ptr::from_ref(val).cast(), len as usize)
    })
}

/// The user's option length.
///
/// # Safety
///
/// `optlen` is a user pointer.
unsafe fn get_len(optlen: *mut c_int) -> Result<c_int, c_int> {
    let mut len: c_int = 0;
    // SAFETY: per the contract.
    status(unsafe { bindings::mptcp_rs_get_optlen(optlen, &mut len) })?;
    Ok(len)
}

/// Reads the caller's `struct mptcp_subflow_data` header; returns it with the room
/// after it (`optlen` minus the caller's header size), or the error upstream gives
/// for a header it does not accept.
///
/// # Safety
///
/// `optval`/`optlen` are user pointers.
unsafe fn get_sfd(
    optval: *mut c_char,
    optlen: *mut c_int,
) -> Result<(bindings::mptcp_subflow_data, u32), c_int> {
    // SAFETY: per the contract.
    let len = unsafe { get_len(optlen) }?;
    let len = u32::try_from(len).map_err(|_| -EINVAL)?;
    if len < SFD_LEN {
        return Err(-EINVAL);
    }
    let mut sfd = bindings::mptcp_subflow_data::default();
    // SAFETY: `sfd` has `SFD_LEN` bytes; the caller's buffer at least as many.
    status(unsafe {
        bindings::mptcp_rs_from_user(
            core::ptr::from_mut(&mut sfd).cast(),
            optval.cast_const().cast(),
            SFD_LEN as usize,
        )
    })?;
    if sfd.size_subflow_data > INT_MAX || sfd.size_user > INT_MAX {
        return Err(-EINVAL);
    }
    if sfd.size_subflow_data < SFD_LEN || sfd.size_subflow_data > len {
        return Err(-EINVAL);
    }
    if sfd.num_subflows != 0 || sfd.size_kernel != 0 {
        return Err(-EINVAL);
    }
    Ok((sfd, len - sfd.size_subflow_data))
}

/// The per-subflow element of `MPTCP_TCPINFO` / `MPTCP_SUBFLOW_ADDRS`.
#[derive(Clone, Copy)]
enum Array {
    TcpInfo,
    Addrs,
}

/// `MPTCP_TCPINFO` / `MPTCP_SUBFLOW_ADDRS`: after the caller's header, one element
/// per subflow, each `size_user` bytes (the smaller of the caller's and ours), as
/// many as fit; the header comes back with the number of subflows and both sizes,
/// `optlen` with the bytes written (only the header, cut to the caller's, if no
/// element was).
///
/// # Safety
///
/// `optval`/`optlen` are user pointers; the meta socket is owned.
unsafe fn subflow_array(
    meta: &Meta,
    optval: *mut c_char,
    optlen: *mut c_int,
    kind: Array,
) -> c_int {
    // SAFETY: per the contract.
    let (mut sfd, mut room) = match unsafe { get_sfd(optval, optlen) } {
        Ok(v) => v,
        Err(e) => return e,
    };
    let kernel_len = match kind {
        Array::TcpInfo => TCP_INFO_LEN,
        Array::Addrs => ADDRS_LEN,
    };
    sfd.size_kernel = kernel_len;
    sfd.size_user = sfd.size_user.min(kernel_len);
    let elem = sfd.size_user;
    let mut dst = optval.wrapping_add(sfd.size_subflow_data as usize);
    let (mut count, mut copied) = (0u32, 0u32);
    for (ssk, _) in meta.subflows() {
        count = count.wrapping_add(1);
        if room == 0 || room < elem {
            continue;
        }
        // SAFETY: a subflow of the owned meta socket; `dst` is within the caller's
        // buffer (`room` bytes left); `elem` is at most the element's size.
        let r = unsafe {
            match kind {
                Array::TcpInfo => {
                    let mut info = bindings::tcp_info::default();
                    bindings::mptcp_rs_sf_tcp_info(ssk, &mut info);
                    to_user(dst, &info, elem)
                }
                Array::Addrs => {
                    let mut a = bindings::mptcp_subflow_addrs::default();
                    bindings::mptcp_rs_sf_addrs(ssk, &mut a);
                    to_user(dst, &a, elem)
                }
            }
        };
        if let Err(e) = r {
            return e;
        }
        dst = dst.wrapping_add(elem as usize);
        copied = copied.wrapping_add(elem);
        room -= elem;
    }
    sfd.num_subflows = count;
    let hdr = sfd.size_subflow_data.min(SFD_LEN);
    let total = if copied != 0 {
        copied.wrapping_add(sfd.size_subflow_data)
    } else {
        hdr
    };
    // SAFETY: per the contract; `total` is at most the caller's length.
    let r = unsafe { bindings::mptcp_rs_put_optlen(optlen, total as c_int) };
    if r != 0 {
        return r;
    }
    // SAFETY: as above; `hdr` is at most the header's size.
    match unsafe { to_user(optval, &sfd, hdr) } {
        Ok(()) => 0,
        Err(e) => e,
    }
}

/// `MPTCP_FULL_INFO`: `struct mptcp_info` (as much as the caller has room for after
/// the header) and, in the caller's arrays, up to `size_arrays_user` subflows' ids
/// and addresses (`struct mptcp_subflow_info`) and `struct tcp_info`.
///
/// # Safety
///
/// `optval`/`optlen` are user pointers; the meta socket is owned.
unsafe fn full_info(
    meta: &Meta,
    listening: bool,
    optval: *mut c_char,
    optlen: *mut c_int,
) -> c_int {
    // SAFETY: per the contract.
    match unsafe { full_info_inner(meta, listening, optval, optlen) } {
        Ok(()) => 0,
        Err(e) => e,
    }
}

/// # Safety
///
/// As [`full_info`].
unsafe fn full_info_inner(
    meta: &Meta,
    listening: bool,
    optval: *mut c_char,
    optlen: *mut c_int,
) -> Result<(), c_int> {
    // SAFETY: per the contract.
    let len = unsafe { get_len(optlen) }?;
    let len = u32::try_from(len).map_err(|_| -EINVAL)?;
    if len < FULL_INFO_HDR {
        return Err(-EINVAL);
    }
    let mut mfi = bindings::mptcp_full_info::default();
    // SAFETY: the header is the first `FULL_INFO_HDR` bytes of `mfi`; the caller's
    // buffer has as many.
    status(unsafe {
        bindings::mptcp_rs_from_user(
            core::ptr::from_mut(&mut mfi).cast(),
            optval.cast_const().cast(),
            FULL_INFO_HDR as usize,
        )
    })?;
    if mfi.size_tcpinfo_kernel != 0 || mfi.size_sfinfo_kernel != 0 || mfi.num_subflows != 0 {
        return Err(-EINVAL);
    }
    if mfi.size_sfinfo_user > INT_MAX || mfi.size_tcpinfo_user > INT_MAX {
        return Err(-EINVAL);
    }
    let room = len - FULL_INFO_HDR;
    let mut copylen = 0u32;
    if room > 0 {
        mfi.mptcp_info = crate::info::fill(meta, meta.first_ssk(), listening);
        copylen = room.min(MPTCP_INFO_LEN);
    }
    mfi.size_tcpinfo_kernel = TCP_INFO_LEN;
    mfi.size_tcpinfo_user = mfi.size_tcpinfo_user.min(TCP_INFO_LEN);
    mfi.size_sfinfo_kernel = SF_INFO_LEN;
    mfi.size_sfinfo_user = mfi.size_sfinfo_user.min(SF_INFO_LEN);
    let addrs_at = offset_of!(bindings::mptcp_subflow_info, addrs) as u32;
    let mut sf_dst = mfi.subflow_info as usize as *mut c_char;
    let mut tcp_dst = mfi.tcp_info as usize as *mut c_char;
    let mut count = 0u32;
    for (ssk, id) in meta.subflows() {
        let n = count;
        count = count.wrapping_add(1);
        if n >= mfi.size_arrays_user {
            continue;
        }
        let mut sfinfo = bindings::mptcp_subflow_info {
            id,
            ..Default::default()
        };
        if mfi.size_sfinfo_user > addrs_at {
            // SAFETY: a subflow of the owned meta socket.
            unsafe { bindings::mptcp_rs_sf_addrs(ssk, &mut sfinfo.addrs) };
        }
        // SAFETY: the caller's array (at least `size_arrays_user` elements of
        // `size_sfinfo_user` bytes, as the caller promises upstream).
        unsafe { to_user(sf_dst, &sfinfo, mfi.size_sfinfo_user) }?;
        if mfi.size_tcpinfo_user != 0 {
            let mut info = bindings::tcp_info::default();
            // SAFETY: as above.
            unsafe {
                bindings::mptcp_rs_sf_tcp_info(ssk, &mut info);
                to_user(tcp_dst, &info, mfi.size_tcpinfo_user)
            }?;
        }
        sf_dst = sf_dst.wrapping_add(mfi.size_sfinfo_user as usize);
        tcp_dst = tcp_dst.wrapping_add(mfi.size_tcpinfo_user as usize);
    }
    mfi.num_subflows = count;
    let total = copylen + FULL_INFO_HDR;
    // SAFETY: per the contract; `total` is at most the caller's length.
    status(unsafe { bindings::mptcp_rs_put_optlen(optlen, total as c_int) })?;
    // SAFETY: `total` is at most the size of `mfi`.
    unsafe { to_user(optval, &mfi, total) }
}
