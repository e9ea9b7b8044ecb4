// SPDX-License-Identifier: GPL-2.0

//! Borrowed network namespaces (`struct net`).

use crate::bindings;
use kernel::types::Opaque;

/// A network namespace that is alive for as long as the reference is.
///
/// "Alive" means: its set-up has completed (every pernet `init` ran, mptcp_rs's
/// included) and its clean-up has not started (no pernet `exit` ran yet).
///
/// # Invariants
///
/// A `&Net` always refers to a `struct net` that is alive, in the sense above, for the
/// reference's lifetime.
#[repr(transparent)]
pub(crate) struct Net(Opaque<bindings::net>);

// SAFETY: `struct net` is shared by every CPU; `Net` only exposes operations that the
// kernel allows from any thread and context.
unsafe impl Sync for Net {}

impl Net {
    /// Borrows the namespace at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` points to a `struct net` that stays alive (see [`Net`]) for `'a`. A
    /// reference held on it (`get_net()`, the reference of a socket with
    /// `sk_net_refcnt`, of an open `/proc/net` file) guarantees that.
    pub(crate) unsafe fn from_raw<'a>(ptr: *const bindings::net) -> &'a Net {
        // SAFETY: `Net` is a transparent wrapper of `struct net`; the caller guarantees it
        // is alive for `'a`.
        unsafe { &*ptr.cast::<Net>() }
    }

    /// Borrows the namespace of socket `sk` (`sock_net()`).
    ///
    /// # Safety
    ///
    /// `sk` is a live socket, and its namespace stays alive for `'a`: true while the
    /// socket lives if it holds a namespace reference (user sockets, and kernel sockets
    /// after `sk_net_refcnt_upgrade()`).
    #[allow(dead_code)] // for the socket layer's hooks
    pub(crate) unsafe fn of_sock<'a>(sk: *const bindings::sock) -> &'a Net {
        // SAFETY: `sk` is live per the caller; the shim only reads `sk->sk_net`.
        let net = unsafe { bindings::mptcp_rs_sock_net(sk) };
        // SAFETY: the caller guarantees that the namespace outlives `'a`.
        unsafe { Self::from_raw(net) }
    }

    /// The initial namespace, which is never destroyed.
    #[cfg_attr(not(CONFIG_KUNIT), allow(dead_code))]
    pub(crate) fn init_net() -> &'static Net {
        // SAFETY: the shim returns `&init_net`, a static that is set up before any module
        // loads and never torn down.
        unsafe { Self::from_raw(bindings::mptcp_rs_init_net()) }
    }

    /// The `struct net` itself.
    pub(crate) fn as_ptr(&self) -> *mut bindings::net {
        self.0.get()
    }
}
