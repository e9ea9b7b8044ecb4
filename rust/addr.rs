// SPDX-License-Identifier: GPL-2.0

//! ADD_ADDR and REMOVE_ADDR (RFC 8684 3.4.1, 3.4.2), with the semantics of upstream's
//! in-kernel path manager.
//!
//! * Announcing: once the first subflow of a connection is fully established (either
//!   side), the connection's address work ([`work_fn`], process context, meta socket
//!   owned) announces each `signal` endpoint of the namespace (of the connection's
//!   family, not the connection's own address unless with another port): ADD_ADDR with the
//!   truncated HMAC on a pure ACK of the first subflow ([`established_options`]).
//!   `AddAddrTx`. A `signal` endpoint added while the connection lives is announced
//!   the same way ([`endpoint_added`], a walk of the namespace's token table). An
//!   announcement the peer does not echo within
//!   `net.mptcp.add_addr_timeout` is sent again, at most 3 times (upstream's
//!   `ADD_ADDR_RETRANS_MAX`); the echo counts `EchoAdd`.
//! * Receiving: an ADD_ADDR whose HMAC checks out counts `AddAddr` and is always
//!   echoed (`EchoAddTx`); a wrong HMAC counts `AddAddrDrop` and is ignored. The
//!   work then accepts it if the connection accepted fewer than `add_addr_accepted`
//!   (`ip mptcp limits`) announcements, its id is not 0 and it is not the
//!   connection's remote address, and opens joins to it (within the `subflows`
//!   limit): one from each `fullmesh` endpoint if the namespace has any (id 0 for
//!   the connection's own address), else one from the source address routing
//!   picks: address id 0 if that is the connection's own address, else the id of
//!   the endpoint with that address, else the smallest id no endpoint uses
//!   (upstream would create an implicit endpoint).
//! * Joins to our other addresses: a join SYN to a local address other than the
//!   connection's initial one gets the id of that address if this connection
//!   announced it, else that of the namespace's endpoint with that address, else an
//!   implicit endpoint is made for it by this work ([`ConnAddrs::want_implicit`]) and
//!   the SYN is dropped until it exists (`join.rs`).
//! * Removing: `ip mptcp endpoint delete` (or `flush`) makes every connection of the
//!   namespace close its subflows from that address id and send REMOVE_ADDR with the
//!   id if it announced it or had subflows from it (`RmAddrTx`, `RmSubflow`). A
//!   REMOVE_ADDR received (`RmAddr`) closes the subflows whose remote address id is
//!   in it (`RmSubflow`) and forgets the announcement. The first subflow is never
//!   closed this way (id 0).
//!
//! State: per connection, fixed tables of our announcements and the peer's
//! ([`ConnAddrs`], in the connection's `Joins`). Entries are taken, written and
//! freed, and compound decisions on them made (an address or id already present, a
//! free id), under the table lock: the meta socket's spinlock, taken from process
//! context (netlink, the work) and from softirq (a join's SYN, ADD_ADDR and
//! REMOVE_ADDR received), never around calls out of this module. Readers that
//! cannot take it (the option hook may run with it held, under the meta socket's
//! receive path) copy an entry with a sequence count ([`Entry::snap`]); its flags
//! are atomics. Options are written from TCP's option hook (softirq, subflow
//! locked); everything that opens or closes subflows or sleeps runs in the work.

use crate::bindings;
use crate::join::MAX_JOINED;
use crate::join_active::PmWork;
use crate::mib::{self, Mib};
use crate::proto::crypto::add_addr_hmac;
use crate::proto::options::{AddAddr, Addr, Dss, MptcpOption, RemoveAddr};
use crate::sha256::KernelSha256;
use crate::sock::Meta;
use crate::subflow::Subflow;
use crate::tcp_state::{acks_in, TCP_CLOSE};
use core::sync::atomic::{
    fence, AtomicBool, AtomicI32, AtomicU16, AtomicU32, AtomicU64, AtomicU8, Ordering,
};
use kernel::prelude::*;

type Endpoint = bindings::mptcp_rs_pm_endpoint;

/// Announcements a connection keeps each way.
pub(crate) const MAX_ADDRS: usize = 8;
/// Retransmissions of an ADD_ADDR that is not echoed (upstream's
/// `ADD_ADDR_RETRANS_MAX`).
const ADD_ADDR_RETRANS_MAX: u8 = 3;

const AF_INET: u16 = bindings::MPTCP_RS_AF_INET as u16;
const AF_INET6: u16 = bindings::MPTCP_RS_AF_INET6 as u16;
const TCPHDR_FIN: u8 = 0x01;
const TCPHDR_SYN: u8 = 0x02;
const TCPHDR_RST: u8 = 0x04;

/// Flags of an [`Entry`].
mod ef {
    /// Taken: its address is being written.
    pub(super) const CLAIMED: u16 = 1 << 0;
    /// Its address is written and may be read.
    pub(super) const USED: u16 = 1 << 1;
    /// Ours: the ADD_ADDR is to be sent; the peer's: the echo is to be sent.
    pub(super) const SEND: u16 = 1 << 2;
    /// Ours: the peer echoed it.
    pub(super) const ECHOED: u16 = 1 << 3;
    /// The peer's: the work decided whether to accept it.
    pub(super) const DECIDED: u16 = 1 << 4;
    /// The peer's: accepted; a join to it is to be opened.
    pub(super) const ACCEPTED: u16 = 1 << 5;
    /// The peer's: a join to it was opened (or tried).
    pub(super) const JOINED: u16 = 1 << 6;
    /// Withdrawn (ours: endpoint deleted; the peer's: REMOVE_ADDR).
    pub(super) const REMOVED: u16 = 1 << 7;
    /// Ours, userspace path manager: an address a subflow uses (created by
    /// `SUBFLOW_CREATE`, or a peer's join arrived at it), known with its id but
    /// not announced.
    pub(super) const QUIET: u16 = 1 << 8;
}

/// One announced address (ours or the peer's).
///
/// An entry is taken, written and freed under the connection's table lock
/// ([`ConnAddrs::lock`]); its other flags change atomically at any time. Readers
/// without the lock take a consistent copy with [`Entry::snap`].
struct Entry {
    /// Even while the entry's address and [`ef::USED`] are stable, odd while a
    /// writer changes them (a sequence count: a reader that saw it move reads again).
    seq: AtomicU32,
    flags: AtomicU16,
    id: AtomicU8,
    family: AtomicU16,
    port: AtomicU16,
    addr: [AtomicU32; 4],
    retrans: AtomicU8,
    /// The endpoint flags (`MPTCP_PM_ADDR_FLAG_*`) and interface given with it.
    ep_flags: AtomicU32,
    ifindex: AtomicI32,
}

impl Entry {
    fn new() -> Self {
        Entry {
            seq: AtomicU32::new(0),
            flags: AtomicU16::new(0),
            id: AtomicU8::new(0),
            family: AtomicU16::new(0),
            port: AtomicU16::new(0),
            addr: core::array::from_fn(|_| AtomicU32::new(0)),
            retrans: AtomicU8::new(0),
            ep_flags: AtomicU32::new(0),
            ifindex: AtomicI32::new(0),
        }
    }

    fn has(&self, f: u16) -> bool {
        self.flags.load(Ordering::Acquire) & f != 0
    }

    fn set(&self, f: u16) {
        self.flags.fetch_or(f, Ordering::AcqRel);
    }

    /// Clears `f`; whether it was set.
    fn take(&self, f: u16) -> bool {
        self.flags.fetch_and(!f, Ordering::AcqRel) & f != 0
    }

    /// Published, and not withdrawn.
    fn live(&self) -> bool {
        self.flags.load(Ordering::Acquire) & (ef::USED | ef::REMOVED) == ef::USED
    }

    /// Takes the entry if it is free. Table lock held.
    fn claim(&self) -> bool {
        self.flags
            .compare_exchange(0, ef::CLAIMED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Opens a change of the address or of [`ef::USED`] (table lock held).
    fn write_begin(&self) {
        let s = self.seq.load(Ordering::Relaxed);
        self.seq.store(s.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
    }

    /// Closes the change [`Entry::write_begin`] opened.
    fn write_end(&self) {
        let s = self.seq.load(Ordering::Relaxed);
        self.seq.store(s.wrapping_add(1), Ordering::Release);
    }

    /// Frees the entry (table lock held).
    fn free(&self) {
        self.write_begin();
        self.flags.store(0, Ordering::Relaxed);
        self.retrans.store(0, Ordering::Relaxed);
        self.write_end();
    }

    /// The entry's flags and address at one moment, without the table lock: an
    /// entry freed and taken again meanwhile is read again. Writers hold the table
    /// lock with bottom halves and preemption off, so they finish soon.
    fn snap(&self) -> (u16, Endpoint) {
        loop {
            let s = self.seq.load(Ordering::Acquire);
            if s & 1 == 0 {
                let flags = self.flags.load(Ordering::Relaxed);
                let ep = self.endpoint();
                fence(Ordering::Acquire);
                if self.seq.load(Ordering::Relaxed) == s {
                    return (flags, ep);
                }
            }
            core::hint::spin_loop();
        }
    }

    /// Its address if it is published and not withdrawn, read with [`Entry::snap`].
    fn live_endpoint(&self) -> Option<Endpoint> {
        let (flags, ep) = self.snap();
        (flags & (ef::USED | ef::REMOVED) == ef::USED).then_some(ep)
    }

    /// Writes the address of a claimed entry and publishes it with `flags`. Table
    /// lock held.
    fn publish(&self, ep: &Endpoint, flags: u16) {
        self.write_begin();
        self.id.store(ep.id, Ordering::Relaxed);
        self.family.store(ep.family, Ordering::Relaxed);
        self.port.store(ep.port, Ordering::Relaxed);
        self.ep_flags.store(ep.flags, Ordering::Relaxed);
        self.ifindex.store(ep.ifindex, Ordering::Relaxed);
        self.retrans.store(0, Ordering::Relaxed);
        for (i, w) in self.addr.iter().enumerate() {
            let o = i * 4;
            let word = ep
                .addr
                .get(o..o + 4)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map_or(0, u32::from_ne_bytes);
            w.store(word, Ordering::Relaxed);
        }
        self.flags.fetch_or(ef::USED | flags, Ordering::Release);
        self.write_end();
    }

    /// The address (stable once [`ef::USED`] was seen with the table lock held;
    /// else see [`Entry::snap`]).
    fn endpoint(&self) -> Endpoint {
        let mut ep = Endpoint {
            id: self.id.load(Ordering::Relaxed),
            family: self.family.load(Ordering::Relaxed),
            port: self.port.load(Ordering::Relaxed),
            flags: self.ep_flags.load(Ordering::Relaxed),
            ifindex: self.ifindex.load(Ordering::Relaxed),
            ..Default::default()
        };
        for (i, w) in self.addr.iter().enumerate() {
            let o = i * 4;
            if let Some(d) = ep.addr.get_mut(o..o + 4) {
                d.copy_from_slice(&w.load(Ordering::Relaxed).to_ne_bytes());
            }
        }
        ep
    }
}

/// `ep`'s address as ADD_ADDR carries it.
fn endpoint_addr(ep: &Endpoint) -> Option<Addr> {
    match ep.family {
        AF_INET => {
            let mut a = [0u8; 4];
            a.copy_from_slice(ep.addr.get(..4)?);
            Some(Addr::V4(a))
        }
        AF_INET6 => Some(Addr::V6(ep.addr)),
        _ => None,
    }
}

/// The endpoint form of an ADD_ADDR's address.
fn addr_endpoint(id: u8, addr: &Addr, port: Option<u16>) -> Endpoint {
    let mut ep = Endpoint {
        id,
        port: port.unwrap_or(0),
        ..Default::default()
    };
    match addr {
        Addr::V4(a) => {
            ep.family = AF_INET;
            if let Some(d) = ep.addr.get_mut(..4) {
                d.copy_from_slice(a);
            }
        }
        Addr::V6(a) => {
            ep.family = AF_INET6;
            ep.addr = *a;
        }
    }
    ep
}

fn same_addr(a: &Endpoint, b: &Endpoint) -> bool {
    a.family == b.family
        && if a.family == AF_INET {
            a.addr.get(..4) == b.addr.get(..4)
        } else {
            a.addr == b.addr
        }
}

/// The ADD_ADDR HMAC of `ep`, keyed with `key_a` (the sender's) ‖ `key_b`.
fn hmac_of(key_a: u64, key_b: u64, ep: &Endpoint) -> u64 {
    let len = if ep.family == AF_INET { 4 } else { 16 };
    add_addr_hmac::<KernelSha256>(
        key_a,
        key_b,
        ep.id,
        ep.addr.get(..len).unwrap_or(&[]),
        ep.port,
    )
}

/// A set of address ids (0..=255), lock-free.
struct IdBits([AtomicU64; 4]);

impl IdBits {
    fn new() -> Self {
        IdBits(core::array::from_fn(|_| AtomicU64::new(0)))
    }

    fn insert(&self, id: u8) {
        if let Some(w) = self.0.get(usize::from(id >> 6)) {
            w.fetch_or(1 << (id & 63), Ordering::AcqRel);
        }
    }

    /// Adds every id of `bits` (a [`IdBits::take`]n set).
    fn insert_all(&self, bits: &[u64; 4]) {
        for (w, b) in self.0.iter().zip(bits) {
            w.fetch_or(*b, Ordering::AcqRel);
        }
    }

    fn contains(&self, id: u8) -> bool {
        self.0
            .get(usize::from(id >> 6))
            .is_some_and(|w| w.load(Ordering::Acquire) & (1 << (id & 63)) != 0)
    }

    fn is_empty(&self) -> bool {
        self.0.iter().all(|w| w.load(Ordering::Acquire) == 0)
    }

    /// Removes `id`; whether it was in the set (one caller only sees it there).
    fn take_one(&self, id: u8) -> bool {
        let bit = 1u64 << (id & 63);
        self.0
            .get(usize::from(id >> 6))
            .is_some_and(|w| w.fetch_and(!bit, Ordering::AcqRel) & bit != 0)
    }

    /// Takes up to `out.len()` ids of the set, in increasing order; how many. Each
    /// goes to one caller only, even with several taking at once.
    fn take_upto(&self, out: &mut [u8]) -> usize {
        let mut n = 0;
        for id in 0..=u8::MAX {
            if n >= out.len() {
                break;
            }
            if self.contains(id) && self.take_one(id) {
                if let Some(o) = out.get_mut(n) {
                    *o = id;
                }
                n += 1;
            }
        }
        n
    }

    /// Takes the whole set.
    fn take(&self) -> [u64; 4] {
        core::array::from_fn(|i| self.0.get(i).map_or(0, |w| w.swap(0, Ordering::AcqRel)))
    }
}

/// REMOVE_ADDR ids an option writer took from `rm_send`: they go back unless the
/// option carrying them was written ([`RmClaim::sent`]), and the next pure ACK
/// looks again (the hint set after they are back: another writer may have
/// cleared it while it held them, finding nothing).
struct RmClaim<'a> {
    addrs: &'a ConnAddrs,
    ids: [u8; crate::proto::options::RM_IDS_MAX],
    n: usize,
    sent: bool,
}

impl RmClaim<'_> {
    fn ids(&self) -> &[u8] {
        self.ids.get(..self.n).unwrap_or(&[])
    }
}

impl Drop for RmClaim<'_> {
    fn drop(&mut self) {
        if !self.sent && self.n > 0 {
            for &id in self.ids.get(..self.n).unwrap_or(&[]) {
                self.addrs.rm_send.insert(id);
            }
            self.addrs.note_pending();
        }
    }
}

fn bits_contain(bits: &[u64; 4], id: u8) -> bool {
    bits.get(usize::from(id >> 6))
        .is_some_and(|w| w & (1 << (id & 63)) != 0)
}

/// The address state of a connection (in its `Joins`).
pub(crate) struct ConnAddrs {
    /// Our announcements.
    local: [Entry; MAX_ADDRS],
    /// The peer's announcements.
    remote: [Entry; MAX_ADDRS],
    /// Ids whose REMOVE_ADDR is to be sent.
    rm_send: IdBits,
    /// Our announced ids (and id 0) whose endpoint was deleted: the work sends their
    /// REMOVE_ADDR, once with those for the subflows it closes.
    rm_announced: IdBits,
    /// Our address ids whose subflows are to be closed (endpoint deleted).
    rm_local: IdBits,
    /// Those of `rm_local` a flush deleted: as upstream's
    /// `mptcp_pm_flush_addrs_and_subflows()`, their subflows close without a
    /// REMOVE_ADDR (one goes only for an address we announced).
    rm_quiet: IdBits,
    /// The peer's address ids whose subflows are to be closed (REMOVE_ADDR).
    rm_remote: IdBits,
    /// Something may be waiting for a pure ACK (a hint: set after the entry's flag).
    pending: AtomicBool,
    /// The namespace's `signal` endpoints are to be looked at: those this
    /// connection did not announce yet are (set when the connection becomes fully
    /// established and when a `signal` endpoint is added).
    announce: AtomicBool,
    /// The initial subflow is to become a backup subflow (MP_PRIO, sent by the
    /// work): an endpoint with the `backup` flag has its local address, as
    /// upstream's `mptcp_mpc_endpoint_setup()` (set when the connection becomes
    /// fully established).
    mpc_check: AtomicBool,
    /// The id of the endpoint that had the initial subflow's local address when the
    /// connection became fully established (upstream's `mpc_endpoint_id`), 0 if
    /// none: deleting that endpoint withdraws address id 0, the initial subflow's
    /// (upstream's `mptcp_endp_get_local_id()`).
    mpc_endpoint: AtomicU8,
    /// The `fullmesh` flag of a `subflow` endpoint changed: once the work closed the
    /// subflows from its address (`rm_local`), the join work opens them again as the
    /// flag now says (upstream's `mptcp_pm_nl_fullmesh()`).
    rejoin: AtomicBool,
    /// Announcements of the peer accepted.
    accepted: AtomicU8,
    /// A local address a join arrived at that no endpoint has (`join.rs`), for the
    /// work to make an implicit endpoint of: `IMPLICIT_*`, then the address.
    implicit_state: AtomicU8,
    implicit_family: AtomicU16,
    implicit_addr: [AtomicU64; 2],
    work: PmWork,
}

/// After a `fullmesh` change, how long the work waits before it looks whether any
/// subflow carries the connection (the join work opens the new ones meanwhile).
const REJOIN_CHECK_MS: u32 = 1000;

/// [`ConnAddrs::implicit_state`]: nothing asked.
const IMPLICIT_NONE: u8 = 0;
/// [`ConnAddrs::implicit_state`]: the address is being written.
const IMPLICIT_WRITING: u8 = 1;
/// [`ConnAddrs::implicit_state`]: an address waits for the work.
const IMPLICIT_READY: u8 = 2;

impl ConnAddrs {
    pub(crate) fn new() -> Self {
        ConnAddrs {
            local: core::array::from_fn(|_| Entry::new()),
            remote: core::array::from_fn(|_| Entry::new()),
            rm_send: IdBits::new(),
            rm_announced: IdBits::new(),
            rm_local: IdBits::new(),
            rm_quiet: IdBits::new(),
            rm_remote: IdBits::new(),
            pending: AtomicBool::new(false),
            announce: AtomicBool::new(false),
            mpc_check: AtomicBool::new(false),
            mpc_endpoint: AtomicU8::new(0),
            rejoin: AtomicBool::new(false),
            accepted: AtomicU8::new(0),
            implicit_state: AtomicU8::new(IMPLICIT_NONE),
            implicit_family: AtomicU16::new(0),
            implicit_addr: [AtomicU64::new(0), AtomicU64::new(0)],
            work: PmWork::new(Some(work_fn)),
        }
    }

    /// The connection closes: a pending run of the work is dropped. Any context,
    /// the meta socket held by the caller.
    pub(crate) fn cancel(&self) {
        self.work.cancel();
    }

    /// A disconnected socket may connect anew: nothing is announced any more.
    /// The meta socket is owned, its subflows are gone.
    pub(crate) fn reset(&self, meta: &Meta) {
        let _table = meta.data_lock();
        for e in Iterator::chain(self.local.iter(), self.remote.iter()) {
            e.free();
        }
        self.rm_send.take();
        self.rm_announced.take();
        self.rm_local.take();
        self.rm_quiet.take();
        self.rm_remote.take();
        self.pending.store(false, Ordering::Release);
        self.announce.store(false, Ordering::Release);
        self.mpc_check.store(false, Ordering::Release);
        self.mpc_endpoint.store(0, Ordering::Release);
        self.rejoin.store(false, Ordering::Release);
        self.accepted.store(0, Ordering::Release);
        // not while a join's SYN writes an address (it would be overwritten)
        let _ = self.implicit_state.compare_exchange(
            IMPLICIT_READY,
            IMPLICIT_NONE,
            Ordering::AcqRel,
            Ordering::Relaxed,
        );
    }

    /// A join arrived at our address `ep`, which neither this connection announced nor
    /// an endpoint of the namespace has: the work makes an implicit endpoint for it
    /// (upstream makes it at once, in the SYN's path; our table is changed in process
    /// context only), where the join's next SYN finds it. One address at a time: a
    /// join to another one while the first is being made is dropped too and found
    /// on a later SYN. Any context.
    pub(crate) fn want_implicit(&self, meta: &Meta, ep: &Endpoint) {
        if self
            .implicit_state
            .compare_exchange(
                IMPLICIT_NONE,
                IMPLICIT_WRITING,
                Ordering::Acquire,
                Ordering::Relaxed,
            )
            .is_ok()
        {
            let [a0, a1, a2, a3, a4, a5, a6, a7, b0, b1, b2, b3, b4, b5, b6, b7] = ep.addr;
            self.implicit_addr[0].store(
                u64::from_ne_bytes([a0, a1, a2, a3, a4, a5, a6, a7]),
                Ordering::Relaxed,
            );
            self.implicit_addr[1].store(
                u64::from_ne_bytes([b0, b1, b2, b3, b4, b5, b6, b7]),
                Ordering::Relaxed,
            );
            self.implicit_family.store(ep.family, Ordering::Relaxed);
            self.implicit_state.store(IMPLICIT_READY, Ordering::Release);
        }
        self.work.kick(meta);
    }

    /// The address [`want_implicit`](Self::want_implicit) left for the work, if any.
    fn take_implicit(&self) -> Option<Endpoint> {
        if self.implicit_state.load(Ordering::Acquire) != IMPLICIT_READY {
            return None;
        }
        let [a, b] = [0, 1].map(|i| {
            self.implicit_addr
                .get(i)
                .map_or(0, |w| w.load(Ordering::Relaxed))
                .to_ne_bytes()
        });
        let mut ep = Endpoint {
            family: self.implicit_family.load(Ordering::Relaxed),
            ..Endpoint::default()
        };
        for (d, s) in ep.addr.iter_mut().zip(Iterator::chain(a.iter(), b.iter())) {
            *d = *s;
        }
        self.implicit_state.store(IMPLICIT_NONE, Ordering::Release);
        Some(ep)
    }

    /// The id of our address `addr` (family, address) if this connection announced
    /// it: a join to it is accepted. Any context.
    pub(crate) fn local_id_for(&self, addr: &Endpoint) -> Option<u8> {
        self.local.iter().find_map(|e| {
            e.live_endpoint()
                .filter(|ep| same_addr(ep, addr))
                .map(|ep| ep.id)
        })
    }

    /// The id of our address `addr` if we announced it with its port (`addr.port`,
    /// not 0): a join may arrive at that port (upstream's
    /// `mptcp_pm_sport_in_anno_list()`). Any context.
    pub(crate) fn announced_port(&self, addr: &Endpoint) -> Option<u8> {
        if addr.port == 0 {
            return None;
        }
        self.local.iter().find_map(|e| {
            let (flags, ep) = e.snap();
            (flags & (ef::USED | ef::REMOVED | ef::QUIET) == ef::USED
                && ep.port == addr.port
                && same_addr(&ep, addr))
            .then_some(ep.id)
        })
    }

    /// Userspace path manager: records our address `ep` (its id given, not 0), to be
    /// announced (`announce`) or only known (a subflow's), as upstream's
    /// `mptcp_userspace_pm_append_new_local_addr()` without id allocation: an
    /// entry with the same address and port must have the same id and the other
    /// way round. `Ok(true)` if the entry is new; `EINVAL` on a mismatch,
    /// `ENOSPC` when the table is full. An address known but not announced yet is
    /// announced now. The meta socket is owned.
    pub(crate) fn us_add_local(&self, meta: &Meta, ep: &Endpoint, announce: bool) -> Result<bool> {
        let _table = meta.data_lock();
        for e in &self.local {
            if !e.live() {
                continue;
            }
            let cur = e.endpoint();
            let addr_match = same_addr(&cur, ep) && cur.port == ep.port;
            let id_match = cur.id == ep.id;
            if addr_match != id_match {
                return Err(EINVAL);
            }
            if addr_match {
                if announce && e.take(ef::QUIET) {
                    e.ep_flags.fetch_or(ep.flags, Ordering::Relaxed);
                    e.set(ef::SEND);
                    self.note_pending();
                }
                return Ok(false);
            }
        }
        let e = self.local.iter().find(|e| e.claim()).ok_or(ENOSPC)?;
        e.publish(ep, if announce { ef::SEND } else { ef::QUIET });
        if announce {
            self.note_pending();
        }
        Ok(true)
    }

    /// Userspace path manager: the id of our address `addr` (family and address,
    /// any port) for a join that arrived at it; an address not known yet gets the
    /// smallest free id (upstream's `mptcp_userspace_pm_get_local_id()`). Any
    /// context, the meta socket's spinlock not held.
    pub(crate) fn us_local_id_for_join(&self, meta: &Meta, addr: &Endpoint) -> Option<u8> {
        let _table = meta.data_lock();
        if let Some(id) = self.local_id_for(addr) {
            return Some(id);
        }
        let id = (1..=u8::MAX).find(|&id| {
            !self
                .local
                .iter()
                .any(|e| e.live() && e.id.load(Ordering::Relaxed) == id)
        })?;
        let e = self.local.iter().find(|e| e.claim())?;
        let ep = Endpoint {
            id,
            port: 0,
            flags: 0,
            ifindex: 0,
            ..*addr
        };
        e.publish(&ep, ef::QUIET);
        Some(id)
    }

    /// `MPTCP_INFO`'s `add_addr_signal` and `add_addr_accepted` (upstream's
    /// `pm.add_addr_signaled` and `pm.add_addr_accepted`): our addresses announced
    /// and not withdrawn, and the peer's announced addresses accepted and not
    /// withdrawn. Lockless reads, any context.
    pub(crate) fn info_counts(&self) -> (u8, u8) {
        let signaled = self
            .local
            .iter()
            .filter(|e| e.live() && !e.has(ef::QUIET))
            .count();
        let accepted = self
            .remote
            .iter()
            .filter(|e| e.live() && e.has(ef::ACCEPTED))
            .count();
        (
            u8::try_from(signaled).unwrap_or(u8::MAX),
            u8::try_from(accepted).unwrap_or(u8::MAX),
        )
    }

    /// Userspace path manager: forgets our address with `id`; its address, and
    /// whether it was announced, or `None` if there is none. The meta socket is
    /// owned.
    pub(crate) fn us_take(&self, meta: &Meta, id: u8) -> Option<(Endpoint, bool)> {
        let _table = meta.data_lock();
        let e = self
            .local
            .iter()
            .find(|e| e.live() && e.id.load(Ordering::Relaxed) == id)?;
        let taken = (e.endpoint(), !e.has(ef::QUIET));
        e.free();
        Some(taken)
    }

    /// Userspace path manager: REMOVE_ADDR for our address id `id` (one
    /// [`ConnAddrs::us_take`] took). The meta socket is owned.
    pub(crate) fn us_send_remove(&self, id: u8) {
        self.rm_send.insert(id);
        self.note_pending();
    }

    /// Userspace path manager: REMOVE_ADDR for address id 0 (the initial subflow's
    /// local address). The meta socket is owned.
    pub(crate) fn us_remove_id0(&self) {
        self.rm_send.insert(0);
        self.note_pending();
    }

    /// Userspace path manager: forgets our address `addr` (a destroyed subflow's;
    /// any port; the first entry with it, as upstream) without telling the peer. The
    /// meta socket is owned.
    pub(crate) fn us_forget(&self, meta: &Meta, addr: &Endpoint) {
        let _table = meta.data_lock();
        if let Some(e) = self
            .local
            .iter()
            .find(|e| e.live() && same_addr(&e.endpoint(), addr))
        {
            e.free();
        }
    }

    /// Userspace path manager: records the backup flag of our address `addr`.
    pub(crate) fn us_set_backup(&self, meta: &Meta, addr: &Endpoint, backup: bool) {
        let _table = meta.data_lock();
        for e in &self.local {
            if e.live() && same_addr(&e.endpoint(), addr) {
                if backup {
                    e.ep_flags
                        .fetch_or(bindings::MPTCP_RS_PM_FLAG_BACKUP, Ordering::Relaxed);
                } else {
                    e.ep_flags
                        .fetch_and(!bindings::MPTCP_RS_PM_FLAG_BACKUP, Ordering::Relaxed);
                }
            }
        }
    }

    /// Userspace path manager: our known address with the smallest id above
    /// `after` (or equal to it, with `inclusive`).
    pub(crate) fn us_next(&self, after: u8, inclusive: bool) -> Option<Endpoint> {
        self.local
            .iter()
            .filter_map(Entry::live_endpoint)
            .filter(|ep| ep.id > after || (inclusive && ep.id == after))
            .min_by_key(|ep| ep.id)
    }

    /// Sends what waits (ADD_ADDR, REMOVE_ADDR) on a pure ACK now. The meta socket
    /// is owned.
    pub(crate) fn us_flush(&self, meta: &Meta) {
        flush(meta);
    }

    /// Runs the address work soon: it sends our new announcements and repeats those
    /// not echoed in time. Any context.
    pub(crate) fn kick(&self, meta: &Meta) {
        self.work.kick(meta);
    }

    fn note_pending(&self) {
        self.pending.store(true, Ordering::Release);
    }

    /// Whether an option waits for a pure ACK.
    fn has_pending(&self) -> bool {
        !self.rm_send.is_empty()
            || self
                .remote
                .iter()
                .any(|e| e.has(ef::USED) && e.has(ef::SEND))
            || self.local.iter().any(|e| e.live() && e.has(ef::SEND))
    }
}

/// The first subflow of `meta`, `first`, is fully established (either side; subflow
/// locked): the address work is set up, and runs now if there are addresses to
/// announce or the initial subflow is to become backup.
pub(crate) fn fully_established(meta: &Meta, first: *mut bindings::sock) {
    let a = meta.joins().addrs();
    a.work.init(meta);
    if meta.userspace_pm() {
        // the userspace path manager announces what it chooses (`pm_userspace.rs`);
        // what it announced before now goes out
        if a.has_pending() {
            a.work.kick(meta);
        }
        return;
    }
    a.announce.store(true, Ordering::Release);
    let mut local = Endpoint::default();
    // SAFETY: `first` is live and locked by the caller; `local` is valid.
    unsafe { bindings::mptcp_rs_addr_ssk_local(first, &mut local) };
    let mpc = crate::pm::local_endpoint(meta.net(), &local);
    a.mpc_endpoint
        .store(mpc.map_or(0, |(id, _)| id), Ordering::Release);
    let backup = mpc.is_some_and(|(_, backup)| backup);
    a.mpc_check.store(backup, Ordering::Release);
    if backup || crate::pm::has_signal_endpoints(meta.net()) {
        a.work.kick(meta);
    }
}

/// The option for a pure ACK of subflow `ctx`: REMOVE_ADDR, an echo, or one of our
/// ADD_ADDRs, with the DATA_ACK when it fits. `None` when there is nothing to send
/// (the caller goes on). Softirq or process context, subflow locked.
pub(crate) fn established_options(
    ctx: &Subflow,
    meta: &Meta,
    len: u32,
    flags: u8,
    remaining: c_uint,
    has_ts: bool,
    opts: *mut bindings::mptcp_out_options,
) -> Option<c_int> {
    if len != 0
        || flags & (TCPHDR_FIN | TCPHDR_SYN | TCPHDR_RST) != 0
        || !ctx.has(crate::subflow::sf::FULLY_ESTABLISHED)
        || meta.is_fallback()
    {
        return None;
    }
    let a = meta.joins().addrs();
    // (a plain load first: this runs for every pure ACK)
    if !a.pending.load(Ordering::Relaxed) || !a.pending.swap(false, Ordering::AcqRel) {
        return None;
    }
    enum Which<'a> {
        Rm,
        Echo(&'a Entry),
        Add(&'a Entry),
    }
    // Taken, not looked at: two subflows may build segments at once (softirq
    // over process context, or two CPUs), and both would send the REMOVE_ADDR.
    let mut rm = RmClaim {
        addrs: a,
        ids: [0u8; crate::proto::options::RM_IDS_MAX],
        n: 0,
        sent: false,
    };
    rm.n = a.rm_send.take_upto(&mut rm.ids);
    let which = if rm.n > 0 {
        Which::Rm
    } else if let Some(e) = a.remote.iter().find(|e| e.has(ef::USED) && e.has(ef::SEND)) {
        Which::Echo(e)
    } else if let Some(e) = a.local.iter().find(|e| e.live() && e.has(ef::SEND)) {
        Which::Add(e)
    } else {
        // nothing waits (the hint stays cleared)
        return None;
    };
    // more may wait, or this one may not fit: the next pure ACK looks again
    a.note_pending();
    // (an entry freed meanwhile is not sent; one taken again is sent as it is now)
    let opt = match &which {
        Which::Rm => MptcpOption::RemoveAddr(RemoveAddr::new(rm.ids())?),
        Which::Echo(e) => {
            let (flags, ep) = e.snap();
            if flags & ef::USED == 0 {
                return None;
            }
            MptcpOption::AddAddr(AddAddr {
                addr_id: ep.id,
                addr: endpoint_addr(&ep)?,
                port: (ep.port != 0).then_some(ep.port),
                hmac: None,
            })
        }
        Which::Add(e) => {
            let ep = e.live_endpoint()?;
            MptcpOption::AddAddr(AddAddr {
                addr_id: ep.id,
                addr: endpoint_addr(&ep)?,
                port: (ep.port != 0).then_some(ep.port),
                hmac: Some(hmac_of(meta.local_key(), meta.remote_key(), &ep)),
            })
        }
    };
    let need = opt.wire_len().ok()?;
    let dss = MptcpOption::Dss(Dss {
        data_ack: crate::subflow::data_ack(ctx, meta, false),
        map: None,
        data_fin: false,
    });
    let dss_len = dss.wire_len().ok()?;
    // without the TCP timestamps (10 bytes, 12 aligned), where allowed: an IPv6
    // address with a port and the HMAC take 30 bytes, 28 are left beside them
    // (upstream's add_addr_v6_port_drop_ts)
    const TS_ALIGNED: c_uint = 12;
    let no_ts = || {
        has_ts
            && !matches!(which, Which::Rm)
            // SAFETY: `net` is live (the connection's).
            && unsafe { crate::sysctl::add_addr_v6_port_drop_ts(meta.net().as_ptr()) }
    };
    let mut drop_ts = false;
    let written = if (need + dss_len) as c_uint <= remaining {
        crate::subflow::stash_all(opts, &[opt, dss])
    } else if need as c_uint <= remaining {
        // the DATA_ACK goes on the next segment (upstream drops it too)
        crate::subflow::stash(opts, &opt)
    } else if need as c_uint <= remaining + TS_ALIGNED && no_ts() {
        drop_ts = true;
        crate::subflow::stash(opts, &opt)
    } else {
        None
    };
    let Some(written) = written else {
        // it can never fit (e.g. an IPv6 address with a port beside the timestamps,
        // add_addr_v6_port_drop_ts 0): dropped, as upstream, rather than tried on
        // every ACK
        match which {
            Which::Add(e) => {
                if e.take(ef::SEND) {
                    // no retransmission either
                    e.set(ef::ECHOED);
                    mib::inc(meta.net(), Mib::AddAddrTxDrop);
                }
            }
            Which::Echo(e) => {
                if e.take(ef::SEND) {
                    mib::inc(meta.net(), Mib::EchoAddTxDrop);
                }
            }
            Which::Rm => {}
        }
        return None;
    };
    let mut size = written;
    if drop_ts {
        // SAFETY: TCP's option scratch space for this segment.
        unsafe { bindings::mptcp_rs_out_drop_ts(opts) };
        // TCP counted the timestamps already: the size is what comes on top of
        // them (as upstream's mptcp_pm_add_addr_signal())
        size = written.saturating_sub(TS_ALIGNED);
    }
    let net = meta.net();
    match which {
        Which::Rm => {
            rm.sent = true;
            for _ in rm.ids() {
                mib::inc(net, Mib::RmAddrTx);
            }
        }
        Which::Echo(e) => {
            if e.take(ef::SEND) {
                mib::inc(net, Mib::EchoAddTx);
            }
        }
        Which::Add(e) => {
            if e.take(ef::SEND) {
                mib::inc(net, Mib::AddAddrTx);
            }
        }
    }
    Some(size as c_int)
}

/// The peer's ADD_ADDR `add` on subflow `ctx` (softirq or process context, subflow
/// locked, incoming options).
pub(crate) fn add_addr_rx(ctx: &Subflow, meta: &Meta, add: &AddAddr) {
    let net = meta.net();
    let a = meta.joins().addrs();
    let ep = addr_endpoint(add.addr_id, &add.addr, add.port);
    let Some(hmac) = add.hmac else {
        // the echo of one of ours
        mib::inc(net, Mib::EchoAdd);
        let _table = meta.data_lock();
        for e in &a.local {
            if e.has(ef::USED) && e.id.load(Ordering::Relaxed) == ep.id {
                // only while still used: a slot freed meanwhile stays free
                let _ = e
                    .flags
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |f| {
                        (f & ef::USED != 0).then_some(f | ef::ECHOED)
                    });
                // (the table lock keeps it from being freed meanwhile)
            }
        }
        return;
    };
    if hmac != hmac_of(meta.remote_key(), meta.local_key(), &ep) {
        mib::inc(net, Mib::AddAddrDrop);
        return;
    }
    mib::inc(net, Mib::AddAddr);
    crate::pm_events::announced(meta, ctx, add);
    if add.port.is_some() {
        mib::inc(net, Mib::PortAdd);
    }
    if meta.userspace_pm() && !crate::pm_events::listened(meta) {
        // no userspace path manager runs: not echoed (upstream's
        // mptcp_pm_add_addr_received())
        mib::inc(net, Mib::AddAddrDrop);
        return;
    }
    let table = meta.data_lock();
    let known = a
        .remote
        .iter()
        .find(|e| e.has(ef::USED) && e.id.load(Ordering::Relaxed) == ep.id);
    let new = if let Some(e) = known {
        // a retransmission (our echo was lost), or the id reused for another
        // address after a REMOVE_ADDR: echo it again
        if !same_addr(&e.endpoint(), &ep) {
            drop(table);
            mib::inc(net, Mib::AddAddrDrop);
            return;
        }
        e.set(ef::SEND);
        false
    } else if let Some(e) = a.remote.iter().find(|e| e.claim()) {
        e.publish(&ep, ef::SEND);
        true
    } else {
        drop(table);
        mib::inc(net, Mib::AddAddrDrop);
        return;
    };
    drop(table);
    if new {
        a.work.kick(meta);
    }
    a.note_pending();
    // the echo goes on a pure ACK now
    // SAFETY: TCP holds the subflow's lock for incoming options.
    unsafe { bindings::mptcp_rs_tcp_send_ack(ctx.ssk()) };
}

/// The peer's REMOVE_ADDR `rm` (subflow locked, incoming options).
pub(crate) fn rm_addr_rx(meta: &Meta, rm: &RemoveAddr) {
    let net = meta.net();
    let a = meta.joins().addrs();
    for &id in rm.ids() {
        mib::inc(net, Mib::RmAddr);
        crate::pm_events::removed(meta, id);
    }
    let table = meta.data_lock();
    for &id in rm.ids() {
        for e in &a.remote {
            if e.live() && e.id.load(Ordering::Relaxed) == id {
                e.set(ef::REMOVED);
                if e.has(ef::ACCEPTED) {
                    let _ = a
                        .accepted
                        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
                }
            }
        }
        // (id 0: the first subflow, `Meta::close_first`)
        a.rm_remote.insert(id);
    }
    drop(table);
    a.work.kick(meta);
}

/// Calls `f` for every connection of `net` in the token table, each held while `f`
/// runs. Process context.
fn for_each_conn(net: &crate::net::Net, mut f: impl FnMut(&Meta)) {
    let mut slot: c_long = 0;
    let mut num: c_long = 0;
    loop {
        // SAFETY: `net` is live; the iterator returns a held socket or null.
        let sk = unsafe { bindings::mptcp_rs_token_next(net.as_ptr(), &mut slot, &mut num) };
        if sk.is_null() {
            break;
        }
        // SAFETY: a meta socket from the token table, held until the put below.
        if let Some(meta) = unsafe { Meta::from_sk(sk) } {
            f(meta);
        }
        // SAFETY: the iterator's reference.
        unsafe { bindings::mptcp_rs_sock_put(sk) };
    }
}

/// Endpoint `id` of `net` was deleted (by a `flush` of all, or alone): every
/// connection of the namespace withdraws it. Process context (netlink).
pub(crate) fn endpoint_removed(net: &crate::net::Net, id: u8, flush: bool) {
    for_each_conn(net, |meta| {
        let a = meta.joins().addrs();
        if a.work.is_ready() && !meta.joins().is_closed() && !meta.userspace_pm() {
            let table = meta.data_lock();
            for e in &a.local {
                if e.live() && e.id.load(Ordering::Relaxed) == id {
                    e.set(ef::REMOVED);
                    a.rm_announced.insert(id);
                }
            }
            drop(table);
            if flush {
                a.rm_quiet.insert(id);
            }
            a.rm_local.insert(id);
            // the endpoint of the initial subflow's address: as upstream, that is
            // address id 0 to this connection; its subflows close, and a delete
            // (not a flush: 0 was never announced) sends REMOVE_ADDR 0
            let mpc = a
                .mpc_endpoint
                .compare_exchange(id, 0, Ordering::AcqRel, Ordering::Relaxed);
            if id != 0 && mpc.is_ok() {
                if flush {
                    a.rm_quiet.insert(0);
                } else {
                    a.rm_announced.insert(0);
                }
                a.rm_local.insert(0);
            }
            a.work.kick(meta);
        }
    });
}

/// Address id 0 with the address of `ep` was deleted: every connection of `net`
/// (in-kernel path manager) whose initial address it is withdraws it: REMOVE_ADDR
/// for id 0, and its first subflow closes if joined ones carry on
/// ([`crate::sock::Meta::close_first`]). Process context (netlink).
pub(crate) fn initial_address_removed(net: &crate::net::Net, ep: &Endpoint) {
    for_each_conn(net, |meta| {
        let a = meta.joins().addrs();
        // SAFETY: a held meta socket; `ep` is valid.
        let local = unsafe { bindings::mptcp_rs_addr_ssk_saddr_is(meta.sk(), ep) };
        if local && a.work.is_ready() && !meta.joins().is_closed() && !meta.userspace_pm() {
            a.rm_announced.insert(0);
            a.rm_local.insert(0);
            a.work.kick(meta);
        }
    });
}

/// Endpoint `ep` (with its id) was added to `net`: every connection of the
/// namespace that is fully established and still `ESTABLISHED` (neither side
/// closed yet; upstream's `mptcp_is_fully_established()`) acts on it as upstream's
/// `mptcp_nl_add_subflow_or_signal_addr()`: a `signal` endpoint is announced
/// (ADD_ADDR, by the address work), a `subflow` one gets its subflows on the
/// connections we initiated (the join work, `join_active.rs`). Process context
/// (netlink). An endpoint (without a port) with a connection's initial address
/// becomes that connection's address id 0 ([`ConnAddrs::mpc_endpoint`]).
pub(crate) fn endpoint_added(net: &crate::net::Net, ep: &Endpoint) {
    let signal = ep.flags & bindings::MPTCP_RS_PM_FLAG_SIGNAL != 0;
    let subflow = ep.flags & bindings::MPTCP_RS_PM_FLAG_SUBFLOW != 0;
    for_each_conn(net, |meta| {
        let a = meta.joins().addrs();
        // SAFETY: a held meta socket; `ep` is valid.
        let initial =
            ep.port == 0 && unsafe { bindings::mptcp_rs_addr_ssk_saddr_is(meta.sk(), ep) };
        if initial && a.work.is_ready() && !meta.userspace_pm() {
            // the initial subflow's address has an endpoint again: that endpoint
            // stands for address id 0 now (upstream's re-added `mpc_endpoint_id`)
            a.mpc_endpoint.store(ep.id, Ordering::Release);
        }
        if !signal && !subflow {
            return;
        }
        if !a.work.is_ready()
            || meta.joins().is_closed()
            || meta.is_fallback()
            || meta.userspace_pm()
        {
            // not fully established yet: it looks at the endpoints then (a
            // connection of the userspace path manager never does)
            return;
        }
        if meta.state() != crate::tcp_state::TCP_ESTABLISHED {
            // closing, one way or both: left alone, as upstream does
            return;
        }
        if signal {
            a.announce.store(true, Ordering::Release);
            a.work.kick(meta);
        }
        if subflow {
            meta.joins().active_work().endpoint_added(meta);
        }
    });
}

/// The `fullmesh` flag of `subflow` endpoint `ep` of `net` changed: every connection
/// we initiated (in-kernel path manager, fully established, still `ESTABLISHED`)
/// closes the joined subflows from its address, without REMOVE_ADDR (counted as
/// `RmSubflow`), and opens them again as the flag now says: to the peer's initial
/// address only, or to each address it announced too (upstream's
/// `mptcp_pm_nl_fullmesh()`). The first subflow stays. Process context (netlink).
pub(crate) fn endpoint_fullmesh_changed(net: &crate::net::Net, ep: &Endpoint) {
    for_each_conn(net, |meta| {
        let a = meta.joins().addrs();
        if !a.work.is_ready()
            || meta.joins().is_closed()
            || meta.is_fallback()
            || meta.userspace_pm()
            || !meta.joins().active_work().is_client()
            || meta.state() != crate::tcp_state::TCP_ESTABLISHED
        {
            return;
        }
        // the joins from the initial subflow's address have address id 0 (they go to
        // the peer's announced addresses only); the first subflow is not closed
        // SAFETY: a held meta socket; `ep` is valid.
        let initial = unsafe { bindings::mptcp_rs_addr_ssk_saddr_is(meta.sk(), ep) };
        if !initial {
            a.rm_quiet.insert(ep.id);
            a.rm_local.insert(ep.id);
        }
        a.rejoin.store(true, Ordering::Release);
        a.work.kick(meta);
    });
}

/// The peer's announcements this connection accepted (live, of `family`), into
/// `out`; how many. The addresses a `fullmesh` endpoint opens subflows to, besides
/// the peer's initial one (`join_active.rs`). The meta socket is owned.
pub(crate) fn accepted_remotes(meta: &Meta, family: u16, out: &mut [Endpoint]) -> usize {
    let a = meta.joins().addrs();
    let mut n = 0;
    for e in &a.remote {
        let Some(ep) = e.live_endpoint() else {
            continue;
        };
        if !e.has(ef::ACCEPTED) || ep.family != family {
            continue;
        }
        let Some(slot) = out.get_mut(n) else {
            break;
        };
        *slot = ep;
        n += 1;
    }
    n
}

/// Endpoint `ep` of `net` became a backup (`backup`) or stopped being one: the
/// subflows of the namespace's connections whose local address is the endpoint's
/// take the priority and announce it with MP_PRIO (RFC 8684 3.3.8), as upstream's
/// `ip mptcp endpoint change` does. Process context (netlink).
pub(crate) fn endpoint_prio_changed(net: &crate::net::Net, ep: &Endpoint, backup: bool) {
    for_each_conn(net, |meta| {
        if meta.userspace_pm() {
            return;
        }
        let sk = meta.sk();
        // SAFETY: a held meta socket, process context.
        unsafe { bindings::mptcp_rs_lock_sock(sk) };
        if !meta.is_fallback() && !meta.joins().is_closed() {
            meta.for_each_subflow_locked(|ssk, ctx, _| {
                // SAFETY: `ssk` is live and locked; `ep` valid.
                if unsafe { bindings::mptcp_rs_addr_ssk_saddr_is(ssk, ep) } {
                    send_prio(ssk, ctx, backup);
                }
                false
            });
        }
        // SAFETY: locked above.
        unsafe { bindings::release_sock(sk) };
    });
}

/// Subflow `ctx` (socket `ssk`, locked) takes the backup priority `backup` and
/// announces it with MP_PRIO on a pure ACK, if it still sends; whether it did.
pub(crate) fn send_prio(ssk: *mut bindings::sock, ctx: &Subflow, backup: bool) -> bool {
    // SAFETY: `ssk` is live and locked (the caller's).
    if !ctx.can_send() || !acks_in(unsafe { bindings::mptcp_rs_sk_state(ssk) }) {
        return false;
    }
    ctx.change_prio(backup);
    // SAFETY: as above.
    unsafe { bindings::mptcp_rs_tcp_send_ack(ssk) };
    true
}

/// Runs the address work of meta socket `sk` (process context, from the module's
/// workqueue; the queued item holds a reference on `sk`).
extern "C" fn work_fn(sk: *mut bindings::sock) {
    // SAFETY: `sk` is a live meta socket (the work item's reference).
    let Some(meta) = (unsafe { Meta::from_sk(sk) }) else {
        return;
    };
    if let Some(ep) = meta.joins().addrs().take_implicit() {
        // the join's next SYN finds it (`join.rs`); already there if another
        // connection made it first
        let _ = crate::pm::passive_local_id_or_implicit(meta.net(), &ep);
    }
    // SAFETY: live socket, process context.
    unsafe { bindings::mptcp_rs_lock_sock(sk) };
    let state = meta.state();
    // either direction may be closed already: the connection still carries the other
    if acks_in(state) && !meta.is_fallback() && !meta.joins().is_closed() {
        run(meta);
    }
    // SAFETY: locked above.
    unsafe { bindings::release_sock(sk) };
}

/// The connection's address family as endpoints carry it (IPv4 also for a
/// v4-mapped IPv6 connection).
fn conn_family(meta: &Meta) -> u16 {
    // SAFETY: `meta.sk()` is live.
    if unsafe { bindings::mptcp_rs_join_conn_is_v4(meta.sk()) } {
        AF_INET
    } else {
        AF_INET6
    }
}

/// The address work (see the module documentation). The meta socket is owned.
fn run(meta: &Meta) {
    let net = meta.net();
    let a = meta.joins().addrs();
    let family = conn_family(meta);

    if a.mpc_check.swap(false, Ordering::AcqRel) {
        mpc_backup(meta);
    }

    // our announcements: at the start, and of endpoints added later
    if a.announce.swap(false, Ordering::AcqRel) {
        let mut eps = [Endpoint::default(); MAX_ADDRS];
        let n = crate::pm::signal_endpoints(net, &mut eps);
        for ep in eps.iter().take(n) {
            // SAFETY: `meta.sk()` is live and owned; `ep` valid.
            let own = unsafe { bindings::mptcp_rs_join_ep_is_local(meta.sk(), ep) };
            // our own address is the peer's already, unless with another port (a
            // `signal` endpoint with a port has a listener there, `pm.rs`)
            if ep.family != family || (own && ep.port == 0) {
                continue;
            }
            // announced already (and not withdrawn since)
            let table = meta.data_lock();
            if a.local
                .iter()
                .any(|e| e.live() && e.id.load(Ordering::Relaxed) == ep.id)
            {
                continue;
            }
            let claimed = a.local.iter().find(|e| e.claim());
            if let Some(e) = claimed {
                e.publish(ep, ef::SEND);
            }
            drop(table);
            if claimed.is_none() {
                mib::inc(net, Mib::AddAddrTxDrop);
            }
        }
    }

    // not echoed in time: again, a few times
    let mut unechoed = false;
    for e in &a.local {
        if !e.live() || e.has(ef::ECHOED) || e.has(ef::QUIET) {
            continue;
        }
        if !e.has(ef::SEND) {
            let r = e.retrans.load(Ordering::Acquire);
            if r >= ADD_ADDR_RETRANS_MAX {
                continue;
            }
            e.retrans.store(r.saturating_add(1), Ordering::Release);
            e.set(ef::SEND);
        }
        unechoed = true;
    }

    // the peer's announcements: accept within the limit, join (the userspace path
    // manager decides for itself)
    let limit = crate::pm::add_addr_accepted_limit(net);
    for e in &a.remote {
        if meta.userspace_pm() || e.has(ef::DECIDED) {
            continue;
        }
        let Some(ep) = e.live_endpoint() else {
            continue;
        };
        // SAFETY: `meta.sk()` is live; `ep` valid.
        let initial = unsafe { bindings::mptcp_rs_addr_is_remote(meta.sk(), &ep) };
        // decided under the table lock, where a REMOVE_ADDR gives the slot back
        let table = meta.data_lock();
        if !e.live() {
            continue;
        }
        e.set(ef::DECIDED);
        let accept = ep.id != 0
            && !initial
            && ep.family == family
            && a.accepted.load(Ordering::Acquire) < limit;
        if accept {
            a.accepted.fetch_add(1, Ordering::AcqRel);
            e.set(ef::ACCEPTED | ef::JOINED);
        }
        drop(table);
        if accept && !join_to(meta, &ep, family) {
            // as upstream, an announcement counts as accepted only once a subflow
            // to it was created: one that could not be (no route, a bad address)
            // leaves its place to the next
            let _table = meta.data_lock();
            // (a REMOVE_ADDR meanwhile gave the place back already)
            if e.live() && e.take(ef::ACCEPTED) {
                let _ = a
                    .accepted
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
            }
        }
    }

    // (taken before the ids to close: netlink sets it after them)
    let rejoin = a.rejoin.swap(false, Ordering::AcqRel);
    // withdrawn addresses: close their subflows
    let local_ids = a.rm_local.take();
    let quiet_ids = a.rm_quiet.take();
    // (an id in both sets gets one REMOVE_ADDR: bits)
    a.rm_send.insert_all(&a.rm_announced.take());
    let remote_ids = a.rm_remote.take();
    let closing = local_ids.iter().any(|&w| w != 0) || remote_ids.iter().any(|&w| w != 0);
    if closing {
        // REMOVE_ADDR first (as upstream), so that the peer learns why before the
        // resets arrive
        close_subflows(meta, &local_ids, &remote_ids, Some(&quiet_ids));
    }
    flush(meta);
    if closing {
        close_subflows(meta, &local_ids, &remote_ids, None);
    }
    // address id 0 (the first subflow's) removed, ours or the peer's: the first
    // subflow closes if joined ones carry on
    if bits_contain(&local_ids, 0) {
        if meta.close_first() {
            mib::inc(net, Mib::RmSubflow);
        }
    } else if bits_contain(&remote_ids, 0) {
        meta.close_first();
    }
    if rejoin {
        // after a `fullmesh` change: the endpoint's subflows as the flag now says
        meta.joins().active_work().endpoint_added(meta);
    }
    // subflows the peer closed (its path manager removed them)
    meta.joins().close_peer_closed(meta);
    if rejoin {
        // the subflows closed above are being opened again (the join work, after
        // this run): whether any is left to carry the connection is looked at later
        a.work.queue(meta, REJOIN_CHECK_MS);
    } else {
        // none left to carry the connection after its first subflow was closed?
        meta.check_paths();
    }
    if unechoed {
        // SAFETY: `net` is live.
        let timeout = unsafe { crate::sysctl::add_addr_timeout(net.as_ptr()) };
        // SAFETY: no preconditions.
        let ms = unsafe { bindings::mptcp_rs_addr_jiffies_to_msecs(timeout as c_ulong) };
        a.work.queue(meta, ms.max(100));
    }
}

/// The initial subflow becomes a backup subflow (MP_PRIO): an endpoint with the
/// `backup` flag had its local address ([`fully_established`]). The meta socket is
/// owned.
fn mpc_backup(meta: &Meta) {
    let first = meta.first_ssk();
    if first.is_null() {
        return;
    }
    // SAFETY: the first subflow is live while the meta socket is owned; its lock
    // nests inside the meta socket's.
    unsafe {
        bindings::mptcp_rs_lock_sock(first);
        if let Some(ctx) = Subflow::from_sk(first) {
            send_prio(first, ctx, true);
        }
        bindings::release_sock(first);
    }
}

/// Opens joins to `to`, an address the peer announced, within the `subflows`
/// limit: one from each `fullmesh` endpoint of the connection's family if there is
/// any (address id 0 for the connection's own address); else, if there are
/// `laminar` endpoints, one from the first of the family whose address no joined
/// subflow uses (none if all are used); else one from the source address routing
/// picks (upstream's `fill_local_addresses_vec()`). Whether some subflow to `to`
/// was opened (or was there). The meta socket is owned.
fn join_to(meta: &Meta, to: &Endpoint, family: u16) -> bool {
    let net = meta.net();
    let limit = usize::from(crate::pm::subflows_limit(net)).min(MAX_JOINED);
    // at most as many local addresses as upstream's `MPTCP_PM_ADDR_MAX`
    let mut eps = [Endpoint::default(); MAX_ADDRS];
    let n = crate::pm::fullmesh_endpoints(net, &mut eps);
    let mut fullmesh = false;
    let mut opened = false;
    for ep in eps.iter().take(n).filter(|ep| ep.family == family) {
        fullmesh = true;
        if meta.joins().count() >= limit {
            break;
        }
        let mut src = *ep;
        // SAFETY: `meta.sk()` is live and owned; `ep` valid.
        if unsafe { bindings::mptcp_rs_join_ep_is_local(meta.sk(), ep) } {
            src.id = 0;
        }
        src.port = 0;
        if crate::join_active::has_live_join(meta, src.id, Some(to.id)) {
            opened = true;
            continue;
        }
        opened |= crate::join_active::connect_one(meta, &src, c_int::from(family), Some(to));
    }
    if fullmesh || meta.joins().count() >= limit {
        return opened;
    }
    let n = crate::pm::laminar_endpoints(net, &mut eps);
    if n > 0 {
        return join_from_laminar(meta, to, family, &eps[..n]);
    }
    let mut src = Endpoint::default();
    // SAFETY: `meta.sk()` is live and owned; `to` and `src` valid.
    if unsafe { bindings::mptcp_rs_addr_route_src(meta.sk(), to, &mut src) } != 0 {
        mib::inc(net, Mib::MPJoinSynTxConnectErr);
        return false;
    }
    // SAFETY: as above.
    let own = unsafe { bindings::mptcp_rs_join_ep_is_local(meta.sk(), &src) };
    let id = if own {
        Some(0)
    } else {
        crate::pm::local_id_or_implicit(net, &src)
    };
    let Some(id) = id else {
        mib::inc(net, Mib::MPJoinSynTxCreatSkErr);
        return false;
    };
    src.id = id;
    // an endpoint with this address asks for a backup subflow (upstream's
    // `mptcp_pm_is_backup()` when the route picked the source)
    src.flags = if crate::pm::local_backup(net, &src) {
        bindings::MPTCP_RS_PM_FLAG_BACKUP
    } else {
        0
    };
    src.ifindex = 0;
    src.port = 0;
    crate::join_active::connect_one(meta, &src, c_int::from(family), Some(to))
}

/// One join to `to` from the first of `laminar` (endpoints with that flag) of
/// `family` whose address no subflow that is not closing uses, as upstream's
/// `fill_local_laminar_endp()`: the endpoint of the initial subflow's address
/// stands for address id 0, which the initial subflow uses while it is open (not
/// closed by the path manager, nor closing or closed by a reset or timeout).
/// Whether one was opened. The meta socket is owned.
fn join_from_laminar(meta: &Meta, to: &Endpoint, family: u16, laminar: &[Endpoint]) -> bool {
    for ep in laminar.iter().filter(|ep| ep.family == family) {
        let mut src = *ep;
        // SAFETY: `meta.sk()` is live and owned; `ep` valid.
        if unsafe { bindings::mptcp_rs_join_ep_is_local(meta.sk(), ep) } {
            if meta.first_in_use() {
                continue;
            }
            src.id = 0;
        }
        if crate::join_active::local_id_in_use(meta, src.id) {
            continue;
        }
        src.port = 0;
        return crate::join_active::connect_one(meta, &src, c_int::from(family), Some(to));
    }
    false
}

/// The joined subflows using one of our address ids in `local` or one of the peer's
/// in `remote`: with `announce` (`Some(quiet)`), the ids of ours that live ones use
/// get a REMOVE_ADDR, except those in `quiet`; with `None`, they are closed as
/// upstream closes the subflows its path manager removes (FIN, what they carried
/// queued again on the others: [`crate::join::Joins::close_one`]; `RmSubflow` counts
/// those of our ids). The meta socket is owned.
fn close_subflows(meta: &Meta, local: &[u64; 4], remote: &[u64; 4], announce: Option<&[u64; 4]>) {
    let net = meta.net();
    let a = meta.joins().addrs();
    for i in 0..meta.joins().slot_count() {
        let ssk = meta.joins().ssk_at(i);
        if ssk.is_null() {
            continue;
        }
        // SAFETY: a slot's subflow, alive while the meta socket is owned (`Joins`);
        // its lock nests inside the meta socket's; the meta spinlock is not held.
        let (by_local, by_remote, live, l) = unsafe {
            bindings::mptcp_rs_lock_sock(ssk);
            let found = Subflow::from_sk(ssk).map(|ctx| {
                let aj = ctx.active_join();
                (aj.local_id(), aj.remote_id())
            });
            let live = bindings::mptcp_rs_sk_state(ssk) != TCP_CLOSE;
            bindings::release_sock(ssk);
            match found {
                Some((l, r)) => (
                    // (id 0: subflows from our initial address, or to the peer's)
                    bits_contain(local, l),
                    bits_contain(remote, r),
                    live,
                    l,
                ),
                None => continue,
            }
        };
        if let Some(quiet) = announce {
            if by_local && live && !bits_contain(quiet, l) {
                a.rm_send.insert(l);
            }
        } else if (by_local || by_remote) && live {
            // (one the path or the peer closed already is reaped as any dead one)
            meta.joins().close_one(meta, ssk);
            if by_local {
                // as upstream, which counts the subflows its own removals close
                // (a REMOVE_ADDR received counts as RmAddr)
                mib::inc(net, Mib::RmSubflow);
            }
        }
    }
}

/// Sends pure ACKs while options wait for one: on the first subflow, or else on a
/// joined one. The meta socket is owned.
fn flush(meta: &Meta) {
    let a = meta.joins().addrs();
    if !a.has_pending() {
        return;
    }
    a.note_pending();
    let first = meta.first_ssk();
    let joined = (0..meta.joins().slot_count()).map(|i| meta.joins().ssk_at(i));
    for ssk in Iterator::chain(core::iter::once(first), joined) {
        if ssk.is_null() {
            continue;
        }
        // SAFETY: the first subflow, or a slot's, lives while the meta socket is
        // owned; its lock nests inside the meta socket's.
        let sent = unsafe {
            bindings::mptcp_rs_lock_sock(ssk);
            let usable = acks_in(bindings::mptcp_rs_sk_state(ssk))
                && Subflow::from_sk(ssk)
                    .is_some_and(|c| c.has(crate::subflow::sf::FULLY_ESTABLISHED));
            if usable {
                for _ in 0..2 * MAX_ADDRS + 2 {
                    if !a.has_pending() {
                        break;
                    }
                    bindings::mptcp_rs_tcp_send_ack(ssk);
                }
            }
            bindings::release_sock(ssk);
            usable
        };
        if sent {
            return;
        }
    }
}
