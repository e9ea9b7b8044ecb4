// SPDX-License-Identifier: GPL-2.0

//! Path manager events: upstream's `MPTCP_EVENT_*` messages on the `mptcp_pm_events`
//! multicast group of the generic netlink family `mptcp_pm` (`ip mptcp monitor`),
//! with upstream's attributes, sent at the moments upstream 7.2 sends them
//! (`net/mptcp/pm.c`, `pm_netlink.c`, `protocol.c`, `subflow.c`):
//!
//! | event | when | context |
//! |---|---|---|
//! | `CREATED` | client: the MP_CAPABLE SYN/ACK; server: the third ACK (child created) | softirq |
//! | `ESTABLISHED` | client: the peer's first DSS or ADD_ADDR; server: with `CREATED` | softirq |
//! | `CLOSED` | `close()` or `connect(AF_UNSPEC)` of a socket that had a token | process |
//! | `ANNOUNCED` | an ADD_ADDR with a valid HMAC (retransmissions too) | softirq |
//! | `REMOVED` | each id of a REMOVE_ADDR | softirq |
//! | `SUB_ESTABLISHED` | our join's SYN/ACK is valid; a peer's join's third ACK | softirq |
//! | `SUB_CLOSED` | a subflow closes while the connection is established | either |
//! | `SUB_PRIORITY` | an MP_PRIO | softirq |
//! | `LISTENER_CREATED`, `LISTENER_CLOSED` | `listen()`; `close()`/`disconnect` of a listener | process |
//!
//! Nothing is built unless someone in the namespace listens (upstream's
//! `genl_has_listeners()` check); from softirq, or with a spinlock held, the
//! message is allocated with `GFP_ATOMIC`.

use crate::bindings;
use crate::proto::options::{AddAddr, Addr};
use crate::sock::Meta;
use crate::subflow::Subflow;
use crate::tcp_state::TCP_ESTABLISHED;

type Event = crate::pm::Event;

/// `BIT(MPTCP_ATTR_x)`.
const fn bit(attr: u32) -> u32 {
    1 << attr
}

const TOKEN: u32 = bit(bindings::MPTCP_RS_PM_EV_ATTR_TOKEN);
const LOC_ID: u32 = bit(bindings::MPTCP_RS_PM_EV_ATTR_LOC_ID);
const REM_ID: u32 = bit(bindings::MPTCP_RS_PM_EV_ATTR_REM_ID);
const DADDR4: u32 = bit(bindings::MPTCP_RS_PM_EV_ATTR_DADDR4);
const DADDR6: u32 = bit(bindings::MPTCP_RS_PM_EV_ATTR_DADDR6);
const DPORT: u32 = bit(bindings::MPTCP_RS_PM_EV_ATTR_DPORT);
const BACKUP: u32 = bit(bindings::MPTCP_RS_PM_EV_ATTR_BACKUP);
const ERROR: u32 = bit(bindings::MPTCP_RS_PM_EV_ATTR_ERROR);
const FLAGS: u32 = bit(bindings::MPTCP_RS_PM_EV_ATTR_FLAGS);
const RESET_REASON: u32 = bit(bindings::MPTCP_RS_PM_EV_ATTR_RESET_REASON);
const RESET_FLAGS: u32 = bit(bindings::MPTCP_RS_PM_EV_ATTR_RESET_FLAGS);
const SERVER_SIDE: u32 = bit(bindings::MPTCP_RS_PM_EV_ATTR_SERVER_SIDE);

/// Whether anyone in `meta`'s namespace listens to the events.
pub(crate) fn listened(meta: &Meta) -> bool {
    // SAFETY: the namespace is alive while the connection is (`Meta::net`).
    unsafe { bindings::mptcp_rs_pm_event_listeners(meta.net().as_ptr()) }
}

/// An event about `meta`: its token.
fn with_token(meta: &Meta) -> Event {
    Event {
        present: TOKEN,
        // SAFETY: `meta.sk()` is live.
        token: unsafe { bindings::mptcp_rs_meta_token(meta.sk()) },
        ..Default::default()
    }
}

/// Sends `ev` as `kind`; a failure (no memory) loses the event, as upstream's.
fn send(meta: &Meta, kind: u32, ev: &Event, atomic: bool) {
    let _ = crate::pm::send_event(meta.net(), kind as u8, ev, atomic);
}

/// Token, subflow `ssk`'s addresses and ports, and the address ids: upstream's
/// `mptcp_event_add_subflow()` after the token.
fn subflow_event(meta: &Meta, ctx: &Subflow, with_dev: bool) -> Event {
    let mut ev = with_token(meta);
    // SAFETY: `ctx`'s subflow is live (its context is).
    unsafe { bindings::mptcp_rs_pm_event_subflow(&mut ev, ctx.ssk(), with_dev) };
    let aj = ctx.active_join();
    ev.loc_id = aj.local_id();
    ev.rem_id = aj.remote_id();
    ev.present |= LOC_ID | REM_ID;
    ev
}

/// `CREATED` or `ESTABLISHED` of the connection whose first subflow is `ctx`.
fn conn_event(kind: u32, meta: &Meta, ctx: &Subflow, server_side: bool) {
    if !listened(meta) {
        return;
    }
    let mut ev = with_token(meta);
    if meta.remote_deny_join_id0() {
        ev.flags |= bindings::MPTCP_RS_PM_EV_FLAG_DENY_JOIN_ID0 as u16;
        ev.present |= FLAGS;
    }
    if server_side {
        // the flag, and the deprecated attribute upstream still sends
        ev.server_side = 1;
        ev.flags |= bindings::MPTCP_RS_PM_EV_FLAG_SERVER_SIDE as u16;
        ev.present |= SERVER_SIDE | FLAGS;
    }
    // SAFETY: as in `subflow_event`.
    unsafe { bindings::mptcp_rs_pm_event_subflow(&mut ev, ctx.ssk(), false) };
    // the first subflow: address ids 0
    ev.present |= LOC_ID | REM_ID;
    send(meta, kind, &ev, true);
}

/// The connection of first subflow `ctx` exists: MP_CAPABLE done on the client's
/// SYN/ACK, or the server's third ACK. Softirq, subflow locked.
pub(crate) fn created(meta: &Meta, ctx: &Subflow, server_side: bool) {
    conn_event(bindings::MPTCP_RS_PM_EVENT_CREATED, meta, ctx, server_side);
}

/// The connection is fully established (the peer has our key). Softirq, subflow
/// locked.
pub(crate) fn established(meta: &Meta, ctx: &Subflow, server_side: bool) {
    conn_event(
        bindings::MPTCP_RS_PM_EVENT_ESTABLISHED,
        meta,
        ctx,
        server_side,
    );
}

/// The application closes (or disconnects) a socket that had a token. Process
/// context.
pub(crate) fn closed(meta: &Meta) {
    if !listened(meta) {
        return;
    }
    let ev = with_token(meta);
    if ev.token != 0 {
        send(meta, bindings::MPTCP_RS_PM_EVENT_CLOSED, &ev, false);
    }
}

/// The peer announced `add` (its HMAC checked) on subflow `ctx`. Softirq or process
/// context, subflow locked.
pub(crate) fn announced(meta: &Meta, ctx: &Subflow, add: &AddAddr) {
    if !listened(meta) {
        return;
    }
    let mut ev = with_token(meta);
    ev.rem_id = add.addr_id;
    ev.dport = match add.port {
        Some(p) => p.to_be(),
        // SAFETY: `ctx`'s subflow is live and locked.
        None => unsafe { bindings::mptcp_rs_pm_event_dport(ctx.ssk()) },
    };
    ev.present |= REM_ID | DPORT;
    match add.addr {
        Addr::V4(a) => {
            if let Some(d) = ev.daddr.get_mut(..4) {
                d.copy_from_slice(&a);
            }
            ev.present |= DADDR4;
        }
        Addr::V6(a) => {
            ev.daddr = a;
            ev.present |= DADDR6;
        }
    }
    send(meta, bindings::MPTCP_RS_PM_EVENT_ANNOUNCED, &ev, true);
}

/// The peer's REMOVE_ADDR named `id`. Softirq or process context, subflow locked.
pub(crate) fn removed(meta: &Meta, id: u8) {
    if !listened(meta) {
        return;
    }
    let mut ev = with_token(meta);
    ev.rem_id = id;
    ev.present |= REM_ID;
    send(meta, bindings::MPTCP_RS_PM_EVENT_REMOVED, &ev, true);
}

/// `SUB_ESTABLISHED` and `SUB_PRIORITY`: the subflow, its backup flag (the peer's
/// request, as upstream's `subflow->backup`), its device, its error.
fn sub_event(meta: &Meta, ctx: &Subflow) -> Event {
    let mut ev = subflow_event(meta, ctx, true);
    ev.backup = u8::from(ctx.peer_backup());
    ev.present |= BACKUP;
    // SAFETY: `ctx`'s subflow is live.
    let err = unsafe { bindings::mptcp_rs_sk_err(ctx.ssk()) };
    if err != 0 && meta.state() == TCP_ESTABLISHED {
        ev.error = err as u8;
        ev.present |= ERROR;
    }
    ev
}

/// A joined subflow (ours at its valid SYN/ACK, the peer's at its third ACK) became
/// part of the connection. Softirq, subflow locked.
pub(crate) fn sub_established(meta: &Meta, ctx: &Subflow) {
    if !listened(meta) {
        return;
    }
    let kind = bindings::MPTCP_RS_PM_EVENT_SUB_ESTABLISHED;
    let ev = sub_event(meta, ctx);
    send(meta, kind, &ev, true);
}

/// The peer's MP_PRIO on subflow `ctx`. Softirq or process context, subflow locked.
pub(crate) fn sub_priority(ctx: &Subflow, meta: &Meta) {
    if !listened(meta) {
        return;
    }
    let kind = bindings::MPTCP_RS_PM_EVENT_SUB_PRIORITY;
    let ev = sub_event(meta, ctx);
    send(meta, kind, &ev, true);
}

/// Subflow `ctx` of `meta` closes (closed by TCP: `state_change` to `TCP_CLOSE`; or
/// about to be reset by the path manager): `SUB_CLOSED` once per subflow, if the
/// connection is established and not closing, as upstream's `mptcp_close_ssk()`.
/// `atomic`: softirq or a spinlock held. Subflow locked.
pub(crate) fn sub_closed(meta: &Meta, ctx: &Subflow, atomic: bool) {
    if meta.state() != TCP_ESTABLISHED
        || meta.is_fallback()
        || meta.joins().is_closed()
        || !listened(meta)
        || !ctx.close_event_once()
    {
        return;
    }
    let kind = bindings::MPTCP_RS_PM_EVENT_SUB_CLOSED;
    let mut ev = sub_event(meta, ctx);
    if let Some((reason, transient)) = ctx.rcv_reset() {
        ev.reset_reason = u32::from(reason);
        ev.reset_flags = u32::from(transient);
        ev.present |= RESET_REASON | RESET_FLAGS;
    }
    send(meta, kind, &ev, atomic);
}

/// `LISTENER_CREATED` (`created`) or `LISTENER_CLOSED` for meta socket `meta`
/// listening on subflow `ssk`. Process context.
pub(crate) fn listener(meta: &Meta, ssk: *mut bindings::sock, created: bool) {
    if ssk.is_null() || !listened(meta) {
        return;
    }
    let mut ev = Event::default();
    // SAFETY: `ssk` is the listening subflow, live while the meta socket is owned.
    unsafe { bindings::mptcp_rs_pm_event_listener(&mut ev, ssk) };
    let kind = if created {
        bindings::MPTCP_RS_PM_EVENT_LISTENER_CREATED
    } else {
        bindings::MPTCP_RS_PM_EVENT_LISTENER_CLOSED
    };
    send(meta, kind, &ev, false);
}
