// SPDX-License-Identifier: GPL-2.0

//! `lia`: the Linked Increases Algorithm (RFC 6356) for MPTCP subflows.
//!
//! Selected like any TCP congestion control (`net.ipv4.tcp_congestion_control=lia`,
//! or `TCP_CONGESTION` per socket, which mptcp_rs carries to every subflow of an
//! MPTCP socket). Slow start and the loss response are Reno's. In congestion
//! avoidance a subflow grows its window by one packet after
//! `proto::lia::acks_per_increment()` acknowledged packets, computed over the
//! windows and RTTs of the connection's subflows that can send (read from
//! mptcp_rs.ko, `mptcp_rs_cc_paths()`), so that the connection as a whole takes no
//! more than one TCP flow would from a shared bottleneck. On a socket that is not an
//! MPTCP subflow, or a connection with one usable subflow, that is the window
//! itself: Reno, as RFC 6356 prescribes for a single path.

use kernel::prelude::*;

#[path = "bindings.rs"]
mod bindings;
mod cc;
#[allow(dead_code, unreachable_pub)]
#[path = "proto/lia.rs"]
mod lia;

module! {
    type: LiaModule,
    name: "mptcp_lia",
    authors: ["mptcp-rs developers"],
    description: "MPTCP Linked Increases congestion control (RFC 6356)",
    license: "GPL",
}

const _: () = assert!(cc::MAX_PATHS == lia::MAX_SUBFLOWS);

struct Lia;

/// Acknowledged packets per one-packet increase of `sk`'s window in congestion
/// avoidance.
fn acks_per_increment(sk: &cc::TcpSock) -> u32 {
    let cwnd = sk.cwnd();
    let mut paths = [cc::Path::default(); cc::MAX_PATHS];
    let n = sk.paths(&mut paths);
    if n <= 1 {
        return cwnd;
    }
    let mut subs = [lia::Subflow {
        cwnd: 0,
        srtt_us: 0,
    }; cc::MAX_PATHS];
    for (s, p) in subs.iter_mut().zip(paths.iter()).take(n) {
        *s = lia::Subflow {
            cwnd: p.cwnd,
            srtt_us: p.srtt_us,
        };
    }
    subs.get(..n)
        .and_then(|all| lia::acks_per_increment(all, 0))
        .unwrap_or(cwnd)
}

impl cc::Algorithm for Lia {
    const NAME: &'static CStr = c"lia";
    type State = ();

    fn cong_avoid(sk: &cc::TcpSock, _state: &(), _ack: u32, mut acked: u32) {
        if !sk.cwnd_limited() {
            return;
        }
        if sk.in_slow_start() {
            acked = sk.slow_start(acked);
            if acked == 0 {
                return;
            }
        }
        sk.cong_avoid_ai(acks_per_increment(sk), acked);
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
