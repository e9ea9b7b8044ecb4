// SPDX-License-Identifier: GPL-2.0

//! Per network namespace settings under `net.mptcp.*` (upstream's names and meaning).
//!
//! Each namespace gets a [`PernetState`] from the pernet core (`net_generic()`) and its
//! own copy of the sysctl table pointing into that state.

use crate::bindings;
use core::cell::UnsafeCell;
use kernel::{error::to_result, prelude::*, types::Opaque};

/// Per-namespace state, allocated zeroed by the pernet core.
#[repr(C)]
struct PernetState {
    /// `net.mptcp.enabled`: new MPTCP sockets may be created (1) or not (0).
    enabled: u8,
    /// `net.mptcp.checksum_enabled`: offer and require DSS checksums (1) or not (0).
    checksum_enabled: u8,
    /// `net.mptcp.syn_retrans_before_tcp_fallback`: MP_CAPABLE SYN retransmissions
    /// before retrying without MPTCP options.
    syn_retrans_before_tcp_fallback: u8,
    /// `net.mptcp.close_timeout`, jiffies (shown in seconds): how long an orphaned
    /// connection lingers after close.
    close_timeout: c_uint,
    /// `net.mptcp.add_addr_timeout`, jiffies (shown in seconds): how long before an
    /// unacknowledged ADD_ADDR is sent again (path manager; stored only, see
    /// `Documentation/mptcp-rs/path-manager.rst`).
    add_addr_timeout: c_uint,
    /// `net.mptcp.stale_loss_cnt`: 0 turns the accounting of stale subflows off
    /// (`SubflowStale`/`SubflowRecover`); see [`stale_loss_cnt`].
    stale_loss_cnt: c_uint,
    /// `net.mptcp.allow_join_initial_addr_port`: the peer may join to the initial
    /// address and port (0: the MP_CAPABLE "C" flag).
    allow_join_initial_addr_port: u8,
    /// `net.mptcp.add_addr_v6_port_drop_ts`: an ADD_ADDR with an IPv6 address and a
    /// port may drop the TCP timestamps option.
    add_addr_v6_port_drop_ts: u8,
    /// `net.mptcp.pm_type`, `path_manager`, `scheduler`.
    names: bindings::mptcp_rs_pm_names,
    /// The namespace's registration of [`SYSCTL_ENTRIES`] entries.
    header: *mut bindings::ctl_table_header,
    /// The namespace's copy of the table, owned by this state.
    table: *mut bindings::ctl_table,
}

const SYSCTL_ENTRIES: usize = 13;

/// Id assigned by the pernet core to our per-namespace storage.
struct PernetId(UnsafeCell<c_uint>);
// SAFETY: written once by `register_pernet_subsys()` before any reader runs.
unsafe impl Sync for PernetId {}
static PERNET_ID: PernetId = PernetId(UnsafeCell::new(0));

/// Returns the state of `net`.
///
/// # Safety
///
/// `net` must be a live namespace and the [`Registration`] must be alive.
unsafe fn pernet(net: *const bindings::net) -> *mut PernetState {
    // SAFETY: the id was assigned when the registration was made, before any
    // namespace could be handed to us; `net` is live by the caller's guarantee.
    unsafe { bindings::mptcp_rs_net_generic(net, *PERNET_ID.0.get()).cast() }
}

/// Whether MPTCP is enabled in `net` (`net.mptcp.enabled`).
///
/// # Safety
///
/// As for [`pernet`].
pub(crate) unsafe fn enabled(net: *const bindings::net) -> bool {
    // SAFETY: per the caller's guarantee the state is live; a racing sysctl write of a
    // `u8` is benign, as for upstream's READ_ONCE().
    unsafe { core::ptr::read_volatile(&raw const (*pernet(net)).enabled) != 0 }
}

/// Whether new connections in `net` offer DSS checksums (`net.mptcp.checksum_enabled`).
///
/// # Safety
///
/// As for [`pernet`].
pub(crate) unsafe fn checksum_enabled(net: *const bindings::net) -> bool {
    // SAFETY: as in `enabled`.
    unsafe { core::ptr::read_volatile(&raw const (*pernet(net)).checksum_enabled) != 0 }
}

/// The scheduler chosen in `net` (`net.mptcp.scheduler`): 0 `default`, 1
/// `roundrobin`, 2 `redundant`.
///
/// # Safety
///
/// As for [`pernet`].
pub(crate) unsafe fn scheduler(net: *const bindings::net) -> c_int {
    // SAFETY: as in `enabled`; the name is copied under no lock, as upstream reads
    // it (a racing write yields one of the two names or "default").
    unsafe { bindings::mptcp_rs_scheduler_index(&raw const (*pernet(net)).names) }
}

/// MP_CAPABLE SYN retransmissions before plain TCP is tried
/// (`net.mptcp.syn_retrans_before_tcp_fallback`).
///
/// # Safety
///
/// As for [`pernet`].
pub(crate) unsafe fn syn_retrans_before_tcp_fallback(net: *const bindings::net) -> u8 {
    // SAFETY: as in `enabled`.
    unsafe { core::ptr::read_volatile(&raw const (*pernet(net)).syn_retrans_before_tcp_fallback) }
}

/// `net.mptcp.stale_loss_cnt`: upstream's retransmission intervals without progress
/// before a subflow counts as stale. Our scheduler sets a subflow aside at its first
/// retransmission timeout already (`rust/sendq.rs`); that is when it counts as stale
/// here, unless this is 0.
///
/// # Safety
///
/// As for [`pernet`].
pub(crate) unsafe fn stale_loss_cnt(net: *const bindings::net) -> c_uint {
    // SAFETY: as in `enabled`.
    unsafe { core::ptr::read_volatile(&raw const (*pernet(net)).stale_loss_cnt) }
}

/// How long an orphaned connection may still deliver what was written before
/// close(), in jiffies (`net.mptcp.close_timeout`).
///
/// # Safety
///
/// As for [`pernet`].
pub(crate) unsafe fn close_timeout(net: *const bindings::net) -> c_uint {
    // SAFETY: as in `enabled`.
    unsafe { core::ptr::read_volatile(&raw const (*pernet(net)).close_timeout) }
}

/// How long before an ADD_ADDR that is not echoed is sent again, in jiffies
/// (`net.mptcp.add_addr_timeout`).
///
/// # Safety
///
/// As for [`pernet`].
pub(crate) unsafe fn add_addr_timeout(net: *const bindings::net) -> c_uint {
    // SAFETY: as in `enabled`.
    unsafe { core::ptr::read_volatile(&raw const (*pernet(net)).add_addr_timeout) }
}

/// Whether new connections of `net` use the userspace path manager
/// (`net.mptcp.pm_type` 1, `path_manager` "userspace").
///
/// # Safety
///
/// As for [`pernet`].
pub(crate) unsafe fn pm_userspace(net: *const bindings::net) -> bool {
    // SAFETY: as in `enabled`.
    unsafe { core::ptr::read_volatile(&raw const (*pernet(net)).names.pm_type) == 1 }
}

/// Whether the peer may join our initial address and port
/// (`net.mptcp.allow_join_initial_addr_port`); 0 sets the MP_CAPABLE "C" flag.
///
/// # Safety
///
/// As for [`pernet`].
pub(crate) unsafe fn allow_join_initial_addr_port(net: *const bindings::net) -> bool {
    // SAFETY: as in `enabled`.
    unsafe { core::ptr::read_volatile(&raw const (*pernet(net)).allow_join_initial_addr_port) != 0 }
}

/// Whether an ADD_ADDR with an IPv6 address and a port may go without the TCP
/// timestamps when it does not fit beside them (`net.mptcp.add_addr_v6_port_drop_ts`).
///
/// # Safety
///
/// As for [`pernet`].
pub(crate) unsafe fn add_addr_v6_port_drop_ts(net: *const bindings::net) -> bool {
    // SAFETY: as in `enabled`.
    unsafe { core::ptr::read_volatile(&raw const (*pernet(net)).add_addr_v6_port_drop_ts) != 0 }
}

/// Creates the state and sysctls of a new namespace.
///
/// # Safety
///
/// Called by the pernet core only, with a live `net` whose storage it allocated.
unsafe extern "C" fn pernet_init(net: *mut bindings::net) -> c_int {
    // SAFETY: the pernet core calls us with a live namespace whose storage it allocated.
    let state = unsafe { &mut *pernet(net) };
    // upstream's defaults
    state.enabled = 1;
    state.checksum_enabled = 0;
    state.syn_retrans_before_tcp_fallback = 2;
    // SAFETY: the shim returns a constant.
    state.close_timeout = unsafe { bindings::mptcp_rs_tcp_timewait_len() };
    // SAFETY: the shim returns a constant.
    state.add_addr_timeout = unsafe { bindings::mptcp_rs_tcp_rto_max() };
    state.stale_loss_cnt = 4;
    state.allow_join_initial_addr_port = 1;
    state.add_addr_v6_port_drop_ts = 1;
    // SAFETY: `names` is valid for writes.
    unsafe { bindings::mptcp_rs_pm_names_init(&raw mut state.names) };

    // SAFETY: the shim returns the addresses of the kernel's constant sysctl_vals.
    let (zero, one, pm_type_max) = unsafe {
        (
            bindings::mptcp_rs_sysctl_zero(),
            bindings::mptcp_rs_sysctl_one(),
            bindings::mptcp_rs_pm_type_max(),
        )
    };
    let u8_entry = |name: &'static CStr, data: *mut u8, max: *mut c_void| bindings::ctl_table {
        procname: name.as_char_ptr(),
        data: data.cast(),
        maxlen: size_of::<u8>() as c_int,
        mode: 0o644,
        proc_handler: Some(bindings::proc_dou8vec_minmax),
        extra1: zero,
        extra2: max,
        ..Default::default()
    };
    let jiffies_entry = |name: &'static CStr, data: *mut c_uint| bindings::ctl_table {
        procname: name.as_char_ptr(),
        data: data.cast(),
        maxlen: size_of::<c_uint>() as c_int,
        mode: 0o644,
        proc_handler: Some(bindings::proc_dointvec_jiffies),
        ..Default::default()
    };
    type Handler = unsafe extern "C" fn(
        *const bindings::ctl_table,
        c_int,
        *mut c_void,
        *mut usize,
        *mut bindings::loff_t,
    ) -> c_int;
    let name_entry =
        |name: &'static CStr, data: *mut c_char, handler: Handler, mode| bindings::ctl_table {
            procname: name.as_char_ptr(),
            data: data.cast(),
            maxlen: bindings::MPTCP_RS_NAME_MAX as c_int,
            mode,
            proc_handler: Some(handler),
            ..Default::default()
        };
    // upstream's order
    let entries: [bindings::ctl_table; SYSCTL_ENTRIES] = [
        u8_entry(c"enabled", &raw mut state.enabled, one),
        jiffies_entry(c"add_addr_timeout", &raw mut state.add_addr_timeout),
        u8_entry(c"checksum_enabled", &raw mut state.checksum_enabled, one),
        u8_entry(
            c"allow_join_initial_addr_port",
            &raw mut state.allow_join_initial_addr_port,
            one,
        ),
        // any unsigned int, as upstream
        bindings::ctl_table {
            procname: c"stale_loss_cnt".as_char_ptr(),
            data: (&raw mut state.stale_loss_cnt).cast(),
            maxlen: size_of::<c_uint>() as c_int,
            mode: 0o644,
            proc_handler: Some(bindings::proc_douintvec_minmax),
            ..Default::default()
        },
        bindings::ctl_table {
            proc_handler: Some(bindings::mptcp_rs_proc_pm_type),
            ..u8_entry(c"pm_type", &raw mut state.names.pm_type, pm_type_max)
        },
        name_entry(
            c"scheduler",
            (&raw mut state.names.scheduler).cast(),
            bindings::mptcp_rs_proc_scheduler,
            0o644,
        ),
        name_entry(
            c"available_schedulers",
            core::ptr::null_mut(),
            bindings::mptcp_rs_proc_available_schedulers,
            0o444,
        ),
        jiffies_entry(c"close_timeout", &raw mut state.close_timeout),
        // no upper bound but the type's, as upstream
        u8_entry(
            c"syn_retrans_before_tcp_fallback",
            &raw mut state.syn_retrans_before_tcp_fallback,
            core::ptr::null_mut(),
        ),
        name_entry(
            c"path_manager",
            (&raw mut state.names.path_manager).cast(),
            bindings::mptcp_rs_proc_path_manager,
            0o644,
        ),
        name_entry(
            c"available_path_managers",
            core::ptr::null_mut(),
            bindings::mptcp_rs_proc_available_path_managers,
            0o444,
        ),
        u8_entry(
            c"add_addr_v6_port_drop_ts",
            &raw mut state.add_addr_v6_port_drop_ts,
            one,
        ),
    ];
    let table = match KBox::new(entries, GFP_KERNEL) {
        Ok(t) => KBox::into_raw(t).cast::<bindings::ctl_table>(),
        Err(_) => return ENOMEM.to_errno(),
    };

    // SAFETY: `table` holds SYSCTL_ENTRIES entries that stay alive until pernet_exit
    // unregisters them; the path is a static string.
    let header = unsafe {
        bindings::register_net_sysctl_sz(net, c"net/mptcp".as_char_ptr(), table, SYSCTL_ENTRIES)
    };
    if header.is_null() {
        // SAFETY: `table` came from `KBox::into_raw` above and was not registered.
        drop(unsafe { KBox::from_raw(table.cast::<[bindings::ctl_table; SYSCTL_ENTRIES]>()) });
        return ENOMEM.to_errno();
    }
    state.header = header;
    state.table = table;
    0
}

/// Removes the sysctls of a namespace being destroyed.
///
/// # Safety
///
/// Called by the pernet core only, once for each `net` that `pernet_init` succeeded for.
unsafe extern "C" fn pernet_exit(net: *mut bindings::net) {
    // SAFETY: called once per namespace that `pernet_init` succeeded for.
    let state = unsafe { &mut *pernet(net) };
    // SAFETY: `header` was returned by register_net_sysctl_sz() and is unregistered once.
    unsafe { bindings::unregister_net_sysctl_table(state.header) };
    // SAFETY: the table is no longer registered and came from `KBox::into_raw`.
    drop(unsafe { KBox::from_raw(state.table.cast::<[bindings::ctl_table; SYSCTL_ENTRIES]>()) });
    state.header = core::ptr::null_mut();
    state.table = core::ptr::null_mut();
}

/// The `net.mptcp` sysctls of every namespace, present while this value lives.
///
/// # Invariants
///
/// `ops` is registered with `register_pernet_subsys()` until `Drop`.
pub(crate) struct Registration {
    ops: Pin<KBox<Opaque<bindings::pernet_operations>>>,
}

// SAFETY: the pernet core serialises all access to the operations it holds.
unsafe impl Send for Registration {}
// SAFETY: `&Registration` gives no access to anything.
unsafe impl Sync for Registration {}

impl Registration {
    /// Creates the sysctls in every existing and future network namespace.
    pub(crate) fn new() -> Result<Self> {
        let ops = bindings::pernet_operations {
            init: Some(pernet_init),
            exit: Some(pernet_exit),
            id: PERNET_ID.0.get(),
            size: size_of::<PernetState>(),
            ..Default::default()
        };
        let ops = KBox::pin(Opaque::new(ops), GFP_KERNEL)?;
        // SAFETY: `ops` is pinned and stays registered until `Drop`.
        to_result(unsafe { bindings::register_pernet_subsys(ops.get()) })?;
        Ok(Self { ops })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: registered per the type invariant; this runs `pernet_exit` everywhere.
        unsafe { bindings::unregister_pernet_subsys(self.ops.get()) };
    }
}
