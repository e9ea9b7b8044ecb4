// SPDX-License-Identifier: GPL-2.0

//! Checks the option codec against captured traffic.
//!
//! Reads lines `SEGMENT HEX` (SEGMENT: syn, synack or other; HEX: one MPTCP option,
//! kind byte first) as written by `tests/tools/capture_tcp_options.py`, parses each
//! option, writes it back, and parses the result again. Prints a summary per subtype
//! and every option that failed; exits 1 if any did.

use mptcp_proto::options::{parse, MptcpOption, Segment};
use std::collections::BTreeMap;
use std::io::BufRead;

fn name(o: &MptcpOption) -> String {
    use mptcp_proto::options::MpJoin;
    match o {
        MptcpOption::MpCapable(m) => match (m.sender_key, m.receiver_key, m.data) {
            (None, _, _) => "MP_CAPABLE(syn)".into(),
            (Some(_), None, _) => "MP_CAPABLE(synack)".into(),
            (_, _, None) => "MP_CAPABLE(ack)".into(),
            (_, _, Some(d)) if d.checksum.is_some() => "MP_CAPABLE(data+csum)".into(),
            _ => "MP_CAPABLE(data)".into(),
        },
        MptcpOption::MpJoin(MpJoin::Syn { .. }) => "MP_JOIN(syn)".into(),
        MptcpOption::MpJoin(MpJoin::SynAck { .. }) => "MP_JOIN(synack)".into(),
        MptcpOption::MpJoin(MpJoin::Ack { .. }) => "MP_JOIN(ack)".into(),
        MptcpOption::Dss(d) => format!(
            "DSS({}{}{})",
            if d.data_ack.is_some() { "ack" } else { "" },
            match d.map {
                Some(m) if m.checksum.is_some() => "+map+csum",
                Some(_) => "+map",
                None => "",
            },
            if d.data_fin { "+fin" } else { "" }
        ),
        MptcpOption::AddAddr(a) => format!(
            "ADD_ADDR({})",
            if a.hmac.is_some() { "hmac" } else { "echo" }
        ),
        MptcpOption::RemoveAddr(_) => "REMOVE_ADDR".into(),
        MptcpOption::MpPrio { .. } => "MP_PRIO".into(),
        MptcpOption::MpFail { .. } => "MP_FAIL".into(),
        MptcpOption::MpFastclose { .. } => "MP_FASTCLOSE".into(),
        MptcpOption::MpTcpRst { .. } => "MP_TCPRST".into(),
    }
}

fn main() {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = 0usize;
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("stdin");
        let mut f = line.split_whitespace();
        let (Some(seg), Some(hex)) = (f.next(), f.next()) else {
            continue;
        };
        let seg = match seg {
            "syn" => Segment::Syn,
            "synack" => Segment::SynAck,
            _ => Segment::Other,
        };
        let bytes: Option<Vec<u8>> = (0..hex.len())
            .step_by(2)
            .map(|i| {
                hex.get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect();
        let Some(bytes) = bytes else {
            println!("bad input line: {line}");
            failures += 1;
            continue;
        };
        match parse(seg, &bytes) {
            Ok(opt) => {
                let mut buf = [0u8; 40];
                let again = opt.write(&mut buf).ok().map(|n| buf[..n].to_vec());
                match again {
                    Some(b) if b.len() == bytes.len() && parse(seg, &b) == Ok(opt) => {
                        *seen.entry(name(&opt)).or_default() += 1;
                    }
                    other => {
                        println!("round trip failed: {line} -> {other:02x?}");
                        failures += 1;
                    }
                }
            }
            Err(e) => {
                println!("parse failed: {line}: {e:?}");
                failures += 1;
            }
        }
    }
    for (k, v) in &seen {
        println!("{k} {v}");
    }
    println!("failures {failures}");
    std::process::exit(i32::from(failures > 0));
}
