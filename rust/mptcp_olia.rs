// SPDX-License-Identifier: GPL-2.0

//! `olia`: the Opportunistic Linked Increases Algorithm for MPTCP subflows
//! (Khalili et al., CoNEXT 2012).
//!
//! Selected like any TCP congestion control. On a socket that is not an MPTCP
//! subflow it is Reno, as OLIA is for a single path. The coupled change of window
//! (`proto::olia::increase_per_ack()` over the connection's paths) applies to MPTCP
//! subflows, which mptcp_rs does not create yet: until it does, every socket takes
//! the Reno path.

use kernel::prelude::*;

#[path = "bindings.rs"]
mod bindings;
mod cc;

module! {
    type: OliaModule,
    name: "mptcp_olia",
    authors: ["mptcp-rs developers"],
    description: "MPTCP Opportunistic Linked Increases congestion control",
    license: "GPL",
}

struct Olia;

impl cc::Algorithm for Olia {
    const NAME: &'static CStr = c"olia";
    type State = ();

    fn cong_avoid(sk: &cc::TcpSock, _state: &mut (), ack: u32, acked: u32) {
        sk.reno_cong_avoid(ack, acked);
    }
}

struct OliaModule {
    _olia: cc::Registration<Olia>,
}

impl kernel::Module for OliaModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        Ok(OliaModule {
            _olia: cc::Registration::new(module)?,
        })
    }
}
