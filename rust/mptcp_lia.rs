// SPDX-License-Identifier: GPL-2.0

//! `lia`: the Linked Increases Algorithm (RFC 6356) for MPTCP subflows.
//!
//! Selected like any TCP congestion control (`net.ipv4.tcp_congestion_control=lia`,
//! or `TCP_CONGESTION` per socket). On a socket that is not an MPTCP subflow it is
//! Reno, as RFC 6356 prescribes for a single path. The coupled increase
//! (`proto::lia::acks_per_increment()` over the connection's subflows) applies to
//! MPTCP subflows, which mptcp_rs does not create yet: until it does, every socket
//! takes the Reno path.

use kernel::prelude::*;

#[path = "bindings.rs"]
mod bindings;
mod cc;

module! {
    type: LiaModule,
    name: "mptcp_lia",
    authors: ["mptcp-rs developers"],
    description: "MPTCP Linked Increases congestion control (RFC 6356)",
    license: "GPL",
}

struct Lia;

impl cc::Algorithm for Lia {
    const NAME: &'static CStr = c"lia";
    type State = ();

    fn cong_avoid(sk: &cc::TcpSock, _state: &mut (), ack: u32, acked: u32) {
        sk.reno_cong_avoid(ack, acked);
    }
}

struct LiaModule {
    _lia: cc::Registration<Lia>,
}

impl kernel::Module for LiaModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        Ok(LiaModule {
            _lia: cc::Registration::new(module)?,
        })
    }
}
