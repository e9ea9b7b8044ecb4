// SPDX-License-Identifier: GPL-2.0

//! The `MPTcpExt` counters of `/proc/net/netstat`: upstream's names, order and format.
//!
//! Every network namespace has one block of per-CPU counters ([`Counters`]), allocated
//! by this module's pernet operations when the namespace is set up (or when mptcp_rs
//! loads, for the namespaces that exist then) and freed when it is torn down.
//!
//! Counting ([`inc`], [`dec`], [`add`]) is one `this_cpu_add()` on the current CPU, as
//! upstream's `MPTCP_INC_STATS()`: no lock, no sleep, usable from any context including
//! softirq and hard interrupts. Reading ([`get`], [`sum`]) adds up every possible CPU.
//! [`seq_show`] prints the two `MPTcpExt:` lines exactly as upstream's
//! `mptcp_seq_show()` (`net/mptcp/mib.c`), which is what `nstat` and `netstat -s` parse.

use crate::{bindings, net::Net};
use core::{cell::UnsafeCell, ptr::NonNull};
use kernel::{error::to_result, fmt, prelude::*, seq_file::SeqFile, seq_print, types::Opaque};

/// Declares [`Mib`] with one variant per counter, named as upstream names the counter in
/// `/proc/net/netstat` (without the `MPTcpExt` prefix), in upstream's order.
macro_rules! counters {
    ($($(#[doc = $doc:literal])+ $name:ident,)+) => {
        /// An `MPTcpExt` counter. The variant's name is the counter's name in
        /// `/proc/net/netstat` after the `MPTcpExt` prefix; the order is that of
        /// `mptcp_snmp_list` in upstream's `net/mptcp/mib.c`. The docs give upstream's
        /// description and `enum linux_mptcp_mib_field` name.
        #[repr(usize)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum Mib {
            $($(#[doc = $doc])+ $name,)+
        }

        /// The number of `MPTcpExt` counters.
        pub(crate) const COUNT: usize = [$(stringify!($name),)+].len();

        impl Mib {
            /// Every counter, in `/proc/net/netstat` order (`Mib::ALL[m as usize] == m`).
            pub(crate) const ALL: [Mib; COUNT] = [$(Mib::$name,)+];

            /// The counter's name after the `MPTcpExt` prefix, e.g. `MPCapableSYNRX`.
            pub(crate) const fn name(self) -> &'static str {
                match self {
                    $(Mib::$name => stringify!($name),)+
                }
            }
        }
    };
}

counters! {
    /// Received SYN with MP_CAPABLE (`MPTCP_MIB_MPCAPABLEPASSIVE`).
    MPCapableSYNRX,
    /// Sent SYN with MP_CAPABLE (`MPTCP_MIB_MPCAPABLEACTIVE`).
    MPCapableSYNTX,
    /// Received SYN/ACK with MP_CAPABLE (`MPTCP_MIB_MPCAPABLEACTIVEACK`).
    MPCapableSYNACKRX,
    /// Received third ACK with MP_CAPABLE (`MPTCP_MIB_MPCAPABLEPASSIVEACK`).
    MPCapableACKRX,
    /// Server-side fallback during 3-way handshake (`MPTCP_MIB_MPCAPABLEPASSIVEFALLBACK`).
    MPCapableFallbackACK,
    /// Client-side fallback during 3-way handshake (`MPTCP_MIB_MPCAPABLEACTIVEFALLBACK`).
    MPCapableFallbackSYNACK,
    /// Client-side fallback due to a MPC drop (`MPTCP_MIB_MPCAPABLEACTIVEDROP`).
    MPCapableSYNTXDrop,
    /// Client-side disabled due to past issues (`MPTCP_MIB_MPCAPABLEACTIVEDISABLED`).
    MPCapableSYNTXDisabled,
    /// Prohibited MPC to port-based endp (`MPTCP_MIB_MPCAPABLEENDPATTEMPT`).
    MPCapableEndpAttempt,
    /// Could not init/allocate token (`MPTCP_MIB_TOKENFALLBACKINIT`).
    MPFallbackTokenInit,
    /// Segments retransmitted at the MPTCP-level (`MPTCP_MIB_RETRANSSEGS`).
    MPTCPRetrans,
    /// Received MP_JOIN but the token was not found (`MPTCP_MIB_JOINNOTOKEN`).
    MPJoinNoTokenFound,
    /// Received a SYN + MP_JOIN (`MPTCP_MIB_JOINSYNRX`).
    MPJoinSynRx,
    /// Received a SYN + MP_JOIN + backup flag (`MPTCP_MIB_JOINSYNBACKUPRX`).
    MPJoinSynBackupRx,
    /// Received a SYN/ACK + MP_JOIN (`MPTCP_MIB_JOINSYNACKRX`).
    MPJoinSynAckRx,
    /// Received a SYN/ACK + MP_JOIN + backup flag (`MPTCP_MIB_JOINSYNACKBACKUPRX`).
    MPJoinSynAckBackupRx,
    /// HMAC was wrong on SYN/ACK + MP_JOIN (`MPTCP_MIB_JOINSYNACKMAC`).
    MPJoinSynAckHMacFailure,
    /// Received an ACK + MP_JOIN (`MPTCP_MIB_JOINACKRX`).
    MPJoinAckRx,
    /// HMAC was wrong on ACK + MP_JOIN (`MPTCP_MIB_JOINACKMAC`).
    MPJoinAckHMacFailure,
    /// The PM rejected the JOIN request (`MPTCP_MIB_JOINREJECTED`).
    MPJoinRejected,
    /// Sending a SYN + MP_JOIN (`MPTCP_MIB_JOINSYNTX`).
    MPJoinSynTx,
    /// Not able to create a socket when sending a SYN + MP_JOIN (`MPTCP_MIB_JOINSYNTXCREATSKERR`).
    MPJoinSynTxCreatSkErr,
    /// Not able to bind() the address when sending a SYN + MP_JOIN (`MPTCP_MIB_JOINSYNTXBINDERR`).
    MPJoinSynTxBindErr,
    /// Not able to connect() when sending a SYN + MP_JOIN (`MPTCP_MIB_JOINSYNTXCONNECTERR`).
    MPJoinSynTxConnectErr,
    /// Received a new mapping that did not match the previous one (`MPTCP_MIB_DSSNOMATCH`).
    DSSNotMatching,
    /// DSS corruption detected, fallback (`MPTCP_MIB_DSSCORRUPTIONFALLBACK`).
    DSSCorruptionFallback,
    /// DSS corruption detected, MPJ subflow reset (`MPTCP_MIB_DSSCORRUPTIONRESET`).
    DSSCorruptionReset,
    /// Sent an infinite mapping (`MPTCP_MIB_INFINITEMAPTX`).
    InfiniteMapTx,
    /// Received an infinite mapping (`MPTCP_MIB_INFINITEMAPRX`).
    InfiniteMapRx,
    /// DSS-mapping did not map with TCP's sequence numbers (`MPTCP_MIB_DSSTCPMISMATCH`).
    DSSNoMatchTCP,
    /// The data checksum fail (`MPTCP_MIB_DATACSUMERR`).
    DataCsumErr,
    /// Segments inserted into OoO queue tail (`MPTCP_MIB_OFOQUEUETAIL`).
    OFOQueueTail,
    /// Segments inserted into OoO queue (`MPTCP_MIB_OFOQUEUE`).
    OFOQueue,
    /// Segments merged in OoO queue (`MPTCP_MIB_OFOMERGE`).
    OFOMerge,
    /// Segments not in MPTCP windows (`MPTCP_MIB_NODSSWINDOW`).
    NoDSSInWindow,
    /// Segments discarded due to duplicate DSS (`MPTCP_MIB_DUPDATA`).
    DuplicateData,
    /// Received ADD_ADDR with echo-flag=0 (`MPTCP_MIB_ADDADDR`).
    AddAddr,
    /// Sent ADD_ADDR with echo-flag=0 (`MPTCP_MIB_ADDADDRTX`).
    AddAddrTx,
    /// ADD_ADDR with echo-flag=0 not send due to resource exhaustion (`MPTCP_MIB_ADDADDRTXDROP`).
    AddAddrTxDrop,
    /// Received ADD_ADDR with echo-flag=1 (`MPTCP_MIB_ECHOADD`).
    EchoAdd,
    /// Send ADD_ADDR with echo-flag=1 (`MPTCP_MIB_ECHOADDTX`).
    EchoAddTx,
    /// ADD_ADDR with echo-flag=1 not send due to resource exhaustion (`MPTCP_MIB_ECHOADDTXDROP`).
    EchoAddTxDrop,
    /// Received ADD_ADDR with a port-number (`MPTCP_MIB_PORTADD`).
    PortAdd,
    /// Dropped incoming ADD_ADDR (`MPTCP_MIB_ADDADDRDROP`).
    AddAddrDrop,
    /// Received a SYN MP_JOIN with a different port-number (`MPTCP_MIB_JOINPORTSYNRX`).
    MPJoinPortSynRx,
    /// Received a SYNACK MP_JOIN with a different port-number (`MPTCP_MIB_JOINPORTSYNACKRX`).
    MPJoinPortSynAckRx,
    /// Received an ACK MP_JOIN with a different port-number (`MPTCP_MIB_JOINPORTACKRX`).
    MPJoinPortAckRx,
    /// Received a SYN MP_JOIN with a mismatched port-number (`MPTCP_MIB_MISMATCHPORTSYNRX`).
    MismatchPortSynRx,
    /// Received an ACK MP_JOIN with a mismatched port-number (`MPTCP_MIB_MISMATCHPORTACKRX`).
    MismatchPortAckRx,
    /// Received RM_ADDR (`MPTCP_MIB_RMADDR`).
    RmAddr,
    /// Dropped incoming RM_ADDR (`MPTCP_MIB_RMADDRDROP`).
    RmAddrDrop,
    /// Sent RM_ADDR (`MPTCP_MIB_RMADDRTX`).
    RmAddrTx,
    /// RM_ADDR not sent due to resource exhaustion (`MPTCP_MIB_RMADDRTXDROP`).
    RmAddrTxDrop,
    /// Remove a subflow (`MPTCP_MIB_RMSUBFLOW`).
    RmSubflow,
    /// Transmit a MP_PRIO (`MPTCP_MIB_MPPRIOTX`).
    MPPrioTx,
    /// Received a MP_PRIO (`MPTCP_MIB_MPPRIORX`).
    MPPrioRx,
    /// Transmit a MP_FAIL (`MPTCP_MIB_MPFAILTX`).
    MPFailTx,
    /// Received a MP_FAIL (`MPTCP_MIB_MPFAILRX`).
    MPFailRx,
    /// Transmit a MP_FASTCLOSE (`MPTCP_MIB_MPFASTCLOSETX`).
    MPFastcloseTx,
    /// Received a MP_FASTCLOSE (`MPTCP_MIB_MPFASTCLOSERX`).
    MPFastcloseRx,
    /// Transmit a MP_RST (`MPTCP_MIB_MPRSTTX`).
    MPRstTx,
    /// Received a MP_RST (`MPTCP_MIB_MPRSTRX`).
    MPRstRx,
    /// Subflows entered 'stale' status (`MPTCP_MIB_SUBFLOWSTALE`).
    SubflowStale,
    /// Subflows returned to active status after being stale (`MPTCP_MIB_SUBFLOWRECOVER`).
    SubflowRecover,
    /// Subflow snd wnd is overridden by msk's one (`MPTCP_MIB_SNDWNDSHARED`).
    SndWndShared,
    /// Subflow rcv wnd is overridden by msk's one (`MPTCP_MIB_RCVWNDSHARED`).
    RcvWndShared,
    /// Subflow rcv wnd is overridden by msk's one due to conflict with another subflow while
    /// updating msk rcv wnd (`MPTCP_MIB_RCVWNDCONFLICTUPDATE`).
    RcvWndConflictUpdate,
    /// Conflict with while updating msk rcv wnd (`MPTCP_MIB_RCVWNDCONFLICT`).
    RcvWndConflict,
    /// Current established MPTCP connections (`MPTCP_MIB_CURRESTAB`).
    MPCurrEstab,
    /// A blackhole has been detected (`MPTCP_MIB_BLACKHOLE`).
    Blackhole,
    /// Missing DSS/MPC+data on first established packet (`MPTCP_MIB_MPCAPABLEDATAFALLBACK`).
    MPCapableDataFallback,
    /// Conflicting TCP option enabled (`MPTCP_MIB_MD5SIGFALLBACK`).
    MD5SigFallback,
    /// Bad or missing DSS (`MPTCP_MIB_DSSFALLBACK`).
    DssFallback,
    /// Simultaneous connect (`MPTCP_MIB_SIMULTCONNFALLBACK`).
    SimultConnectFallback,
    /// Can't fallback due to msk status (`MPTCP_MIB_FALLBACKFAILED`).
    FallbackFailed,
    /// MPTCP-level zero window probe (`MPTCP_MIB_WINPROBE`).
    WinProbe,
}

/// One block of [`COUNT`] `unsigned long` counters on every possible CPU.
///
/// # Invariants
///
/// `pcpu` was returned by `mptcp_rs_mib_alloc(COUNT)` and is freed only by `Drop`.
#[repr(transparent)]
pub(crate) struct Counters {
    /// A per-CPU offset, never dereferenced in Rust.
    pcpu: NonNull<c_void>,
}

// `PernetState` relies on it: `Option<Counters>` is a nullable pointer, `None` when zero
// (guaranteed for a `repr(transparent)` wrapper of `NonNull`).
const _: () = assert!(size_of::<Option<Counters>>() == size_of::<*mut c_void>());

// SAFETY: the block is per-CPU memory, not tied to the thread that allocated it.
unsafe impl Send for Counters {}
// SAFETY: `&Counters` allows this_cpu additions, which are atomic with respect to the
// CPU they run on, and reads of the other CPUs' counters, which may see an addition or
// not, as upstream's do.
unsafe impl Sync for Counters {}

impl Counters {
    /// Allocates a block with every counter at zero. May sleep.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: no precondition; our callers run in process context.
        let pcpu = unsafe { bindings::mptcp_rs_mib_alloc(COUNT) };
        NonNull::new(pcpu).map(|pcpu| Self { pcpu }).ok_or(ENOMEM)
    }

    /// Adds `delta` (wrapping, as C's `unsigned long`) to `mib` on the current CPU.
    /// Any context; no lock, no sleep.
    pub(crate) fn add(&self, mib: Mib, delta: c_long) {
        // SAFETY: `pcpu` is a live block of COUNT counters (type invariant) and every
        // `Mib` is below COUNT.
        unsafe { bindings::mptcp_rs_mib_add(self.pcpu.as_ptr(), mib as usize, delta) }
    }

    /// Writes the sum over all possible CPUs of each counter to `out`, in [`Mib::ALL`]
    /// order. Any context; takes time in proportion to the number of CPUs.
    pub(crate) fn sum(&self, out: &mut [c_ulong; COUNT]) {
        // SAFETY: `pcpu` is a live block of COUNT counters (type invariant) and `out`
        // has room for COUNT values.
        unsafe { bindings::mptcp_rs_mib_sum(self.pcpu.as_ptr(), out.as_mut_ptr(), COUNT) }
    }

    /// The sum over all possible CPUs of `mib`.
    #[cfg_attr(not(CONFIG_KUNIT), allow(dead_code))]
    pub(crate) fn get(&self, mib: Mib) -> c_ulong {
        let mut all = [0; COUNT];
        self.sum(&mut all);
        all.get(mib as usize).copied().unwrap_or(0)
    }
}

impl Drop for Counters {
    fn drop(&mut self) {
        // SAFETY: allocated by `mptcp_rs_mib_alloc()` (type invariant), freed only here.
        unsafe { bindings::mptcp_rs_mib_free(self.pcpu.as_ptr()) };
    }
}

/// Per-namespace state, allocated zeroed (`counters` is `None`) by the pernet core.
#[repr(C)]
struct PernetState {
    /// The namespace's counters, from `pernet_init` to `pernet_exit`.
    counters: Option<Counters>,
}

/// Id assigned by the pernet core to our per-namespace storage; 0 while no
/// [`Registration`] exists.
struct PernetId(UnsafeCell<c_uint>);
// SAFETY: written by `register_pernet_subsys()` while `Registration::new` runs and reset
// by `Registration::drop`. mptcp_rs counts and shows counters only while the
// registration exists (it is created before the provider registration and dropped
// after it), so no reader runs concurrently with a write.
unsafe impl Sync for PernetId {}
static PERNET_ID: PernetId = PernetId(UnsafeCell::new(0));

fn pernet_id() -> c_uint {
    // SAFETY: see `PernetId`: no write is concurrent with this read.
    unsafe { PERNET_ID.0.get().read_volatile() }
}

/// Returns the state of `net`.
///
/// # Safety
///
/// `net` is a namespace the pernet core has storage for (from before `pernet_init` to
/// after `pernet_exit`) and `id` is [`PERNET_ID`] of a live [`Registration`].
unsafe fn pernet(net: *const bindings::net, id: c_uint) -> *mut PernetState {
    // SAFETY: per the caller's guarantee `id` indexes storage of `net`.
    unsafe { bindings::mptcp_rs_net_generic(net, id).cast() }
}

/// The counters of `net`; `None` only while mptcp_rs has no [`Registration`].
fn counters(net: &Net) -> Option<&Counters> {
    let id = pernet_id();
    if id == 0 {
        return None;
    }
    // SAFETY: `id` is that of the live registration; `net` is alive (`Net` invariant), so
    // its storage exists.
    let state = unsafe { pernet(net.as_ptr(), id) };
    // SAFETY: the state lives as long as the namespace; `counters` is written only by
    // `pernet_init`, before the namespace is alive, and `pernet_exit`, after it was.
    unsafe { (*state).counters.as_ref() }
}

/// Increments `mib` in `net` (upstream's `MPTCP_INC_STATS()`). Any context, including
/// softirq; no lock, no sleep.
#[allow(dead_code)] // counted by the socket layer's hooks
pub(crate) fn inc(net: &Net, mib: Mib) {
    add(net, mib, 1);
}

/// Decrements `mib` in `net` (upstream's `MPTCP_DEC_STATS()`, for gauges such as
/// [`Mib::MPCurrEstab`]). Any context; no lock, no sleep.
#[allow(dead_code)] // counted by the socket layer's hooks
pub(crate) fn dec(net: &Net, mib: Mib) {
    add(net, mib, -1);
}

/// Adds `delta` to `mib` in `net` (upstream's `MPTCP_ADD_STATS()`), wrapping as C's
/// `unsigned long`. Any context; no lock, no sleep.
pub(crate) fn add(net: &Net, mib: Mib, delta: c_long) {
    if let Some(counters) = counters(net) {
        counters.add(mib, delta);
    }
}

/// Writes the value of every counter of `net` to `out`, in [`Mib::ALL`] order (zeros
/// while mptcp_rs has no [`Registration`]). Any context.
pub(crate) fn sum(net: &Net, out: &mut [c_ulong; COUNT]) {
    match counters(net) {
        Some(counters) => counters.sum(out),
        None => out.fill(0),
    }
}

/// The value of `mib` in `net`. Any context.
#[cfg_attr(not(CONFIG_KUNIT), allow(dead_code))]
pub(crate) fn get(net: &Net, mib: Mib) -> c_ulong {
    counters(net).map_or(0, |counters| counters.get(mib))
}

/// The first line's fields: ` NAME` for each counter.
struct Names;

impl fmt::Display for Names {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Mib::ALL
            .iter()
            .try_for_each(|mib| write!(f, " {}", mib.name()))
    }
}

/// The second line's fields: ` VALUE` for each counter.
struct Values<'a>(&'a [c_ulong; COUNT]);

impl fmt::Display for Values<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|value| write!(f, " {value}"))
    }
}

/// Prints the `MPTcpExt` lines of `/proc/net/netstat` for the file's namespace, byte for
/// byte as upstream's `mptcp_seq_show()`: `MPTcpExt:` and ` NAME` for each counter, a
/// newline, `MPTcpExt:` and ` VALUE` for each, a newline. Does not sleep.
///
/// # Safety
///
/// `seq` is the `seq_file` of an open `/proc/net/netstat` that the caller is showing
/// (the dispatch layer's `mptcp_seq_show()`, called by `netstat_seq_show()`): no other
/// thread uses it meanwhile, and its `private` is the namespace the open file holds a
/// reference to (`single_open_net()`).
pub(crate) unsafe fn seq_show(seq: *mut bindings::seq_file) {
    // SAFETY: per the caller `seq` was opened by `single_open_net()`, whose `private` is
    // the namespace, kept alive by the open file for the whole call.
    let net = unsafe { Net::from_raw(bindings::mptcp_rs_seq_file_single_net(seq)) };
    let mut values = [0; COUNT];
    sum(net, &mut values);
    // SAFETY: `seq` is valid and used only by this thread for the call, per the caller;
    // `kernel::bindings::seq_file` is the same C structure as ours.
    let m = unsafe { SeqFile::from_raw(seq.cast()) };
    seq_print!(m, "MPTcpExt:{}\nMPTcpExt:{}\n", Names, Values(&values));
}

/// The pernet operations behind every namespace's counters, registered while this value
/// lives.
///
/// # Invariants
///
/// `ops` is registered with `register_pernet_subsys()` until `Drop`, and its `id` is
/// [`PERNET_ID`].
pub(crate) struct Registration {
    ops: Pin<KBox<Opaque<bindings::pernet_operations>>>,
}

// SAFETY: the pernet core serialises all access to the operations it holds.
unsafe impl Send for Registration {}
// SAFETY: `&Registration` gives no access to anything.
unsafe impl Sync for Registration {}

impl Registration {
    /// Allocates counters in every existing namespace and, until dropped, in every new
    /// one. Only one registration may exist at a time (`EBUSY` otherwise).
    pub(crate) fn new() -> Result<Self> {
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

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: registered per the type invariant; this runs `pernet_exit` everywhere.
        unsafe { bindings::unregister_pernet_subsys(self.ops.get()) };
        // SAFETY: nothing reads the id any more (see `PernetId`).
        unsafe { PERNET_ID.0.get().write_volatile(0) };
    }
}

/// Allocates the counters of a new namespace.
///
/// # Safety
///
/// Called by the pernet core only, with a live `net` whose storage it allocated.
unsafe extern "C" fn pernet_init(net: *mut bindings::net) -> c_int {
    let counters = match Counters::new() {
        Ok(counters) => counters,
        Err(e) => return e.to_errno(),
    };
    // SAFETY: the pernet core allocated the storage of `net` for our id (written before
    // any init runs) and nothing else accesses it before the namespace is alive.
    unsafe { (*pernet(net, pernet_id())).counters = Some(counters) };
    0
}

/// Frees the counters of a namespace being destroyed.
///
/// # Safety
///
/// Called by the pernet core only, once for each `net` that `pernet_init` succeeded for.
unsafe extern "C" fn pernet_exit(net: *mut bindings::net) {
    // SAFETY: the namespace is no longer alive, so nothing counts in it any more; its
    // storage exists until the pernet core frees it after every exit.
    drop(unsafe { (*pernet(net, pernet_id())).counters.take() });
}
