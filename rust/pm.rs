// SPDX-License-Identifier: GPL-2.0

//! The in-kernel path manager's configuration: endpoints and limits per network
//! namespace, set through the generic netlink family `mptcp_pm` (`ip mptcp endpoint`,
//! `ip mptcp limits`, `pm_nl_ctl`) with upstream's semantics (`net/mptcp/pm_kernel.c`).
//!
//! Each namespace has one [`Table`] behind a mutex: netlink handlers run in process
//! context and may sleep (the table grows with `GFP_KERNEL_ACCOUNT` under the lock).
//! The netlink side (registration, policies, parsing, replies, extack) is C, in
//! `rust/pm_netlink_shim.c`; it calls the `extern "C"` functions of [`OPS`].
//!
//! The data path reads the limits, the `subflow` and `fullmesh` endpoints (MP_JOIN,
//! `join_active.rs`, `addr.rs`) and the `signal` ones (ADD_ADDR, `addr.rs`); adding,
//! deleting and changing endpoints acts on live connections (`addr.rs`). See
//! `Documentation/mptcp-rs/path-manager.rst`.

use crate::{bindings, net::Net};
use core::cell::UnsafeCell;
use core::sync::atomic::{fence, AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use kernel::{error::to_result, new_mutex, prelude::*, sync::Mutex, types::Opaque};

/// An endpoint as netlink carries it (parsed by the shim).
type Endpoint = bindings::mptcp_rs_pm_endpoint;

const SIGNAL: u32 = bindings::MPTCP_RS_PM_FLAG_SIGNAL;
const SUBFLOW: u32 = bindings::MPTCP_RS_PM_FLAG_SUBFLOW;
const BACKUP: u32 = bindings::MPTCP_RS_PM_FLAG_BACKUP;
const FULLMESH: u32 = bindings::MPTCP_RS_PM_FLAG_FULLMESH;
const IMPLICIT: u32 = bindings::MPTCP_RS_PM_FLAG_IMPLICIT;
const LAMINAR: u32 = bindings::MPTCP_RS_PM_FLAG_LAMINAR;
const AF_UNSPEC: u16 = bindings::MPTCP_RS_AF_UNSPEC as u16;
const AF_INET: u16 = bindings::MPTCP_RS_AF_INET as u16;
const AF_INET6: u16 = bindings::MPTCP_RS_AF_INET6 as u16;

/// `EOPNOTSUPP`, which `kernel::error::code` does not name.
fn eopnotsupp() -> Error {
    Error::from_errno(-(kernel::bindings::EOPNOTSUPP as c_int))
}

/// The largest endpoint id, and the most endpoints a namespace may have
/// (upstream's `MPTCP_PM_MAX_ADDR_ID`).
const MAX_ID: u8 = u8::MAX;
/// The largest value of either limit (upstream's `MPTCP_PM_SUBFLOWS_MAX`).
pub(crate) const LIMIT_MAX: u32 = 64;
/// Extra subflows allowed by default ("2 subflows ought to be enough for anybody").
const DEFAULT_EXTRA_SUBFLOWS: u8 = 2;

/// A set of endpoint ids (0..=255).
#[derive(Default)]
struct IdSet {
    low: u128,
    high: u128,
}

impl IdSet {
    fn word(&mut self, id: u8) -> (&mut u128, u128) {
        let bit = 1u128 << (id & 127);
        if id < 128 {
            (&mut self.low, bit)
        } else {
            (&mut self.high, bit)
        }
    }

    fn contains(&self, id: u8) -> bool {
        let word = if id < 128 { self.low } else { self.high };
        word & (1u128 << (id & 127)) != 0
    }

    fn insert(&mut self, id: u8) {
        let (word, bit) = self.word(id);
        *word |= bit;
    }

    fn remove(&mut self, id: u8) {
        let (word, bit) = self.word(id);
        *word &= !bit;
    }

    /// The smallest id from `from` on that is not in the set (upstream's
    /// `find_next_zero_bit()`); never 0.
    fn first_free(&self, from: u8) -> Option<u8> {
        (from.max(1)..=MAX_ID).find(|&id| !self.contains(id))
    }
}

/// The IPv4 address of `ep`, or of its v4-mapped IPv6 address.
fn ipv4_of(ep: &Endpoint) -> Option<[u8; 4]> {
    match (ep.family, ep.addr) {
        (AF_INET, [a, b, c, d, ..]) => Some([a, b, c, d]),
        (AF_INET6, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d]) => Some([a, b, c, d]),
        _ => None,
    }
}

/// Whether `a` and `b` are the same address, and port if `use_port` (upstream's
/// `mptcp_addresses_equal()`: an IPv4 address equals its v4-mapped IPv6 form).
fn addresses_equal(a: &Endpoint, b: &Endpoint, use_port: bool) -> bool {
    let same = if a.family == b.family {
        if a.family == AF_INET {
            ipv4_of(a) == ipv4_of(b)
        } else {
            a.addr == b.addr
        }
    } else if a.family == AF_INET || b.family == AF_INET {
        ipv4_of(a).is_some() && ipv4_of(a) == ipv4_of(b)
    } else {
        false
    };
    same && (!use_port || a.port == b.port)
}

/// Whether `ep` is announced with its port: a `signal` endpoint that is not `subflow`.
fn uses_port(ep: &Endpoint) -> bool {
    ep.flags & (SIGNAL | SUBFLOW) == SIGNAL
}

/// An error of a netlink command: the errno and, if any, the extack message that
/// upstream reports against the request's address attribute.
type CmdError = (Error, Option<&'static CStr>);

/// The MPTCP listening socket of a `signal` endpoint with a port: joins to the
/// announced address and port arrive there (upstream's `mptcp_pm_nl_create_listen_socket()`).
///
/// # Invariants
///
/// `sock` is a listening kernel socket owned by this value, in the namespace of the
/// table that holds it, released by `Drop` (before the namespace goes: the table is
/// dropped at the latest by `pernet_exit`).
struct PortListener {
    id: u8,
    sock: *mut bindings::socket,
}

// SAFETY: the socket is owned (type invariant) and released from process context
// only; nothing else refers to it through this value.
unsafe impl Send for PortListener {}

impl PortListener {
    /// Listens on `ep`'s address and port in `net`.
    fn new(net: &Net, ep: &Endpoint) -> Result<Self> {
        let mut sock = core::ptr::null_mut();
        // SAFETY: `net` is live; `ep` valid; `sock` receives the new socket.
        to_result(unsafe { bindings::mptcp_rs_addr_listen(net.as_ptr(), ep, &mut sock) })?;
        let l = PortListener { id: ep.id, sock };
        // SAFETY: our live socket; its `sk` is a meta socket of ours.
        if let Some(meta) = unsafe { crate::sock::Meta::from_sk(bindings::mptcp_rs_sf_sk(sock)) } {
            // joins only
            meta.set_pm_listener();
        }
        // it must not keep the module loaded: module unload closes it (`mptcp.rs`)
        l.module_refs(false);
        Ok(l)
    }

    /// Drops or takes back the module references the socket holds.
    fn module_refs(&self, take: bool) {
        // SAFETY: `sock` is our live socket (type invariant); its `sk` is a meta
        // socket of ours, whose first subflow lives as long as it does.
        unsafe {
            let sk = bindings::mptcp_rs_sf_sk(self.sock);
            let first =
                crate::sock::Meta::from_sk(sk).map_or(core::ptr::null_mut(), |m| m.first_ssk());
            bindings::mptcp_rs_addr_listen_refs(self.sock, first, take);
        }
    }
}

impl Drop for PortListener {
    fn drop(&mut self) {
        self.module_refs(true);
        // SAFETY: ours (type invariant), released once.
        unsafe { bindings::mptcp_rs_addr_listen_release(self.sock) };
    }
}

/// One namespace's endpoints and limits (upstream's `struct pm_nl_pernet`).
struct Table {
    /// The endpoints, in no particular order (lookups follow upstream's list order
    /// explicitly, dumps go by id).
    endpoints: KVec<Endpoint>,
    /// The ids in use.
    ids: IdSet,
    /// Where the search for a free id starts.
    next_id: u8,
    /// Endpoints with each flag (upstream's `endp_*_max`), for the future data path.
    signal: u8,
    subflow: u8,
    laminar: u8,
    fullmesh: u8,
    /// `add_addr_accepted`: ADD_ADDRs accepted per connection.
    add_addr_accepted: u8,
    /// `subflows`: extra subflows per connection.
    extra_subflows: u8,
    /// The listening sockets of the `signal` endpoints with a port.
    listeners: KVec<PortListener>,
    /// An endpoint was added or removed since [`Mirror`] was last written.
    mirror_stale: bool,
}

impl Table {
    fn new() -> Self {
        Self {
            endpoints: KVec::new(),
            ids: IdSet::default(),
            next_id: 1,
            signal: 0,
            subflow: 0,
            laminar: 0,
            fullmesh: 0,
            add_addr_accepted: 0,
            extra_subflows: DEFAULT_EXTRA_SUBFLOWS,
            listeners: KVec::new(),
            mirror_stale: false,
        }
    }

    /// Adds (or, with `-1`, removes) `ep`'s flags to the per-flag counts.
    fn count(&mut self, flags: u32, add: bool) {
        let step = |n: u8| {
            if add {
                n.wrapping_add(1)
            } else {
                n.wrapping_sub(1)
            }
        };
        if flags & SIGNAL != 0 {
            self.signal = step(self.signal);
        }
        if flags & SUBFLOW != 0 {
            self.subflow = step(self.subflow);
        }
        if flags & LAMINAR != 0 {
            self.laminar = step(self.laminar);
        }
        if flags & FULLMESH != 0 {
            self.fullmesh = step(self.fullmesh);
        }
    }

    fn position_by_id(&self, id: u8) -> Option<usize> {
        self.endpoints.iter().position(|e| e.id == id)
    }

    /// The endpoint `addr` refers to, as upstream's `__lookup_addr()` finds it: endpoints
    /// with a port (first in upstream's list) match address and port, the others the
    /// address only.
    fn position_by_addr(&self, addr: &Endpoint) -> Option<usize> {
        self.endpoints
            .iter()
            .position(|e| e.port != 0 && addresses_equal(e, addr, true))
            .or_else(|| {
                self.endpoints
                    .iter()
                    .position(|e| e.port == 0 && addresses_equal(e, addr, false))
            })
    }

    /// Inserts `ep`, allocating its id if it has none (upstream's
    /// `mptcp_pm_nl_append_new_local_addr()` with `replace`); returns the id.
    fn insert(&mut self, mut ep: Endpoint) -> Result<u8> {
        if self.next_id == MAX_ID {
            self.next_id = 1;
        }
        if self.endpoints.len() >= usize::from(MAX_ID) {
            return Err(ERANGE);
        }
        if ep.id != 0 && self.ids.contains(ep.id) {
            return Err(EBUSY);
        }
        if !uses_port(&ep) {
            ep.port = 0;
        }
        // no duplicate address; port-based endpoints differ by port. An implicit
        // endpoint (created for a connection's address) is replaced when the new one
        // asks for no particular id.
        let mut replaced = None;
        for (i, cur) in self.endpoints.iter().enumerate() {
            if addresses_equal(cur, &ep, cur.port != 0 || ep.port != 0) {
                if cur.flags & IMPLICIT == 0 {
                    return Err(EEXIST);
                }
                if ep.id != 0 {
                    return Err(EINVAL);
                }
                ep.id = cur.id;
                replaced = Some(i);
                break;
            }
        }
        if ep.id == 0 {
            ep.id = match self.ids.first_free(self.next_id) {
                Some(id) => id,
                None if self.next_id != 1 => {
                    self.next_id = 1;
                    self.ids.first_free(1).ok_or(EINVAL)?
                }
                None => return Err(EINVAL),
            };
        }
        match replaced.and_then(|i| self.endpoints.get_mut(i)) {
            Some(slot) => *slot = ep,
            None => self.endpoints.push(ep, GFP_KERNEL_ACCOUNT)?,
        }
        self.ids.insert(ep.id);
        self.mirror_stale = true;
        if ep.id > self.next_id {
            self.next_id = ep.id;
        }
        self.count(ep.flags, true);
        Ok(ep.id)
    }

    /// Removes endpoint `id`; its listening socket, if any, is the caller's to close
    /// (after unlocking: closing runs our socket code).
    fn remove(&mut self, id: u8) -> Result<Option<PortListener>, CmdError> {
        let not_found = (EINVAL, Some(c"address not found"));
        let i = self.position_by_id(id).ok_or(not_found)?;
        let ep = self.endpoints.remove(i).map_err(|_| not_found)?;
        self.mirror_stale = true;
        self.count(ep.flags, false);
        self.ids.remove(ep.id);
        Ok(self
            .listeners
            .iter()
            .position(|l| l.id == ep.id)
            .and_then(|j| self.listeners.remove(j).ok()))
    }

    /// Removes every endpoint; their listening sockets are the caller's to close
    /// (after unlocking).
    fn flush(&mut self) -> KVec<PortListener> {
        // drop the storage too: a flushed namespace holds no memory for endpoints
        self.endpoints = KVec::new();
        self.mirror_stale = true;
        let listeners = core::mem::take(&mut self.listeners);
        self.ids = IdSet::default();
        self.next_id = 1;
        self.signal = 0;
        self.subflow = 0;
        self.laminar = 0;
        self.fullmesh = 0;
        listeners
    }

    /// The endpoint with the smallest id above `after`.
    fn next_after(&self, after: u8) -> Option<Endpoint> {
        self.endpoints
            .iter()
            .filter(|e| e.id > after)
            .min_by_key(|e| e.id)
            .copied()
    }

    /// Changes the `backup` and `fullmesh` flags of the endpoint `ep` names (by id when
    /// it has no family), as upstream's `mptcp_pm_nl_set_flags()`.
    ///
    /// Returns the endpoint and which of the two flags changed (live connections
    /// follow).
    fn set_flags(&mut self, ep: &Endpoint) -> Result<(Endpoint, u32), CmdError> {
        const MASK: u32 = BACKUP | FULLMESH;
        let position = if ep.family == AF_UNSPEC {
            if ep.id == 0 {
                return Err((eopnotsupp(), Some(c"missing address ID")));
            }
            self.position_by_id(ep.id)
        } else {
            self.position_by_addr(ep)
        };
        let entry = position
            .and_then(|i| self.endpoints.get_mut(i))
            .ok_or((EINVAL, Some(c"address not found")))?;
        if ep.flags & FULLMESH != 0 && entry.flags & (SIGNAL | IMPLICIT) != 0 {
            return Err((EINVAL, Some(c"invalid addr flags")));
        }
        let changed = (ep.flags ^ entry.flags) & MASK;
        entry.flags = (entry.flags & !MASK) | (ep.flags & MASK);
        let now_fullmesh = entry.flags & FULLMESH != 0;
        let changed_entry = (*entry, changed);
        if changed & BACKUP != 0 {
            // the copy keeps the flag (`local_backup`)
            self.mirror_stale = true;
        }
        if changed & FULLMESH != 0 {
            self.count(FULLMESH, now_fullmesh);
        }
        Ok(changed_entry)
    }
}

/// Per-namespace storage, allocated zeroed (`table` is `None`) by the pernet core.
#[repr(C)]
struct PernetState {
    /// The namespace's table, from `pernet_init` to `pernet_exit`.
    table: Option<Pin<KBox<Mutex<Table>>>>,
    /// A copy of the table's `extra_subflows`, for softirq readers (MP_JOIN).
    subflows_limit: AtomicU8,
    /// A copy of the table's count of `subflow` endpoints, for softirq readers
    /// (whether a new connection has subflows to open, `join_active.rs`).
    subflow_endpoints: AtomicU8,
    /// A copy of the table's count of `signal` endpoints, for softirq readers
    /// (whether a new connection has addresses to announce, `addr.rs`).
    signal_endpoints: AtomicU8,
    /// A copy of the endpoints' addresses and ids, for softirq readers (the local
    /// address id of a join, `join.rs`).
    mirror: Mirror,
}

/// How many endpoints [`Mirror`] holds.
const MIRROR_LEN: usize = 32;
/// [`MirrorEntry::tag`]: the entry is in use.
const MIRROR_USED: u32 = 1 << 16;
/// [`MirrorEntry::tag`]: the endpoint has the `backup` flag.
const MIRROR_BACKUP: u32 = 1 << 17;

/// One endpoint in a [`Mirror`]: its address (see [`mirror_key`]) and a tag:
/// [`MIRROR_USED`], [`MIRROR_BACKUP`], the family in bits 8 to 15, the id in bits 0
/// to 7.
#[repr(C)]
struct MirrorEntry {
    high: AtomicU64,
    low: AtomicU64,
    tag: AtomicU32,
}

/// The namespace's endpoints without a port, address and id, as the MP_JOIN SYN path
/// needs them in softirq, where the table's mutex cannot be taken (upstream reads its
/// endpoint list under RCU there). Written by [`with_table`] (the mutex serialises
/// writers) after a change of the endpoints, read without a lock: a sequence count,
/// odd while a write is under way, tells a reader that raced a write to read again.
/// Valid when zeroed (no endpoint).
#[repr(C)]
struct Mirror {
    seq: AtomicU32,
    /// The table had more endpoints than fit: an address not found may exist.
    overflow: AtomicBool,
    entries: [MirrorEntry; MIRROR_LEN],
}

/// The address of `ep` as [`Mirror`] keeps it: IPv4 (also v4-mapped IPv6) in the low
/// word with family `AF_INET`, IPv6 in both words; `None` for another family.
fn mirror_key(ep: &Endpoint) -> Option<(u32, u64, u64)> {
    if let Some(v4) = ipv4_of(ep) {
        return Some((u32::from(AF_INET), 0, u64::from(u32::from_be_bytes(v4))));
    }
    if ep.family != AF_INET6 {
        return None;
    }
    let [a0, a1, a2, a3, a4, a5, a6, a7, b0, b1, b2, b3, b4, b5, b6, b7] = ep.addr;
    Some((
        u32::from(AF_INET6),
        u64::from_be_bytes([a0, a1, a2, a3, a4, a5, a6, a7]),
        u64::from_be_bytes([b0, b1, b2, b3, b4, b5, b6, b7]),
    ))
}

impl Mirror {
    /// Rewrites the copy from `endpoints`. The caller holds the table's mutex.
    fn write(&self, endpoints: &[Endpoint]) {
        let seq = self.seq.load(Ordering::Relaxed);
        self.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        // the odd count is seen by any reader that sees one of the writes below
        fence(Ordering::Release);
        let mut slots = self.entries.iter();
        let mut overflow = false;
        for ep in endpoints.iter().filter(|e| e.port == 0) {
            let Some((family, high, low)) = mirror_key(ep) else {
                continue;
            };
            let Some(slot) = slots.next() else {
                overflow = true;
                break;
            };
            slot.high.store(high, Ordering::Relaxed);
            slot.low.store(low, Ordering::Relaxed);
            let backup = if ep.flags & BACKUP != 0 {
                MIRROR_BACKUP
            } else {
                0
            };
            slot.tag.store(
                MIRROR_USED | backup | family << 8 | u32::from(ep.id),
                Ordering::Relaxed,
            );
        }
        for slot in slots {
            slot.tag.store(0, Ordering::Relaxed);
        }
        self.overflow.store(overflow, Ordering::Relaxed);
        self.seq.store(seq.wrapping_add(2), Ordering::Release);
    }

    /// The id of the endpoint with address `key`. Any context, no lock.
    fn lookup(&self, key: (u32, u64, u64)) -> PassiveLocalId {
        match self.find(key) {
            Some((Some(tag), _)) => PassiveLocalId::Endpoint((tag & 0xff) as u8),
            Some((None, false)) => PassiveLocalId::Unknown,
            Some((None, true)) => PassiveLocalId::Unusable,
            None => PassiveLocalId::Busy,
        }
    }

    /// The tag of the endpoint with address `key` if there is one, and whether the
    /// copy overflowed; `None` if writes kept racing the read. Any context, no lock.
    fn find(&self, key: (u32, u64, u64)) -> Option<(Option<u32>, bool)> {
        let (family, high, low) = key;
        // a writer may be the task this softirq interrupted: try a few times only
        for _ in 0..4 {
            let seq = self.seq.load(Ordering::Acquire);
            if seq & 1 != 0 {
                core::hint::spin_loop();
                continue;
            }
            let found = self.entries.iter().find_map(|e| {
                let tag = e.tag.load(Ordering::Relaxed);
                (tag & MIRROR_USED != 0
                    && (tag >> 8) & 0xff == family
                    && e.high.load(Ordering::Relaxed) == high
                    && e.low.load(Ordering::Relaxed) == low)
                    .then_some(tag)
            });
            let overflow = self.overflow.load(Ordering::Relaxed);
            // the reads above come before the second look at the count
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) != seq {
                continue;
            }
            return Some((found, overflow));
        }
        None
    }
}

/// The local address id for a join that arrived at a local address the connection
/// did not announce ([`passive_local_id`]).
pub(crate) enum PassiveLocalId {
    /// The id of the namespace's endpoint with that address.
    Endpoint(u8),
    /// No endpoint has it: an implicit one may be made ([`local_id_or_implicit`]).
    Unknown,
    /// The copy was being rewritten: ask again later.
    Busy,
    /// Not known and cannot be told (more endpoints than the copy holds, or no
    /// path manager).
    Unusable,
}

/// The id of `net`'s endpoint (without a port) with the address of `addr`, for a join
/// to a local address the connection did not announce (upstream's
/// `mptcp_pm_nl_get_local_id()`). Any context, no lock.
pub(crate) fn passive_local_id(net: &Net, addr: &Endpoint) -> PassiveLocalId {
    let id = pernet_id();
    let Some(key) = mirror_key(addr) else {
        return PassiveLocalId::Unusable;
    };
    if id == 0 {
        return PassiveLocalId::Unusable;
    }
    // SAFETY: as in `subflows_limit`.
    let state = unsafe { pernet(net.as_ptr(), id) };
    // SAFETY: as above; atomics, valid when zeroed.
    unsafe { (*state).mirror.lookup(key) }
}

/// The id of `net`'s endpoint (without a port) with the address of `addr`, and
/// whether it has the `backup` flag; `None` if there is none (or the copy was being
/// rewritten). Any context, no lock.
pub(crate) fn local_endpoint(net: &Net, addr: &Endpoint) -> Option<(u8, bool)> {
    let id = pernet_id();
    let key = mirror_key(addr)?;
    if id == 0 {
        return None;
    }
    // SAFETY: as in `subflows_limit`.
    let state = unsafe { pernet(net.as_ptr(), id) };
    // SAFETY: as above; atomics, valid when zeroed.
    let found = unsafe { (*state).mirror.find(key) };
    match found {
        Some((Some(tag), _)) => Some(((tag & 0xff) as u8, tag & MIRROR_BACKUP != 0)),
        _ => None,
    }
}

/// Whether `net`'s endpoint (without a port) with the address of `addr` has the
/// `backup` flag: the flag our MP_JOIN SYN or SYN/ACK carries for a subflow from
/// that address (upstream's `mptcp_pm_nl_is_backup()`). Any context, no lock.
pub(crate) fn local_backup(net: &Net, addr: &Endpoint) -> bool {
    local_endpoint(net, addr).is_some_and(|(_, backup)| backup)
}

/// The `subflows` limit of `net`: how many subflows a connection may have besides
/// its first. Any context, no lock.
pub(crate) fn subflows_limit(net: &Net) -> u8 {
    let id = pernet_id();
    if id == 0 {
        return 0;
    }
    // SAFETY: `id` is that of the live registration; `net` is alive (`Net` invariant),
    // so its storage exists.
    let state = unsafe { pernet(net.as_ptr(), id) };
    // SAFETY: as above; an atomic, valid when zeroed.
    unsafe { (*state).subflows_limit.load(Ordering::Relaxed) }
}

/// Id assigned by the pernet core to our per-namespace storage; 0 while no
/// [`Registration`] exists.
struct PernetId(UnsafeCell<c_uint>);
// SAFETY: written by `register_pernet_subsys()` while `Registration::new` runs and reset
// by `Registration::drop`; the netlink family, the only reader, is registered after
// the first and unregistered before the second.
unsafe impl Sync for PernetId {}
static PERNET_ID: PernetId = PernetId(UnsafeCell::new(0));

fn pernet_id() -> c_uint {
    // SAFETY: see `PernetId`: no write is concurrent with this read.
    unsafe { PERNET_ID.0.get().read_volatile() }
}

/// Returns the storage of `net`.
///
/// # Safety
///
/// `net` is a namespace the pernet core has storage for (from before `pernet_init` to
/// after `pernet_exit`) and `id` is [`PERNET_ID`] of a live [`Registration`].
unsafe fn pernet(net: *const bindings::net, id: c_uint) -> *mut PernetState {
    // SAFETY: per the caller's guarantee `id` indexes storage of `net`.
    unsafe { bindings::mptcp_rs_net_generic(net, id).cast() }
}

/// Runs `f` on the table of `net` with its lock held; `None` while mptcp_rs has no
/// [`Registration`]. May sleep.
fn with_table<R>(net: &Net, f: impl FnOnce(&mut Table) -> R) -> Option<R> {
    let id = pernet_id();
    if id == 0 {
        return None;
    }
    // SAFETY: `id` is that of the live registration; `net` is alive (`Net` invariant), so
    // its storage exists.
    let state = unsafe { pernet(net.as_ptr(), id) };
    // SAFETY: the state lives as long as the namespace; `table` is written only by
    // `pernet_init`, before the namespace is alive, and `pernet_exit`, after it was.
    let table = unsafe { (*state).table.as_ref() }?;
    let mut guard = table.lock();
    let r = f(&mut guard);
    if guard.mirror_stale {
        guard.mirror_stale = false;
        // SAFETY: as above; the mutex makes us the only writer.
        unsafe { (*state).mirror.write(&guard.endpoints) };
    }
    // SAFETY: as above; an atomic, valid when zeroed.
    unsafe {
        (*state)
            .subflow_endpoints
            .store(guard.subflow, Ordering::Relaxed);
        (*state)
            .signal_endpoints
            .store(guard.signal, Ordering::Relaxed);
    };
    Some(r)
}

/// Whether `net` has endpoints with the `subflow` flag. Any context, no lock.
pub(crate) fn has_subflow_endpoints(net: &Net) -> bool {
    let id = pernet_id();
    if id == 0 {
        return false;
    }
    // SAFETY: as in `subflows_limit`.
    let state = unsafe { pernet(net.as_ptr(), id) };
    // SAFETY: as above; an atomic, valid when zeroed.
    unsafe { (*state).subflow_endpoints.load(Ordering::Relaxed) != 0 }
}

/// Whether `net` has endpoints with the `signal` flag. Any context, no lock.
pub(crate) fn has_signal_endpoints(net: &Net) -> bool {
    let id = pernet_id();
    if id == 0 {
        return false;
    }
    // SAFETY: as in `subflows_limit`.
    let state = unsafe { pernet(net.as_ptr(), id) };
    // SAFETY: as above; an atomic, valid when zeroed.
    unsafe { (*state).signal_endpoints.load(Ordering::Relaxed) != 0 }
}

/// The endpoints of `net` with flag `flag`, by increasing id, into `out`; how many.
/// Process context: takes the table's mutex.
fn endpoints_with(net: &Net, flag: u32, out: &mut [Endpoint]) -> usize {
    with_table(net, |t| {
        let mut n = 0;
        let mut after = 0;
        while n < out.len() {
            let Some(ep) = t.next_after(after) else {
                break;
            };
            after = ep.id;
            if ep.flags & flag == 0 {
                continue;
            }
            if let Some(slot) = out.get_mut(n) {
                *slot = ep;
                n += 1;
            }
        }
        n
    })
    .unwrap_or(0)
}

/// The endpoints of `net` with the `subflow` flag (those a connection opens subflows
/// from, upstream's `fill_local_addresses_vec()`), by increasing id, into `out`; how
/// many. Process context: takes the table's mutex.
pub(crate) fn subflow_endpoints(net: &Net, out: &mut [Endpoint]) -> usize {
    endpoints_with(net, SUBFLOW, out)
}

/// The endpoints of `net` with the `fullmesh` flag (those a connection joins each
/// address the peer announced from, upstream's
/// `fill_local_addresses_vec_fullmesh()`), by increasing id, into `out`; how many.
/// Process context.
pub(crate) fn fullmesh_endpoints(net: &Net, out: &mut [Endpoint]) -> usize {
    endpoints_with(net, FULLMESH, out)
}

/// The endpoints of `net` with the `laminar` flag (one of which a connection joins
/// each address the peer announced from, upstream's `fill_local_laminar_endp()`),
/// by increasing id, into `out`; how many. Process context.
pub(crate) fn laminar_endpoints(net: &Net, out: &mut [Endpoint]) -> usize {
    endpoints_with(net, LAMINAR, out)
}

/// The endpoints of `net` with the `signal` flag (those a connection announces with
/// ADD_ADDR), by increasing id, into `out`; how many. Process context.
pub(crate) fn signal_endpoints(net: &Net, out: &mut [Endpoint]) -> usize {
    endpoints_with(net, SIGNAL, out)
}

/// The id of `net`'s endpoint with address `addr` (any port); if there is none, an
/// `implicit` endpoint is created for it, as upstream's `mptcp_pm_nl_get_local_id()`
/// does for the local address of a subflow we open: `ip mptcp endpoint show` lists
/// it, no endpoint added later takes its id, and one added without an id for the
/// same address replaces it. `None` when the table is full. Process context.
pub(crate) fn local_id_or_implicit(net: &Net, addr: &Endpoint) -> Option<u8> {
    implicit_for(net, addr, |e| addresses_equal(e, addr, false))
}

/// As [`local_id_or_implicit`], for a join that arrived at our address `addr`: only
/// an endpoint without a port counts (those are what [`passive_local_id`] finds), as
/// upstream looks the address up with the connection's port there. Process context.
pub(crate) fn passive_local_id_or_implicit(net: &Net, addr: &Endpoint) -> Option<u8> {
    implicit_for(net, addr, |e| {
        e.port == 0 && addresses_equal(e, addr, false)
    })
}

/// The id of the first endpoint of `net` that `is_it`, or of a new implicit endpoint
/// for `addr`.
fn implicit_for(net: &Net, addr: &Endpoint, is_it: impl Fn(&Endpoint) -> bool) -> Option<u8> {
    with_table(net, |t| {
        if let Some(e) = t.endpoints.iter().find(|e| is_it(e)) {
            return Some(e.id);
        }
        let ep = Endpoint {
            id: 0,
            port: 0,
            flags: IMPLICIT,
            ifindex: 0,
            ..*addr
        };
        t.insert(ep).ok()
    })
    .flatten()
}

/// The `add_addr_accepted` limit of `net`. Process context.
pub(crate) fn add_addr_accepted_limit(net: &Net) -> u8 {
    with_table(net, |t| t.add_addr_accepted).unwrap_or(0)
}

/// What `MPTCP_INFO` reports of the path manager (upstream's `mptcp_pm_get_*`).
pub(crate) struct PmInfo {
    pub(crate) extra_subflows: u8,
    pub(crate) add_addr_accepted: u8,
    pub(crate) signal: u8,
    pub(crate) subflow: u8,
    pub(crate) laminar: u8,
    pub(crate) fullmesh: u8,
}

/// The limits and endpoint counts of `net` (process context: takes the table's mutex).
pub(crate) fn info(net: &Net) -> Option<PmInfo> {
    with_table(net, |t| PmInfo {
        extra_subflows: t.extra_subflows,
        add_addr_accepted: t.add_addr_accepted,
        signal: t.signal,
        subflow: t.subflow,
        laminar: t.laminar,
        fullmesh: t.fullmesh,
    })
}

/// Creates the table of a new namespace.
///
/// # Safety
///
/// Called by the pernet core only, with a namespace whose storage it allocated.
unsafe extern "C" fn pernet_init(net: *mut bindings::net) -> c_int {
    let table = match KBox::pin_init(new_mutex!(Table::new(), "mptcp_rs_pm"), GFP_KERNEL) {
        Ok(table) => table,
        Err(e) => return e.to_errno(),
    };
    // SAFETY: the pernet core calls us with the storage of `net` allocated, with the id
    // it assigned to the live registration; nothing else uses it before we return.
    unsafe {
        let state = pernet(net, pernet_id());
        (*state).table = Some(table);
        (*state)
            .subflows_limit
            .store(DEFAULT_EXTRA_SUBFLOWS, Ordering::Relaxed);
    }
    0
}

/// Frees the table of a namespace being destroyed.
///
/// # Safety
///
/// Called by the pernet core only, once for each `net` that `pernet_init` succeeded for.
unsafe extern "C" fn pernet_exit(net: *mut bindings::net) {
    // SAFETY: the namespace is dead: no netlink handler uses its table any more (each
    // holds a reference on the namespace of its socket).
    drop(unsafe { (*pernet(net, pernet_id())).table.take() });
}

/// Writes `msg` to the shim's message pointer.
///
/// # Safety
///
/// `out` is valid for a write.
unsafe fn set_msg(out: *mut *const c_char, msg: Option<&'static CStr>) {
    if let Some(msg) = msg {
        // SAFETY: valid per the caller; the message is static.
        unsafe { *out = msg.as_char_ptr() };
    }
}

/// Borrows the namespace of a netlink request.
///
/// # Safety
///
/// `net` is the namespace of the request being handled, alive for `'a` (the requesting
/// socket holds a reference).
unsafe fn request_net<'a>(net: *mut bindings::net) -> &'a Net {
    // SAFETY: per the caller.
    unsafe { Net::from_raw(net) }
}

/// `MPTCP_PM_CMD_ADD_ADDR`: upstream's checks of the flags, then the insertion.
///
/// # Safety
///
/// Called by the shim with a live `net` (see [`request_net`]), a valid `ep` and `msg`.
unsafe extern "C" fn add(
    net: *mut bindings::net,
    ep: *mut Endpoint,
    msg: *mut *const c_char,
) -> c_int {
    // SAFETY: valid per the caller.
    let ep = unsafe { *ep };
    let invalid = if ep.port != 0 && !uses_port(&ep) {
        Some(c"flags must have signal and not subflow when using port")
    } else if ep.flags & SIGNAL != 0 && ep.flags & FULLMESH != 0 {
        Some(c"flags mustn't have both signal and fullmesh")
    } else if ep.flags & IMPLICIT != 0 {
        Some(c"can't create IMPLICIT endpoint")
    } else {
        None
    };
    if invalid.is_some() {
        // SAFETY: valid per the caller.
        unsafe { set_msg(msg, invalid) };
        return EINVAL.to_errno();
    }
    // SAFETY: per the caller.
    let net = unsafe { request_net(net) };
    // a `signal` endpoint with a port listens there, or is refused (as upstream: the
    // address must be local and the port free); the socket is made outside the table's
    // lock (its creation runs our socket code)
    let mut listener = None;
    if ep.port != 0 {
        match PortListener::new(net, &ep) {
            Ok(l) => listener = Some(l),
            Err(e) => {
                // SAFETY: valid per the caller.
                unsafe { set_msg(msg, Some(c"create listen socket error")) };
                return e.to_errno();
            }
        }
    }
    let inserted = with_table(net, |table| -> Result<u8> {
        let id = table.insert(ep)?;
        if let Some(mut l) = listener.take() {
            l.id = id;
            if table.listeners.push(l, GFP_KERNEL_ACCOUNT).is_err() {
                // (no listener recorded for it yet: nothing to close)
                let _ = table.remove(id);
                return Err(ENOMEM);
            }
        }
        Ok(id)
    });
    // a listener not taken (the insert failed) closes here, outside the lock
    drop(listener);
    match inserted {
        Some(Ok(id)) => {
            // live connections announce it, or open subflows from it
            crate::addr::endpoint_added(net, &Endpoint { id, ..ep });
            c_int::from(id)
        }
        Some(Err(e)) => e.to_errno(),
        None => ENODEV.to_errno(),
    }
}

/// `MPTCP_PM_CMD_DEL_ADDR`. Id 0 stands for each connection's initial address:
/// as upstream's `mptcp_nl_remove_id_zero_address()`, the connections whose
/// initial address is `ep`'s withdraw it (no endpoint changes).
///
/// # Safety
///
/// As for [`add`]; `ep` is valid.
unsafe extern "C" fn del(
    net: *mut bindings::net,
    ep: *const Endpoint,
    msg: *mut *const c_char,
) -> c_int {
    // SAFETY: per the caller.
    let net = unsafe { request_net(net) };
    // SAFETY: valid per the caller.
    let ep = unsafe { &*ep };
    let id = ep.id;
    if id == 0 {
        crate::addr::initial_address_removed(net, ep);
        return 0;
    }
    match with_table(net, |table| table.remove(id)) {
        Some(Ok(listener)) => {
            // its listening socket closes, outside the table's lock
            drop(listener);
            // live connections withdraw it (REMOVE_ADDR, subflows closed)
            crate::addr::endpoint_removed(net, id, false);
            0
        }
        Some(Err((e, m))) => {
            // SAFETY: valid per the caller.
            unsafe { set_msg(msg, m) };
            e.to_errno()
        }
        None => ENODEV.to_errno(),
    }
}

/// The endpoint with `id`.
///
/// # Safety
///
/// As for [`add`].
unsafe extern "C" fn get(net: *mut bindings::net, id: u8, ep: *mut Endpoint) -> c_int {
    // SAFETY: per the caller.
    let net = unsafe { request_net(net) };
    let found = with_table(net, |table| {
        table
            .position_by_id(id)
            .and_then(|i| table.endpoints.get(i))
            .copied()
    });
    match found.flatten() {
        Some(found) => {
            // SAFETY: valid per the caller.
            unsafe { *ep = found };
            0
        }
        None => EINVAL.to_errno(),
    }
}

/// The endpoint with the smallest id above `after`, for dumps.
///
/// # Safety
///
/// As for [`add`].
unsafe extern "C" fn next(net: *mut bindings::net, after: u8, ep: *mut Endpoint) -> bool {
    // SAFETY: per the caller.
    let net = unsafe { request_net(net) };
    match with_table(net, |table| table.next_after(after)).flatten() {
        Some(found) => {
            // SAFETY: valid per the caller.
            unsafe { *ep = found };
            true
        }
        None => false,
    }
}

/// `MPTCP_PM_CMD_FLUSH_ADDRS`: every endpoint goes, the limits stay.
///
/// # Safety
///
/// As for [`add`].
unsafe extern "C" fn flush(net: *mut bindings::net) {
    // SAFETY: per the caller.
    let net = unsafe { request_net(net) };
    let mut ids = [0u8; MAX_ID as usize];
    let (n, listeners) = with_table(net, |t| {
        let mut n = 0;
        for (slot, ep) in ids.iter_mut().zip(t.endpoints.iter()) {
            *slot = ep.id;
            n += 1;
        }
        (n, t.flush())
    })
    .unwrap_or((0, KVec::new()));
    // the listening sockets close, outside the table's lock
    drop(listeners);
    for &id in ids.iter().take(n) {
        crate::addr::endpoint_removed(net, id, true);
    }
}

/// `MPTCP_PM_CMD_SET_LIMITS`: both limits or neither; each at most [`LIMIT_MAX`].
///
/// # Safety
///
/// As for [`add`]; `rcv_add_addrs` and `subflows` are null or valid, `bad` and `max`
/// valid for writes.
unsafe extern "C" fn set_limits(
    net: *mut bindings::net,
    rcv_add_addrs: *const u32,
    subflows: *const u32,
    bad: *mut c_int,
    max: *mut u32,
) -> c_int {
    // SAFETY: null or valid per the caller.
    let (rcv, sub) = unsafe { (rcv_add_addrs.as_ref().copied(), subflows.as_ref().copied()) };
    let limit = |v: Option<u32>, attr: u32| match v {
        None => Ok(None),
        Some(v) => u8::try_from(v)
            .ok()
            .filter(|&v| u32::from(v) <= LIMIT_MAX)
            .map(Some)
            .ok_or(attr),
    };
    let checked = limit(rcv, bindings::MPTCP_RS_PM_ATTR_RCV_ADD_ADDRS)
        .and_then(|r| limit(sub, bindings::MPTCP_RS_PM_ATTR_SUBFLOWS).map(|s| (r, s)));
    let (rcv, sub) = match checked {
        Ok(limits) => limits,
        Err(attr) => {
            // SAFETY: valid per the caller.
            unsafe {
                *bad = c_int::try_from(attr).unwrap_or(0);
                *max = LIMIT_MAX;
            }
            return EINVAL.to_errno();
        }
    };
    // SAFETY: per the caller.
    let net = unsafe { request_net(net) };
    let set = with_table(net, |table| {
        if let Some(rcv) = rcv {
            table.add_addr_accepted = rcv;
        }
        if let Some(sub) = sub {
            table.extra_subflows = sub;
            let id = pernet_id();
            // SAFETY: as in `with_table`, which runs this with a live registration.
            unsafe {
                (*pernet(net.as_ptr(), id))
                    .subflows_limit
                    .store(sub, Ordering::Relaxed)
            };
        }
    });
    if set.is_some() {
        0
    } else {
        ENODEV.to_errno()
    }
}

/// `MPTCP_PM_CMD_GET_LIMITS`.
///
/// # Safety
///
/// As for [`add`]; both pointers valid for writes.
unsafe extern "C" fn get_limits(
    net: *mut bindings::net,
    rcv_add_addrs: *mut u32,
    subflows: *mut u32,
) {
    // SAFETY: per the caller.
    let net = unsafe { request_net(net) };
    let (rcv, sub) = with_table(net, |table| (table.add_addr_accepted, table.extra_subflows))
        .unwrap_or((0, DEFAULT_EXTRA_SUBFLOWS));
    // SAFETY: valid per the caller.
    unsafe {
        *rcv_add_addrs = u32::from(rcv);
        *subflows = u32::from(sub);
    }
}

/// `MPTCP_PM_CMD_SET_FLAGS` of the in-kernel path manager.
///
/// # Safety
///
/// As for [`add`]; `ep` valid for reads.
unsafe extern "C" fn set_flags(
    net: *mut bindings::net,
    ep: *const Endpoint,
    msg: *mut *const c_char,
) -> c_int {
    // SAFETY: per the caller.
    let (net, ep) = unsafe { (request_net(net), &*ep) };
    match with_table(net, |table| table.set_flags(ep)) {
        Some(Ok((entry, changed))) => {
            if changed & BACKUP != 0 {
                // live subflows from its address take the priority (MP_PRIO)
                crate::addr::endpoint_prio_changed(net, &entry, entry.flags & BACKUP != 0);
            }
            if changed & FULLMESH != 0 && entry.flags & SUBFLOW != 0 {
                // their subflows are opened again as the flag now says
                crate::addr::endpoint_fullmesh_changed(net, &entry);
            }
            0
        }
        Some(Err((e, m))) => {
            // SAFETY: valid per the caller.
            unsafe { set_msg(msg, m) };
            e.to_errno()
        }
        None => ENODEV.to_errno(),
    }
}

/// What the netlink shim calls.
static OPS: bindings::mptcp_rs_pm_ops = bindings::mptcp_rs_pm_ops {
    add: Some(add),
    del: Some(del),
    get: Some(get),
    next: Some(next),
    flush: Some(flush),
    set_limits: Some(set_limits),
    get_limits: Some(get_limits),
    set_flags: Some(set_flags),
    us_announce: Some(crate::pm_userspace::us_announce),
    us_remove: Some(crate::pm_userspace::us_remove),
    us_subflow: Some(crate::pm_userspace::us_subflow),
    us_set_flags: Some(crate::pm_userspace::us_set_flags),
    us_next: Some(crate::pm_userspace::us_next),
};

/// An `MPTCP_EVENT_*` for `ip mptcp monitor` and other listeners of `mptcp_pm_events`
/// (built by `pm_events.rs`).
pub(crate) type Event = bindings::mptcp_rs_pm_event;

/// Sends `event` of type `kind` (`MPTCP_EVENT_*`) to the listeners of `net`'s
/// `mptcp_pm_events` group, if any. `atomic`: the caller cannot sleep (the message is
/// allocated with `GFP_ATOMIC`).
pub(crate) fn send_event(net: &Net, kind: u8, event: &Event, atomic: bool) -> Result {
    if pernet_id() == 0 {
        return Ok(());
    }
    // SAFETY: `net` is alive (`Net` invariant) and `event` valid for the call; the
    // family is registered while the registration lives (checked above).
    to_result(unsafe { bindings::mptcp_rs_pm_event_send(net.as_ptr(), kind, event, atomic) })
}

/// The pernet operations behind every namespace's table.
///
/// # Invariants
///
/// `ops` is registered with `register_pernet_subsys()` until `Drop`, and its `id` is
/// [`PERNET_ID`].
struct Pernet {
    ops: Pin<KBox<Opaque<bindings::pernet_operations>>>,
}

impl Pernet {
    fn new() -> Result<Self> {
        if pernet_id() != 0 {
            return Err(EBUSY);
        }
        let ops = bindings::pernet_operations {
            init: Some(pernet_init),
            exit: Some(pernet_exit),
            id: PERNET_ID.0.get(),
            size: size_of::<PernetState>(),
            ..Default::default()
        };
        let ops = KBox::pin(Opaque::new(ops), GFP_KERNEL)?;
        // SAFETY: `ops` is pinned and stays registered until `Drop`; `PERNET_ID` is
        // not in use (checked above), so the pernet core may write it.
        let registered = to_result(unsafe { bindings::register_pernet_subsys(ops.get()) });
        if registered.is_err() {
            // SAFETY: the pernet core gave the id back; nothing reads it (see `PernetId`).
            unsafe { PERNET_ID.0.get().write_volatile(0) };
        }
        registered?;
        Ok(Self { ops })
    }
}

impl Drop for Pernet {
    fn drop(&mut self) {
        // SAFETY: registered per the type invariant; this runs `pernet_exit` everywhere.
        unsafe { bindings::unregister_pernet_subsys(self.ops.get()) };
        // SAFETY: nothing reads the id any more (see `PernetId`).
        unsafe { PERNET_ID.0.get().write_volatile(0) };
    }
}

/// The generic netlink family `mptcp_pm`, registered while this value lives.
///
/// # Invariants
///
/// `mptcp_rs_pm_genl_register()` succeeded and was not undone.
struct Family;

impl Family {
    fn new() -> Result<Self> {
        // SAFETY: `OPS` is static; its functions may be called from now until `Drop`.
        to_result(unsafe { bindings::mptcp_rs_pm_genl_register(&OPS) })?;
        Ok(Self)
    }
}

impl Drop for Family {
    fn drop(&mut self) {
        // SAFETY: registered per the type invariant; no handler runs after this returns.
        unsafe { bindings::mptcp_rs_pm_genl_unregister() };
    }
}

/// The path manager's per-namespace tables and its netlink family.
pub(crate) struct Registration {
    // drop order: no netlink handler any more, then the tables go
    _family: Family,
    _pernet: Pernet,
}

// SAFETY: the pernet core and genetlink serialise access to what they hold.
unsafe impl Send for Registration {}
// SAFETY: `&Registration` gives no access to anything.
unsafe impl Sync for Registration {}

impl Registration {
    /// Creates a table in every existing and new namespace, then registers `mptcp_pm`
    /// (`EEXIST` if another module has it already).
    pub(crate) fn new() -> Result<Self> {
        let pernet = Pernet::new()?;
        let family = Family::new()?;
        Ok(Self {
            _family: family,
            _pernet: pernet,
        })
    }
}
