// SPDX-License-Identifier: GPL-2.0

//! Checks the option codec against captured traffic.
//!
//! Reads lines `SEGMENT HEX` (SEGMENT: syn, synack or other; HEX: one MPTCP option,
//! kind byte first) as written by `tests/tools/capture_tcp_options.py`, parses each
//! option, writes it back, and parses the result again. With `--segments FILE` (the
//! capture's segment file) it also reassembles each mapping's payload from the
//! captured segments of its subflow and verifies its DSS checksum. Prints a summary
//! per subtype and every option that failed; exits 1 if any did.

use mptcp_proto::csum::{dss_checksum_ok, Sum};
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

fn unhex(hex: &str) -> Option<Vec<u8>> {
    (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect()
}

/// Recomputes the DSS checksums of the mappings in a capture's segment file.
/// Returns (verified, mismatched); mappings whose bytes were not all captured, or
/// that carry no checksum or a 32-bit DSN, are skipped.
fn verify_checksums(path: &str) -> (usize, usize) {
    let text = std::fs::read_to_string(path).expect("segment file");
    let mut isn: BTreeMap<&str, u32> = BTreeMap::new();
    // flow -> sequence number -> payload
    let mut data: BTreeMap<&str, BTreeMap<u32, Vec<u8>>> = BTreeMap::new();
    let mut maps: Vec<(&str, MptcpOption)> = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.as_slice() {
            ["S", flow, seq] => {
                if let Ok(seq) = seq.parse() {
                    isn.insert(flow, seq);
                }
            }
            ["D", flow, seq, hex] => {
                if let (Ok(seq), Some(p)) = (seq.parse(), unhex(hex)) {
                    data.entry(flow).or_default().insert(seq, p);
                }
            }
            ["M", flow, hex] => {
                if let Some(Ok(o)) = unhex(hex).map(|b| parse(Segment::Other, &b)) {
                    maps.push((flow, o));
                }
            }
            _ => {}
        }
    }
    let (mut ok, mut bad) = (0, 0);
    let mut done = std::collections::BTreeSet::new();
    for (flow, opt) in maps {
        let MptcpOption::Dss(d) = opt else { continue };
        let Some(m) = d.map.filter(|m| m.dsn64 && m.data_len > 0) else {
            continue;
        };
        let (Some(c), Some(&isn), Some(segs)) = (m.checksum, isn.get(flow), data.get(flow)) else {
            continue;
        };
        // the relative subflow sequence number counts from the ISN (SYN = ISN)
        let start = isn.wrapping_add(m.ssn);
        if !done.insert((flow, start, m.dsn)) {
            continue; // retransmitted mapping
        }
        let mut bytes = Vec::with_capacity(usize::from(m.data_len));
        let mut next = start;
        while bytes.len() < usize::from(m.data_len) {
            let Some(p) = segs.get(&next) else { break };
            let take = p.len().min(usize::from(m.data_len) - bytes.len());
            bytes.extend_from_slice(&p[..take]);
            next = next.wrapping_add(take as u32);
        }
        if bytes.len() != usize::from(m.data_len) {
            continue;
        }
        if dss_checksum_ok(m.dsn, m.ssn, m.data_len, Sum::of(&bytes), c) {
            ok += 1;
        } else {
            println!(
                "DSS checksum mismatch: flow {flow} dsn {:#x} ssn {} len {}",
                m.dsn, m.ssn, m.data_len
            );
            bad += 1;
        }
    }
    (ok, bad)
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
        let Some(bytes) = unhex(hex) else {
            println!("bad input line: {line}");
            failures += 1;
            continue;
        };
        let opt = match parse(seg, &bytes) {
            Ok(opt) => opt,
            Err(e) => {
                println!("parse failed: {seg:?} {hex}: {e:?}");
                failures += 1;
                continue;
            }
        };
        let mut buf = [0u8; 40];
        let again = opt.write(&mut buf).ok().map(|n| buf[..n].to_vec());
        match again {
            Some(b) if b.len() == bytes.len() && parse(seg, &b) == Ok(opt) => {
                *seen.entry(name(&opt)).or_default() += 1;
            }
            other => {
                println!("round trip failed: {seg:?} {hex} -> {other:02x?}");
                failures += 1;
                continue;
            }
        }
    }
    for (k, v) in &seen {
        println!("{k} {v}");
    }
    let args: Vec<String> = std::env::args().collect();
    let (csum_ok, csum_bad) = match args.as_slice() {
        [_, flag, path] if flag == "--segments" => verify_checksums(path),
        _ => (0, 0),
    };
    println!("dss_checksums_verified {csum_ok}");
    println!("dss_checksums_bad {csum_bad}");
    println!("failures {failures}");
    std::process::exit(i32::from(failures > 0 || csum_bad > 0));
}
