// SPDX-License-Identifier: GPL-2.0

//! Fuzz target: arbitrary TCP option space through the walker and the MPTCP option
//! codec. Nothing may panic, and every option that parses must write back to bytes
//! that parse to the same option, with the same length.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mptcp_proto::options::{parse, Segment, TcpOptions, TCPOPT_MPTCP};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, opts)) = data.split_first() else { return };
    let seg = match sel % 3 {
        0 => Segment::Syn,
        1 => Segment::SynAck,
        _ => Segment::Other,
    };
    for opt in TcpOptions::new(opts).flatten() {
        if opt.first() != Some(&TCPOPT_MPTCP) {
            continue;
        }
        if let Ok(o) = parse(seg, opt) {
            let mut buf = [0u8; 40];
            let n = o.write(&mut buf).expect("a parsed option can be written");
            assert_eq!(n, opt.len(), "length changed: {o:?}");
            assert_eq!(parse(seg, &buf[..n]), Ok(o), "round trip changed {o:?}");
        }
    }
});
