// SPDX-License-Identifier: GPL-2.0

//! `olia`: the Opportunistic Linked Increases Algorithm for MPTCP subflows
//! (Khalili et al., CoNEXT 2012).
//!
//! Selected like any TCP congestion control. Slow start and the loss response are
//! Reno's. In congestion avoidance each acknowledged packet changes the window by
//! `proto::olia::increase_per_ack()` (which may be negative), computed over the
//! windows, RTTs and loss intervals of the connection's subflows that can send
//! (read from mptcp_rs.ko, `mptcp_rs_cc_paths()`); fractions of a packet add up
//! in a per-subflow accumulator. Each subflow keeps its loss intervals in its own
//! state, whose first two words the other subflows read: `l1`, the packets
//! delivered between its last two losses, and `l2`, those delivered since the last
//! one (OLIA's `l_r = max(l1, l2)`). On a socket that is not an MPTCP subflow, or a
//! connection with one usable subflow, the change is `1 / cwnd`: Reno.

use core::sync::atomic::{AtomicI64, AtomicU32, Ordering::Relaxed};
use kernel::prelude::*;

#[path = "bindings.rs"]
mod bindings;
mod cc;
#[allow(dead_code, unreachable_pub)]
#[path = "proto/olia.rs"]
mod olia;

module! {
    type: OliaModule,
    name: "mptcp_olia",
    authors: ["mptcp-rs developers"],
    description: "MPTCP Opportunistic Linked Increases congestion control",
    license: "GPL",
}

const _: () = assert!(cc::MAX_PATHS == olia::MAX_SUBFLOWS);
const _: () = assert!(bindings::MPTCP_RS_CC_PUBLISHED == 2);

/// One packet in the accumulator's scale.
const ONE: i64 = 1 << olia::SCALE_BITS;
/// The accumulator never holds more than this many packets either way.
const ACC_LIMIT: i64 = 64 * ONE;

/// OLIA's per-subflow state. The first two words are what the other subflows of the
/// connection read (`mptcp_rs_cc_paths()`, `published`): keep them first.
#[repr(C)]
#[derive(Default)]
struct State {
    /// Packets delivered between the last two losses.
    l1: AtomicU32,
    /// Packets delivered since the last loss.
    l2: AtomicU32,
    /// `tp->delivered` at the last loss.
    delivered_at_loss: AtomicU32,
    /// Window change not applied yet, scaled by 2^`SCALE_BITS` packets.
    acc: AtomicI64,
}

impl State {
    fn loss_interval(&self) -> u32 {
        self.l1.load(Relaxed).max(self.l2.load(Relaxed))
    }
}

struct Olia;

/// OLIA's window change per acknowledged packet of `sk`, scaled by 2^`SCALE_BITS`;
/// `None` when `sk` is alone (Reno).
fn increase_per_ack(sk: &cc::TcpSock, st: &State) -> Option<i64> {
    let mut paths = [cc::Path::default(); cc::MAX_PATHS];
    let n = sk.paths(&mut paths);
    if n <= 1 {
        return None;
    }
    let mut all = [olia::Path {
        cwnd: 0,
        srtt_us: 0,
        loss_interval: 0,
    }; cc::MAX_PATHS];
    for (i, (a, p)) in all.iter_mut().zip(paths.iter()).take(n).enumerate() {
        // our own interval from our state; a sibling's from its published words
        // (zero, never the best path, if it runs another algorithm)
        let loss_interval = if i == 0 {
            st.loss_interval()
        } else {
            p.published[0].max(p.published[1])
        };
        *a = olia::Path {
            cwnd: p.cwnd,
            srtt_us: p.srtt_us,
            loss_interval,
        };
    }
    olia::increase_per_ack(all.get(..n)?, 0)
}

impl cc::Algorithm for Olia {
    const NAME: &'static CStr = c"olia";
    type State = State;

    fn cong_avoid(sk: &cc::TcpSock, st: &State, _ack: u32, mut acked: u32) {
        st.l2.store(
            sk.delivered()
                .wrapping_sub(st.delivered_at_loss.load(Relaxed)),
            Relaxed,
        );
        if !sk.cwnd_limited() {
            return;
        }
        if sk.in_slow_start() {
            acked = sk.slow_start(acked);
            if acked == 0 {
                return;
            }
        }
        let Some(inc) = increase_per_ack(sk, st) else {
            st.acc.store(0, Relaxed);
            sk.cong_avoid_ai(sk.cwnd(), acked);
            return;
        };
        let acc = st
            .acc
            .load(Relaxed)
            .saturating_add(inc.saturating_mul(i64::from(acked)))
            .clamp(-ACC_LIMIT, ACC_LIMIT);
        // whole packets go to the window, the fraction (of either sign) stays
        let steps = acc / ONE;
        st.acc.store(acc - steps * ONE, Relaxed);
        if steps != 0 {
            let cwnd = i64::from(sk.cwnd()).saturating_add(steps);
            sk.set_cwnd(u32::try_from(cwnd.max(0)).unwrap_or(u32::MAX));
        }
    }

    fn ssthresh(sk: &cc::TcpSock, st: &State) -> u32 {
        // a loss: the interval since the previous one is complete
        let now = sk.delivered();
        st.l1.store(
            now.wrapping_sub(st.delivered_at_loss.load(Relaxed)),
            Relaxed,
        );
        st.l2.store(0, Relaxed);
        st.delivered_at_loss.store(now, Relaxed);
        st.acc.store(0, Relaxed);
        sk.reno_ssthresh()
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
