// SPDX-License-Identifier: GPL-2.0

//! The RFC 8684 option codec: known encodings, strict lengths, round trips, and
//! arbitrary input.

use mptcp_proto::options::{
    self, dss_flags, mpc_flags, parse, AddAddr, Addr, Dss, DssMap, MpCapable, MpJoin, MpcData,
    MptcpOption, ParseError, RemoveAddr, Segment, TcpOptions, WriteError,
};
use proptest::prelude::*;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn written(o: &MptcpOption) -> Vec<u8> {
    let mut buf = [0u8; 40];
    let n = o.write(&mut buf).unwrap();
    buf[..n].to_vec()
}

/// Encodings worked out by hand from the figures of RFC 8684 section 3.
#[test]
fn known_encodings() {
    let cases: Vec<(Segment, &str, MptcpOption)> = vec![
        (
            Segment::Syn,
            "1e 04 01 81",
            MptcpOption::MpCapable(MpCapable {
                flags: mpc_flags::CHECKSUM_REQUIRED | mpc_flags::HMAC_SHA256,
                sender_key: None,
                receiver_key: None,
                data: None,
            }),
        ),
        (
            Segment::SynAck,
            "1e 0c 01 01 0102030405060708",
            MptcpOption::MpCapable(MpCapable {
                flags: mpc_flags::HMAC_SHA256,
                sender_key: Some(0x0102030405060708),
                receiver_key: None,
                data: None,
            }),
        ),
        (
            Segment::Other,
            "1e 18 01 81 1111111111111111 2222222222222222 0564 beef",
            MptcpOption::MpCapable(MpCapable {
                flags: 0x81,
                sender_key: Some(0x1111111111111111),
                receiver_key: Some(0x2222222222222222),
                data: Some(MpcData {
                    data_len: 1380,
                    checksum: Some(0xbeef),
                }),
            }),
        ),
        (
            Segment::Syn,
            "1e 0c 11 02 deadbeef 01020304",
            MptcpOption::MpJoin(MpJoin::Syn {
                backup: true,
                addr_id: 2,
                token: 0xdeadbeef,
                nonce: 0x01020304,
            }),
        ),
        (
            Segment::SynAck,
            "1e 10 10 00 0a0b0c0d0e0f1011 99887766",
            MptcpOption::MpJoin(MpJoin::SynAck {
                backup: false,
                addr_id: 0,
                truncated_hmac: 0x0a0b0c0d0e0f1011,
                nonce: 0x99887766,
            }),
        ),
        (
            Segment::Other,
            "1e 0c 20 03 0000000100000002",
            MptcpOption::Dss(Dss {
                data_ack: Some((0x1_0000_0002, true)),
                map: None,
                data_fin: false,
            }),
        ),
        (
            Segment::Other,
            "1e 12 30 05 c0000201 1f90 0102030405060708",
            MptcpOption::AddAddr(AddAddr {
                addr_id: 5,
                addr: Addr::V4([192, 0, 2, 1]),
                port: Some(8080),
                hmac: Some(0x0102030405060708),
            }),
        ),
        (
            Segment::Other,
            "1e 14 31 07 20010db8000000000000000000000001",
            MptcpOption::AddAddr(AddAddr {
                addr_id: 7,
                addr: Addr::V6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
                port: None,
                hmac: None,
            }),
        ),
        (
            Segment::Other,
            "1e 05 40 01 02",
            MptcpOption::RemoveAddr(RemoveAddr::new(&[1, 2]).unwrap()),
        ),
        (
            Segment::Other,
            "1e 03 51",
            MptcpOption::MpPrio { backup: true },
        ),
        (
            Segment::Other,
            "1e 0c 60 00 0000000000000100",
            MptcpOption::MpFail { dsn: 0x100 },
        ),
        (
            Segment::Other,
            "1e 0c 70 00 8877665544332211",
            MptcpOption::MpFastclose {
                receiver_key: 0x8877665544332211,
            },
        ),
        (
            Segment::Other,
            "1e 04 81 06",
            MptcpOption::MpTcpRst {
                flags: options::rst_flags::TRANSIENT,
                reason: 6,
            },
        ),
    ];
    for (seg, bytes, opt) in cases {
        let b = hex(bytes);
        assert_eq!(parse(seg, &b), Ok(opt), "parse {bytes}");
        assert_eq!(written(&opt), b, "write {opt:?}");
        assert_eq!(opt.segment(), seg, "segment of {opt:?}");
    }
}

#[test]
fn shared_dss_vector() {
    let (bytes, dss) = mptcp_proto::vectors::DSS_FULL;
    assert_eq!(parse(Segment::Other, &bytes), Ok(MptcpOption::Dss(dss)));
    assert_eq!(written(&MptcpOption::Dss(dss)), bytes.to_vec());
}

#[test]
fn join_ack_carries_160_bit_hmac() {
    let mut b = hex("1e 18 10 00");
    b.extend(1..=20u8);
    match parse(Segment::Other, &b) {
        Ok(MptcpOption::MpJoin(MpJoin::Ack { hmac })) => {
            assert_eq!(hmac.to_vec(), (1..=20).collect::<Vec<u8>>())
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn lengths_are_strict() {
    // MP_CAPABLE with a key on a SYN (a v0 SYN) and without one on a SYN/ACK
    assert!(matches!(
        parse(Segment::Syn, &hex("1e 0c 01 01 0102030405060708")),
        Err(ParseError::BadSubtypeLength { .. })
    ));
    assert!(matches!(
        parse(Segment::SynAck, &hex("1e 04 01 01")),
        Err(ParseError::BadSubtypeLength { .. })
    ));
    // checksum presence must agree with flag A on MP_CAPABLE with data
    let no_a_with_csum = hex("1e 18 01 01 1111111111111111 2222222222222222 0564 beef");
    assert!(parse(Segment::Other, &no_a_with_csum).is_err());
    // DSS: 1 byte too many
    assert!(parse(Segment::Other, &hex("1e 09 20 01 00001000 00")).is_err());
    // DSS: checksum bytes without a mapping
    assert!(parse(Segment::Other, &hex("1e 0a 20 01 00001000 abcd")).is_err());
    // MP_JOIN of SYN length on a non-SYN
    assert!(parse(Segment::Other, &hex("1e 0c 11 02 deadbeef 01020304")).is_err());
    // REMOVE_ADDR without ids, and with more than upstream's 8
    assert!(parse(Segment::Other, &hex("1e 03 40")).is_err());
    assert!(parse(Segment::Other, &hex("1e 0c 40 010203040506070809")).is_err());
    // ADD_ADDR of no known length
    assert!(parse(Segment::Other, &hex("1e 0b 30 05 c0000201 1f90 00")).is_err());
    // length byte disagreeing with the slice
    assert_eq!(
        parse(Segment::Other, &hex("1e 05 51")),
        Err(ParseError::BadLength)
    );
    // not MPTCP / too short
    assert_eq!(
        parse(Segment::Other, &hex("02 04 05b4")),
        Err(ParseError::Truncated)
    );
    assert_eq!(
        parse(Segment::Other, &hex("1e 02")),
        Err(ParseError::Truncated)
    );
}

#[test]
fn version_and_unknown_subtypes_are_reported() {
    assert_eq!(
        parse(Segment::Syn, &hex("1e 04 00 81")),
        Err(ParseError::UnsupportedVersion(0))
    );
    assert_eq!(
        parse(Segment::Other, &hex("1e 04 f0 00")),
        Err(ParseError::UnknownSubtype(0xf))
    );
    assert_eq!(
        parse(Segment::Other, &hex("1e 04 90 00")),
        Err(ParseError::UnknownSubtype(0x9))
    );
}

#[test]
fn reserved_bits_are_ignored_on_input_and_zero_on_output() {
    // MP_PRIO with reserved bits 1..3 set, MP_FAIL with a nonzero reserved byte
    let prio = parse(Segment::Other, &hex("1e 03 5f")).unwrap();
    assert_eq!(written(&prio), hex("1e 03 51"));
    let fail = parse(Segment::Other, &hex("1e 0c 60 ff 0000000000000100")).unwrap();
    assert_eq!(written(&fail), hex("1e 0c 60 00 0000000000000100"));
}

#[test]
fn writes_refuse_what_cannot_be_expressed() {
    let mut small = [0u8; 5];
    assert_eq!(
        MptcpOption::MpPrio { backup: false }.write(&mut small[..2]),
        Err(WriteError::NoSpace)
    );
    assert_eq!(
        MptcpOption::MpFail { dsn: 1 }.write(&mut small),
        Err(WriteError::NoSpace)
    );
    let keyless_with_data = MptcpOption::MpCapable(MpCapable {
        flags: 1,
        sender_key: None,
        receiver_key: Some(1),
        data: None,
    });
    assert_eq!(keyless_with_data.wire_len(), Err(WriteError::Invalid));
    let a_without_csum = MptcpOption::MpCapable(MpCapable {
        flags: mpc_flags::CHECKSUM_REQUIRED,
        sender_key: Some(1),
        receiver_key: Some(2),
        data: Some(MpcData {
            data_len: 1,
            checksum: None,
        }),
    });
    assert_eq!(a_without_csum.wire_len(), Err(WriteError::Invalid));
    assert!(RemoveAddr::new(&[]).is_none());
    assert!(RemoveAddr::new(&[0; 9]).is_none());
}

#[test]
fn dss_lengths_match_upstream_constants() {
    // TCPOLEN_MPTCP_DSS_BASE + ACK32/ACK64 + MAP32/MAP64 as in net/mptcp/protocol.h
    assert_eq!(options::dss_len(0), 4);
    assert_eq!(options::dss_len(dss_flags::ACK), 8);
    assert_eq!(options::dss_len(dss_flags::ACK | dss_flags::ACK64), 12);
    assert_eq!(options::dss_len(dss_flags::MAP), 14);
    assert_eq!(options::dss_len(dss_flags::MAP | dss_flags::DSN64), 18);
    assert_eq!(
        options::dss_len(dss_flags::ACK | dss_flags::ACK64 | dss_flags::MAP | dss_flags::DSN64),
        26
    );
    assert_eq!(options::add_addr_len(true, true, true), 30);
    assert_eq!(options::add_addr_len(false, false, false), 8);
}

#[test]
fn tcp_option_walker() {
    // NOP NOP TS(10) NOP NOP MPTCP-DSS(8) EOL garbage
    let mut b = hex("01 01 080a 0000000100000002 01 01");
    b.extend(hex("1e 08 20 01 00001000"));
    b.extend(hex("00 ff ff"));
    let opts: Vec<_> = TcpOptions::new(&b).collect();
    assert_eq!(opts.len(), 2);
    assert_eq!(opts[0].unwrap()[0], 8);
    assert_eq!(opts[1].unwrap(), &hex("1e 08 20 01 00001000")[..]);
    // a length running past the end, and a length below 2
    let short = hex("1e 08 20 01");
    let bad: Vec<_> = TcpOptions::new(&short).collect();
    assert_eq!(bad.len(), 1);
    assert!(bad[0].is_err());
    let tiny = hex("05 01 01 01");
    let bad: Vec<_> = TcpOptions::new(&tiny).collect();
    assert_eq!(bad.len(), 1);
    assert!(bad[0].is_err());
}

fn arb_option() -> impl Strategy<Value = MptcpOption> {
    let key = any::<u64>();
    prop_oneof![
        (
            any::<u8>(),
            prop::option::of(key),
            prop::option::of(any::<u16>()),
            any::<bool>()
        )
            .prop_map(|(flags, k, data, ack)| {
                // build a consistent MP_CAPABLE for one of the four forms
                let flags = flags & !mpc_flags::CHECKSUM_REQUIRED;
                match (k, data, ack) {
                    (None, _, _) => MpCapable {
                        flags,
                        sender_key: None,
                        receiver_key: None,
                        data: None,
                    },
                    (Some(k), _, false) => MpCapable {
                        flags,
                        sender_key: Some(k),
                        receiver_key: None,
                        data: None,
                    },
                    (Some(k), None, true) => MpCapable {
                        flags,
                        sender_key: Some(k),
                        receiver_key: Some(!k),
                        data: None,
                    },
                    (Some(k), Some(d), true) => {
                        let csum = d % 2 == 0;
                        MpCapable {
                            flags: flags
                                | if csum {
                                    mpc_flags::CHECKSUM_REQUIRED
                                } else {
                                    0
                                },
                            sender_key: Some(k),
                            receiver_key: Some(k.rotate_left(7)),
                            data: Some(MpcData {
                                data_len: d,
                                checksum: csum.then_some(d ^ 0x5a5a),
                            }),
                        }
                    }
                }
            })
            .prop_map(MptcpOption::MpCapable),
        (any::<bool>(), any::<u8>(), any::<u32>(), any::<u32>()).prop_map(
            |(backup, addr_id, token, nonce)| MptcpOption::MpJoin(MpJoin::Syn {
                backup,
                addr_id,
                token,
                nonce
            })
        ),
        (any::<bool>(), any::<u8>(), any::<u64>(), any::<u32>()).prop_map(
            |(backup, addr_id, truncated_hmac, nonce)| {
                MptcpOption::MpJoin(MpJoin::SynAck {
                    backup,
                    addr_id,
                    truncated_hmac,
                    nonce,
                })
            }
        ),
        any::<[u8; 20]>().prop_map(|hmac| MptcpOption::MpJoin(MpJoin::Ack { hmac })),
        (
            prop::option::of((any::<u64>(), any::<bool>())),
            prop::option::of((
                any::<u64>(),
                any::<bool>(),
                any::<u32>(),
                any::<u16>(),
                prop::option::of(any::<u16>())
            )),
            any::<bool>()
        )
            .prop_map(|(ack, map, data_fin)| {
                let data_ack = ack.map(|(a, wide)| (if wide { a } else { a & 0xffff_ffff }, wide));
                let map = map.map(|(dsn, dsn64, ssn, data_len, checksum)| DssMap {
                    dsn: if dsn64 { dsn } else { dsn & 0xffff_ffff },
                    dsn64,
                    ssn,
                    data_len,
                    checksum,
                });
                MptcpOption::Dss(Dss {
                    data_ack,
                    map,
                    data_fin,
                })
            }),
        (
            any::<u8>(),
            prop_oneof![
                any::<[u8; 4]>().prop_map(Addr::V4),
                any::<[u8; 16]>().prop_map(Addr::V6)
            ],
            prop::option::of(any::<u16>()),
            prop::option::of(any::<u64>())
        )
            .prop_map(|(addr_id, addr, port, hmac)| MptcpOption::AddAddr(AddAddr {
                addr_id,
                addr,
                port,
                hmac
            })),
        prop::collection::vec(any::<u8>(), 1..=8)
            .prop_map(|ids| MptcpOption::RemoveAddr(RemoveAddr::new(&ids).unwrap())),
        any::<bool>().prop_map(|backup| MptcpOption::MpPrio { backup }),
        any::<u64>().prop_map(|dsn| MptcpOption::MpFail { dsn }),
        any::<u64>().prop_map(|receiver_key| MptcpOption::MpFastclose { receiver_key }),
        (0u8..16, any::<u8>()).prop_map(|(flags, reason)| MptcpOption::MpTcpRst { flags, reason }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Every option written parses back to itself, on the segment it belongs on.
    #[test]
    fn write_then_parse_is_identity(opt in arb_option()) {
        let bytes = written(&opt);
        prop_assert_eq!(bytes.len(), opt.wire_len().unwrap());
        prop_assert_eq!(bytes[1] as usize, bytes.len());
        prop_assert!(bytes.len() <= 40, "longer than the TCP option space");
        prop_assert_eq!(parse(opt.segment(), &bytes), Ok(opt));
    }

    /// Arbitrary bytes never panic; whatever parses, writes back into something that
    /// parses to the same option and is the same length.
    #[test]
    fn arbitrary_bytes(seg in prop_oneof![Just(Segment::Syn), Just(Segment::SynAck), Just(Segment::Other)],
                       mut body in prop::collection::vec(any::<u8>(), 0..40), sub in 0u8..16) {
        if body.len() >= 3 {
            body[0] = options::TCPOPT_MPTCP;
            body[1] = body.len() as u8;
            body[2] = (sub << 4) | (body[2] & 0xf);
        }
        if let Ok(opt) = parse(seg, &body) {
            let again = written(&opt);
            prop_assert_eq!(again.len(), body.len());
            prop_assert_eq!(parse(seg, &again), Ok(opt));
        }
    }

    #[test]
    fn walker_never_panics_and_yields_in_bounds(b in prop::collection::vec(any::<u8>(), 0..60)) {
        let mut total = 0;
        for o in TcpOptions::new(&b) {
            match o {
                Ok(o) => { prop_assert!(o.len() >= 2); total += o.len(); }
                Err(_) => {}
            }
        }
        prop_assert!(total <= b.len());
    }
}
