// SPDX-License-Identifier: GPL-2.0

//! mptcp-rs: Multipath TCP (RFC 8684) as a loadable kernel module.
//!
//! Loaded into a kernel built with `CONFIG_MPTCP_PLUGGABLE` (the series in `patches/`),
//! the module registers itself as the implementation behind the TCP stack's MPTCP
//! hooks and creates the `net.mptcp.*` sysctls in every network namespace.
//! See `Documentation/` in the repository for what works today.

use kernel::prelude::*;

mod addr;
mod bindings;
mod cc_paths;
mod info;
mod join;
mod join_active;
mod mib;
mod net;
mod pm;
mod pm_events;
mod pm_userspace;
// The core is a public API in its host crate (`host/`); in the module it is private,
// and parts of it (the option codec, the DSS checksum) await the socket layer.
#[allow(unreachable_pub, dead_code)]
mod proto;
mod provider;
#[cfg(CONFIG_KUNIT)]
mod selftest;
mod sendq;
mod sha256;
mod sock;
mod sockopt;
mod sockopt_sync;
mod subflow;
mod sysctl;
mod tcp_state;

module! {
    type: MptcpRs,
    name: "mptcp_rs",
    authors: ["mptcp-rs developers"],
    description: "Multipath TCP (RFC 8684) as a loadable module",
    license: "GPL",
    imports_ns: ["MPTCP_PROVIDER"],
}

struct MptcpRs {
    // Fields drop in declaration order: the path manager first (its netlink family,
    // then the per-namespace endpoints, closing the listening sockets of `signal`
    // endpoints with a port, which do not pin the module: every other socket does,
    // so none is left, and no work item either), then no new sockets, stop being the
    // provider, then the sysctls go.
    _pm: pm::Registration,
    // the subflow contexts released last (by the listeners above) are freed after an
    // RCU grace period, by module code
    _released: subflow::ReleasedContexts,
    _sockets: sock::Registration,
    // the path manager's workqueue: drained once no socket is left
    _join: join_active::Registration,
    // `ss -M`: gone before the sockets it lists can be
    _diag: info::DiagRegistration,
    _provider: provider::Registration,
    // the request sock ops of our listeners (MP_JOIN state): after every socket
    _req_ops: subflow::ReqOps,
    _sysctl: sysctl::Registration,
    // last: everything above may count until it is dropped
    _mib: mib::Registration,
}

impl kernel::Module for MptcpRs {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let mib = mib::Registration::new()?;
        let sysctl = sysctl::Registration::new()?;
        let pm = pm::Registration::new()?;
        let req_ops = subflow::ReqOps::new()?;
        subflow::init(module);
        let provider = provider::Registration::new(module)?;
        let diag = info::DiagRegistration::new(module)?;
        let join = join_active::Registration::new()?;
        let sockets = sock::Registration::new(module)?;
        pr_info!("registered as the MPTCP provider\n");
        Ok(MptcpRs {
            _pm: pm,
            _released: subflow::ReleasedContexts,
            _sockets: sockets,
            _join: join,
            _diag: diag,
            _provider: provider,
            _req_ops: req_ops,
            _sysctl: sysctl,
            _mib: mib,
        })
    }
}

impl Drop for MptcpRs {
    fn drop(&mut self) {
        pr_info!("unloading\n");
    }
}
