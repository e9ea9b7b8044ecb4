// SPDX-License-Identifier: GPL-2.0

//! The userspace path manager (`net.mptcp.pm_type = 1`, `path_manager =
//! "userspace"`): a program such as `mptcpd` or the selftests' `pm_nl_ctl` drives
//! each connection through the generic netlink family `mptcp_pm`, naming it by its
//! token (`MPTCP_PM_ATTR_TOKEN`), with upstream's commands and meaning
//! (`net/mptcp/pm_userspace.c`):
//!
//! | command | what it does |
//! |---|---|
//! | `ANNOUNCE` | records our address (id not 0, `signal`) and sends ADD_ADDR for it |
//! | `REMOVE` | forgets our address with that id and sends REMOVE_ADDR if it was announced or a subflow uses it (id 0: the initial subflow's) |
//! | `SUBFLOW_CREATE` | records the local address (with its id) and opens a join from it (from its port, if given) to the remote address and port |
//! | `SUBFLOW_DESTROY` | closes the joined subflow with those addresses and ports, forgets its local address |
//! | `SET_FLAGS` | MP_PRIO (backup or not) on the subflows between the two addresses |
//! | `GET_ADDR` | our known addresses of the connection (by id, or all) |
//!
//! A connection uses the userspace path manager when the namespace selected it at
//! the connection's creation. Such a connection announces nothing and opens no
//! subflow by itself; it echoes an ADD_ADDR, and accepts a peer's join (to any
//! local address, which gets an id if it had none, `addr.rs`), only while a program
//! listens to the `mptcp_pm_events` group, as upstream. Our known addresses live in
//! the connection's table of announcements (`addr.rs`, 8 entries).
//!
//! Every command runs in process context (a netlink handler) and owns the meta
//! socket while it acts.

use crate::addr::ConnAddrs;
use crate::bindings;
use crate::mib::{self, Mib};
use crate::sock::Meta;
use crate::tcp_state::{acks_in, TCP_CLOSE};
use core::ptr;
use kernel::prelude::*;

type Endpoint = bindings::mptcp_rs_pm_endpoint;

const AF_INET: u16 = bindings::MPTCP_RS_AF_INET as u16;
const AF_INET6: u16 = bindings::MPTCP_RS_AF_INET6 as u16;
const AF_UNSPEC: u16 = bindings::MPTCP_RS_AF_UNSPEC as u16;

/// Which request attribute an error is about (`MPTCP_RS_PM_BAD_*`).
#[derive(Clone, Copy)]
enum Bad {
    None = bindings::MPTCP_RS_PM_BAD_NONE as isize,
    Token = bindings::MPTCP_RS_PM_BAD_TOKEN as isize,
    Addr = bindings::MPTCP_RS_PM_BAD_ADDR as isize,
    Remote = bindings::MPTCP_RS_PM_BAD_REMOTE as isize,
    LocId = bindings::MPTCP_RS_PM_BAD_LOC_ID as isize,
}

/// A command's failure: the error, and the message for extack.
struct Fail(Error, Option<&'static CStr>, Bad);

/// An errno the kernel crate has no constant for.
fn errno(e: u32) -> Error {
    Error::from_errno(-(e as c_int))
}

fn fail(e: Error, msg: &'static CStr, bad: Bad) -> Fail {
    Fail(e, Some(msg), bad)
}

/// Runs `f` on the connection of `token` in `net` with its meta socket owned, if it
/// uses the userspace path manager; the C result (`f`'s value or `-errno`), its
/// message and attribute written to `msg` and `bad`.
///
/// # Safety
///
/// `net` is live; `msg` and `bad` are valid for writes.
unsafe fn with_conn(
    net: *mut bindings::net,
    token: u32,
    msg: *mut *const c_char,
    bad: *mut c_int,
    f: impl FnOnce(&Meta) -> Result<c_int, Fail>,
) -> c_int {
    // SAFETY: `net` is live (the caller's guarantee).
    let sk = unsafe { bindings::mptcp_rs_token_lookup(net, token) };
    let res = if sk.is_null() {
        Err(fail(EINVAL, c"invalid token", Bad::Token))
    } else {
        // SAFETY: a meta socket from the token table, held until the put below.
        match unsafe { Meta::from_sk(sk) } {
            Some(meta) if meta.userspace_pm() => {
                // SAFETY: held, process context.
                unsafe { bindings::mptcp_rs_lock_sock(sk) };
                let r = f(meta);
                // SAFETY: locked above.
                unsafe { bindings::release_sock(sk) };
                r
            }
            _ => Err(fail(EINVAL, c"userspace PM not selected", Bad::Token)),
        }
    };
    if !sk.is_null() {
        // SAFETY: the lookup's reference.
        unsafe { bindings::mptcp_rs_sock_put(sk) };
    }
    match res {
        Ok(v) => v,
        Err(Fail(e, m, b)) => {
            // SAFETY: valid for writes (the caller's guarantee).
            unsafe {
                if let Some(m) = m {
                    *msg = m.as_char_ptr();
                }
                *bad = b as c_int;
            }
            e.to_errno()
        }
    }
}

/// Whether the connection still takes commands that change its subflows: MPTCP
/// (not fallen back), not closed.
fn usable(meta: &Meta) -> Result<(), Fail> {
    if meta.is_fallback() || meta.joins().is_closed() || !acks_in(meta.state()) {
        return Err(Fail(errno(kernel::bindings::ENOTCONN), None, Bad::None));
    }
    Ok(())
}

/// `MPTCP_PM_CMD_ANNOUNCE`.
fn announce(meta: &Meta, ep: &Endpoint) -> Result<c_int, Fail> {
    if ep.id == 0 {
        return Err(fail(EINVAL, c"invalid addr id", Bad::Addr));
    }
    if ep.flags & bindings::MPTCP_RS_PM_FLAG_SIGNAL == 0 {
        return Err(fail(EINVAL, c"invalid addr flags", Bad::Addr));
    }
    usable(meta)?;
    let a: &ConnAddrs = meta.joins().addrs();
    match a.us_add_local(meta, ep, true) {
        Ok(_) => {}
        Err(e) if e == ENOSPC => {
            mib::inc(meta.net(), Mib::AddAddrTxDrop);
            return Err(fail(ENOSPC, c"too many addresses", Bad::Addr));
        }
        Err(e) => return Err(fail(e, c"did not match address and id", Bad::Addr)),
    }
    // the address work sends it, and again if the peer does not echo it in time
    // (`addr.rs`)
    a.kick(meta);
    Ok(0)
}

/// `MPTCP_PM_CMD_REMOVE`.
fn remove(meta: &Meta, id: u8) -> Result<c_int, Fail> {
    let a = meta.joins().addrs();
    if id == 0 {
        // the initial subflow's address, while that subflow lives
        let first = meta.first_ssk();
        // SAFETY: the first subflow lives while the meta socket is owned.
        if first.is_null() || unsafe { bindings::mptcp_rs_sk_state(first) } == TCP_CLOSE {
            return Err(fail(EINVAL, c"address with id 0 not found", Bad::LocId));
        }
        a.us_remove_id0();
    } else {
        // looked up and forgotten in one step: a join may take a free id at any time
        let Some((ep, announced)) = a.us_take(meta, id) else {
            return Err(fail(EINVAL, c"address with that id not found", Bad::LocId));
        };
        // the peer hears of it only if it was announced or a subflow uses it, as
        // upstream's mptcp_pm_remove_addr_entry(): an address only recorded (a join
        // from it that the peer refused) was never seen by the peer
        if announced || subflow_from(meta, &ep) {
            a.us_send_remove(id);
        }
    }
    a.us_flush(meta);
    Ok(0)
}

/// Whether a subflow of `meta` that is not closed has `addr` as its source address,
/// and its port if it has one (upstream's `mptcp_pm_has_subflow_saddr()`). The meta
/// socket is owned.
fn subflow_from(meta: &Meta, addr: &Endpoint) -> bool {
    let mut found = false;
    meta.for_each_subflow_locked(|ssk, _, _| {
        // SAFETY: `ssk` is live and locked (by `for_each_subflow_locked`); `addr` is
        // valid.
        found = unsafe {
            bindings::mptcp_rs_sk_state(ssk) != TCP_CLOSE
                && bindings::mptcp_rs_addr_ssk_saddr_is(ssk, addr)
                && (addr.port == 0 || bindings::mptcp_rs_addr_sk_sport(ssk) == addr.port)
        };
        found
    });
    found
}

/// Whether `family` may carry a subflow of `meta` (an IPv4 subflow may serve an
/// IPv6 socket, not the other way round).
fn family_fits(meta: &Meta, family: u16) -> bool {
    // SAFETY: `meta.sk()` is live.
    let sk_family = unsafe { bindings::mptcp_rs_sk_family(meta.sk()) };
    family == AF_INET || (family == AF_INET6 && sk_family == c_int::from(AF_INET6))
}

/// `MPTCP_PM_CMD_SUBFLOW_CREATE`.
fn subflow_create(meta: &Meta, local: &Endpoint, remote: &Endpoint) -> Result<c_int, Fail> {
    if local.flags & bindings::MPTCP_RS_PM_FLAG_SIGNAL != 0 {
        return Err(fail(EINVAL, c"invalid addr flags", Bad::Addr));
    }
    if local.family != remote.family || !family_fits(meta, local.family) {
        return Err(fail(EINVAL, c"families mismatch", Bad::None));
    }
    // (a remote port of 0 is the connection's)
    usable(meta)?;
    let mut ep = *local;
    ep.flags |= bindings::MPTCP_RS_PM_FLAG_SUBFLOW;
    let a = meta.joins().addrs();
    let new = match a.us_add_local(meta, &ep, false) {
        Ok(new) => new,
        Err(e) if e == ENOSPC => return Err(fail(ENOSPC, c"too many addresses", Bad::Addr)),
        Err(e) => return Err(fail(e, c"did not match address and id", Bad::Addr)),
    };
    if !crate::join_active::connect_one(meta, &ep, c_int::from(ep.family), Some(remote)) {
        if new {
            a.us_forget(meta, &ep);
        }
        return Err(fail(EINVAL, c"connect error", Bad::None));
    }
    Ok(0)
}

/// `MPTCP_PM_CMD_SUBFLOW_DESTROY`.
fn subflow_destroy(meta: &Meta, local: &Endpoint, remote: &Endpoint) -> Result<c_int, Fail> {
    if local.family != remote.family {
        return Err(fail(EINVAL, c"address families do not match", Bad::None));
    }
    if local.port == 0 {
        return Err(fail(EINVAL, c"missing local port", Bad::Addr));
    }
    if remote.port == 0 {
        return Err(fail(EINVAL, c"missing remote port", Bad::Remote));
    }
    let mut found = ptr::null_mut();
    let mut first = false;
    meta.for_each_subflow_locked(|ssk, _ctx, is_first| {
        // SAFETY: `ssk` is live and locked; the endpoints are valid.
        if !unsafe { bindings::mptcp_rs_addr_ssk_is(ssk, local, remote) } {
            return false;
        }
        if is_first {
            first = true;
        } else {
            found = ssk;
        }
        true
    });
    if first {
        // closed as the joined ones, while joined subflows carry on; it stays the
        // connection's first subflow
        if !meta.close_first() {
            return Err(fail(
                errno(kernel::bindings::EOPNOTSUPP),
                c"the initial subflow cannot be destroyed while no other carries on",
                Bad::None,
            ));
        }
        meta.joins().addrs().us_forget(meta, local);
        mib::inc(meta.net(), Mib::RmSubflow);
        return Ok(0);
    }
    if found.is_null() {
        return Err(fail(ESRCH, c"subflow not found", Bad::None));
    }
    // SAFETY: a slot's subflow stays while the meta socket is owned (our caller's).
    if unsafe { bindings::mptcp_rs_sk_state(found) } != TCP_CLOSE {
        // closed as upstream's mptcp_pm_nl_subflow_destroy_doit() does: a FIN, what
        // it carried sent again on the others
        meta.joins().close_one(meta, found);
        meta.check_paths();
    }
    meta.joins().addrs().us_forget(meta, local);
    mib::inc(meta.net(), Mib::RmSubflow);
    Ok(0)
}

/// `MPTCP_PM_CMD_SET_FLAGS` with a token.
fn set_flags(meta: &Meta, local: &Endpoint, remote: &Endpoint) -> Result<c_int, Fail> {
    if local.family == AF_UNSPEC {
        return Err(fail(EINVAL, c"invalid local address family", Bad::Addr));
    }
    if remote.family == AF_UNSPEC {
        return Err(fail(EINVAL, c"invalid remote address family", Bad::Remote));
    }
    let backup = local.flags & bindings::MPTCP_RS_PM_FLAG_BACKUP != 0;
    meta.joins().addrs().us_set_backup(meta, local, backup);
    let mut found = false;
    meta.for_each_subflow_locked(|ssk, ctx, _| {
        // SAFETY: `ssk` is live and locked; the endpoints are valid.
        if unsafe { bindings::mptcp_rs_addr_ssk_is(ssk, local, remote) } {
            found |= crate::addr::send_prio(ssk, ctx, backup);
        }
        false
    });
    if !found {
        return Err(fail(EINVAL, c"subflow not found", Bad::None));
    }
    Ok(0)
}

// The netlink shim's entry points (`struct mptcp_rs_pm_ops`, `rust/pm.rs`).

/// # Safety
///
/// `net` is live; `ep` valid; `msg` and `bad` valid for writes.
pub(crate) unsafe extern "C" fn us_announce(
    net: *mut bindings::net,
    token: u32,
    ep: *const Endpoint,
    msg: *mut *const c_char,
    bad: *mut c_int,
) -> c_int {
    // SAFETY: per the contract.
    unsafe { with_conn(net, token, msg, bad, |meta| announce(meta, &*ep)) }
}

/// # Safety
///
/// `net` is live; `msg` and `bad` valid for writes.
pub(crate) unsafe extern "C" fn us_remove(
    net: *mut bindings::net,
    token: u32,
    id: u8,
    msg: *mut *const c_char,
    bad: *mut c_int,
) -> c_int {
    // SAFETY: per the contract.
    unsafe { with_conn(net, token, msg, bad, |meta| remove(meta, id)) }
}

/// # Safety
///
/// `net` is live; `local`, `remote` valid; `msg` and `bad` valid for writes.
pub(crate) unsafe extern "C" fn us_subflow(
    net: *mut bindings::net,
    token: u32,
    create: bool,
    local: *const Endpoint,
    remote: *const Endpoint,
    msg: *mut *const c_char,
    bad: *mut c_int,
) -> c_int {
    // SAFETY: per the contract.
    unsafe {
        with_conn(net, token, msg, bad, |meta| {
            if create {
                subflow_create(meta, &*local, &*remote)
            } else {
                subflow_destroy(meta, &*local, &*remote)
            }
        })
    }
}

/// # Safety
///
/// `net` is live; `local`, `remote` valid; `msg` and `bad` valid for writes.
pub(crate) unsafe extern "C" fn us_set_flags(
    net: *mut bindings::net,
    token: u32,
    local: *const Endpoint,
    remote: *const Endpoint,
    msg: *mut *const c_char,
    bad: *mut c_int,
) -> c_int {
    // SAFETY: per the contract.
    unsafe {
        with_conn(net, token, msg, bad, |meta| {
            set_flags(meta, &*local, &*remote)
        })
    }
}

/// # Safety
///
/// `net` is live; `ep`, `msg` and `bad` valid for writes.
pub(crate) unsafe extern "C" fn us_next(
    net: *mut bindings::net,
    token: u32,
    after: u8,
    inclusive: bool,
    ep: *mut Endpoint,
    msg: *mut *const c_char,
    bad: *mut c_int,
) -> c_int {
    // SAFETY: per the contract.
    unsafe {
        with_conn(net, token, msg, bad, |meta| {
            match meta.joins().addrs().us_next(after, inclusive) {
                Some(found) => {
                    *ep = found;
                    Ok(1)
                }
                None => Ok(0),
            }
        })
    }
}
