// SPDX-License-Identifier: GPL-2.0

//! `getsockopt(SOL_MPTCP, MPTCP_INFO)` and `ss -M` (sock_diag): the connection-level
//! counters and state upstream reports in `struct mptcp_info`
//! (`include/uapi/linux/mptcp.h`), with upstream's meaning for every field mptcp_rs
//! has (see `Documentation/mptcp-rs/socket.rst`). The diag handler itself is C
//! (`rust/diag_shim.c`); it calls back here for the fields.

use crate::bindings;
use crate::net::Net;
use crate::proto::crypto::key_derive;
use crate::sha256::KernelSha256;
use crate::sock::Meta;
use crate::tcp_state::TCP_LISTEN;
use kernel::error::to_result;
use kernel::prelude::*;

/// `mptcpi_flags` bits.
const FLAG_FALLBACK: u32 = 1 << 0;
const FLAG_REMOTE_KEY_RECEIVED: u32 = 1 << 1;

/// Fills `info` for connection `meta`, with the meta socket owned by the caller.
///
/// `first` is the connection's first subflow socket (null if there is none); `listening`
/// says the meta socket listens (then only the path-manager fields are set, as
/// upstream does).
pub(crate) fn fill(
    meta: &Meta,
    first: *mut bindings::sock,
    listening: bool,
) -> bindings::mptcp_info {
    let mut info = bindings::mptcp_info::default();
    // SAFETY: the meta socket is owned by the caller, so its namespace is alive.
    let net = unsafe { Net::of_sock(meta.sk()) };
    if listening {
        return info;
    }
    if let Some(pm) = crate::pm::info(net) {
        info.mptcpi_subflows_max = pm.extra_subflows;
        info.mptcpi_add_addr_signal_max = pm.signal;
        info.mptcpi_add_addr_accepted_max = pm.add_addr_accepted;
        info.mptcpi_local_addr_max = pm.subflow;
        info.mptcpi_endp_laminar_max = pm.laminar;
        info.mptcpi_endp_fullmesh_max = pm.fullmesh;
    }
    let mut flags = 0;
    if meta.is_fallback() {
        flags |= FLAG_FALLBACK;
    }
    if meta.remote_key() != 0 {
        flags |= FLAG_REMOTE_KEY_RECEIVED;
    }
    info.mptcpi_flags = flags;
    info.mptcpi_csum_enabled = u8::from(meta.checksum());
    info.mptcpi_token = key_derive::<KernelSha256>(meta.local_key()).token;
    let data_start = meta.local_idsn().wrapping_add(1);
    let snd_una = meta.snd_una();
    info.mptcpi_snd_una = snd_una;
    info.mptcpi_bytes_acked = snd_una.wrapping_sub(data_start);
    info.mptcpi_rcv_nxt = meta.ack_seq();
    if meta.remote_key() != 0 {
        let peer_start = key_derive::<KernelSha256>(meta.remote_key())
            .idsn
            .wrapping_add(1);
        // the peer's DATA_FIN takes a DSN but carries no byte
        let fin = u64::from(meta.rcv_data_fin_done());
        info.mptcpi_bytes_received = meta.ack_seq().wrapping_sub(peer_start).wrapping_sub(fin);
    }
    info.mptcpi_write_seq = data_start;
    (info.mptcpi_add_addr_signal, info.mptcpi_add_addr_accepted) =
        meta.joins().addrs().info_counts();
    if first.is_null() {
        return info;
    }
    // subflows besides the first, as upstream counts them; and all of them
    let joined = u8::try_from(meta.joins().count()).unwrap_or(u8::MAX);
    info.mptcpi_subflows = joined;
    // (a first subflow closed, by the path manager or a reset, is not counted, as
    // upstream's `__mptcp_has_initial_subflow()`)
    info.mptcpi_subflows_total = joined.saturating_add(u8::from(meta.first_counted()));
    info.mptcpi_write_seq = meta.write_seq();
    let mut sub = bindings::mptcp_rs_subflow_stats::default();
    // SAFETY: as above; the shim reads the subflow's counters under its lock.
    unsafe { bindings::mptcp_rs_subflow_stats(first, &mut sub) };
    info.mptcpi_bytes_sent = sub.bytes_sent;
    info.mptcpi_bytes_retrans = sub.bytes_retrans;
    info.mptcpi_retransmits = sub.retransmits;
    info.mptcpi_last_data_sent = sub.last_data_sent;
    info.mptcpi_last_data_recv = sub.last_data_recv;
    info.mptcpi_last_ack_recv = sub.last_ack_recv;
    info
}

/// The listening meta socket's first subflow (its TCP listener), for the diag
/// handler's queue sizes.
extern "C" fn diag_first(sk: *mut bindings::sock) -> *mut bindings::sock {
    // SAFETY: the diag handler holds a reference on `sk`, one of our meta sockets.
    match unsafe { Meta::from_sk(sk) } {
        Some(meta) => meta.first_ssk(),
        None => core::ptr::null_mut(),
    }
}

/// `INET_DIAG_INFO` of meta socket `sk` (process context, a reference held).
extern "C" fn diag_fill(sk: *mut bindings::sock, info: *mut bindings::mptcp_info) {
    // SAFETY: the diag handler holds a reference on `sk`, in process context.
    unsafe { bindings::mptcp_rs_lock_sock(sk) };
    // SAFETY: as above; the state lives as long as the socket.
    if let Some(meta) = unsafe { Meta::from_sk(sk) } {
        let listening = meta.state() == TCP_LISTEN;
        let filled = fill(meta, meta.first_ssk(), listening);
        // SAFETY: `info` is the handler's buffer of `idiag_info_size` bytes, the
        // payload of a netlink attribute: 4-byte aligned only (the struct has u64s).
        unsafe { info.write_unaligned(filled) };
    }
    // SAFETY: locked above.
    unsafe { bindings::release_sock(sk) };
}

/// The sock_diag handler for `IPPROTO_MPTCP` (what `ss -M` asks), unregistered on drop.
pub(crate) struct DiagRegistration;

impl DiagRegistration {
    pub(crate) fn new(module: &'static ThisModule) -> Result<Self> {
        // SAFETY: the callbacks are valid for as long as the handler is registered,
        // which ends in `drop`; the module reference pins this code while dumping.
        to_result(unsafe {
            bindings::mptcp_rs_diag_register(
                module.as_ptr().cast(),
                Some(diag_first),
                Some(diag_fill),
                Some(crate::subflow::ulp_info),
            )
        })?;
        Ok(Self)
    }
}

impl Drop for DiagRegistration {
    fn drop(&mut self) {
        // SAFETY: registered in `new`.
        unsafe { bindings::mptcp_rs_diag_unregister() };
    }
}
