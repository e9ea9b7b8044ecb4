// SPDX-License-Identifier: GPL-2.0

//! KUnit suites run when the module loads on a kernel with `CONFIG_KUNIT`.
//!
//! They check, inside the kernel: that the module's Rust view of shared C structures
//! matches the C compiler's, and the protocol core with the kernel's own crypto
//! library against the same vectors the host tests use.

use kernel::prelude::*;

#[kunit_tests(mptcp_rs_layout)]
mod layout {
    use crate::bindings;
    use core::mem::{offset_of, size_of};
    use kernel::prelude::*;

    /// Logs a mismatch so a failing run says by how much, then compares.
    fn same(what: &str, rust: usize, c: usize) -> bool {
        if rust != c {
            pr_err!("layout of {what}: Rust {rust}, C {c}\n");
        }
        rust == c
    }

    fn c_layout() -> bindings::mptcp_rs_c_layout {
        let mut l = bindings::mptcp_rs_c_layout::default();
        // SAFETY: the shim only writes the fields of `l`.
        unsafe { bindings::mptcp_rs_c_layout(&mut l) };
        l
    }

    #[test]
    fn mptcp_ext_matches_c() {
        let c = c_layout();
        assert!(same(
            "mptcp_ext size",
            size_of::<bindings::mptcp_ext>(),
            c.mptcp_ext_size
        ));
        assert!(same(
            "mptcp_ext.data_seq offset",
            offset_of!(bindings::mptcp_ext, data_seq),
            c.mptcp_ext_data_seq
        ));
        assert!(same(
            "mptcp_ext.subflow_seq offset",
            offset_of!(bindings::mptcp_ext, subflow_seq),
            c.mptcp_ext_subflow_seq
        ));
        assert!(same(
            "mptcp_ext.data_len offset",
            offset_of!(bindings::mptcp_ext, data_len),
            c.mptcp_ext_data_len
        ));
        assert!(same(
            "mptcp_out_options size",
            size_of::<bindings::mptcp_out_options>(),
            c.mptcp_out_options_size
        ));
    }

    #[test]
    fn dispatch_table_matches_c() {
        let c = c_layout();
        assert!(same(
            "mptcp_tcp_ops size",
            size_of::<bindings::mptcp_tcp_ops>(),
            c.mptcp_tcp_ops_size
        ));
        assert!(same(
            "mptcp_tcp_ops.owner offset",
            offset_of!(bindings::mptcp_tcp_ops, owner),
            c.mptcp_tcp_ops_owner
        ));
        // 13 hooks and the owner, all pointers.
        assert!(same(
            "mptcp_tcp_ops pointers",
            c.mptcp_tcp_ops_size,
            14 * size_of::<usize>()
        ));
    }

    #[test]
    fn registration_structs_match_c() {
        let c = c_layout();
        assert!(same(
            "ctl_table size",
            size_of::<bindings::ctl_table>(),
            c.ctl_table_size
        ));
        assert!(same(
            "ctl_table.proc_handler offset",
            offset_of!(bindings::ctl_table, proc_handler),
            c.ctl_table_proc_handler
        ));
        assert!(same(
            "pernet_operations size",
            size_of::<bindings::pernet_operations>(),
            c.pernet_operations_size
        ));
        assert!(same(
            "tcp_sock size",
            size_of::<bindings::tcp_sock>(),
            c.tcp_sock_size
        ));
        // struct tcp_sock is opaque to Rust (see rust/bindgen_parameters): only its size.
        // struct sock and sk_buff are used field by field: check fields across them.
        assert!(same("sock size", size_of::<bindings::sock>(), c.sock_size));
        assert!(same(
            "sock.sk_rcvbuf offset",
            offset_of!(bindings::sock, sk_rcvbuf),
            c.sock_sk_rcvbuf
        ));
        assert!(same(
            "sock.sk_wmem_queued offset",
            offset_of!(bindings::sock, sk_wmem_queued),
            c.sock_sk_wmem_queued
        ));
        assert!(same(
            "sock.sk_protocol offset",
            offset_of!(bindings::sock, sk_protocol),
            c.sock_sk_protocol
        ));
        assert!(same(
            "sock.sk_sndbuf offset",
            offset_of!(bindings::sock, sk_sndbuf),
            c.sock_sk_sndbuf
        ));
        assert!(same(
            "sk_buff size",
            size_of::<bindings::sk_buff>(),
            c.sk_buff_size
        ));
        assert!(same(
            "sk_buff.cb offset",
            offset_of!(bindings::sk_buff, cb),
            c.sk_buff_cb
        ));
        assert!(same(
            "tcp_request_sock size",
            size_of::<bindings::tcp_request_sock>(),
            c.tcp_request_sock_size
        ));
    }
}

#[kunit_tests(mptcp_rs_crypto)]
mod crypto {
    use crate::proto::crypto::{hmac_truncated, join_hmac, key_derive, Sha256};
    use crate::proto::vectors;
    use crate::sha256::KernelSha256;

    #[test]
    fn token_and_idsn_known_answers() {
        for (key, token, idsn) in vectors::KEY_DERIVE {
            let d = key_derive::<KernelSha256>(key);
            assert_eq!(d.token, token);
            assert_eq!(d.idsn, idsn);
        }
    }

    #[test]
    fn join_hmac_upstream_vectors() {
        for (key, msg, expected) in vectors::JOIN_HMAC {
            let inputs = vectors::join_inputs(key, msg);
            assert!(inputs.is_some());
            let Some((ka, kb, na, nb)) = inputs else {
                return;
            };
            let h = join_hmac::<KernelSha256>(ka, kb, na, nb);
            let mut buf = [0u8; 64];
            assert_eq!(vectors::to_hex(&h, &mut buf), Some(expected));
            assert_eq!(
                hmac_truncated(&h),
                u64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]])
            );
        }
    }

    #[test]
    fn digest_of_empty_input() {
        // FIPS 180-2 SHA-256 of the empty string.
        let mut buf = [0u8; 64];
        assert_eq!(
            vectors::to_hex(&KernelSha256::digest(b""), &mut buf),
            Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
    }
}

#[kunit_tests(mptcp_rs_seq)]
mod seq {
    use crate::proto::seq::{after64, before64, expand_seq32};
    use crate::proto::vectors;

    #[test]
    fn expand_seq32_known_answers() {
        for (reference, low, expected) in vectors::EXPAND_SEQ32 {
            assert_eq!(expand_seq32(reference, low), expected);
        }
    }

    #[test]
    fn wrapping_order() {
        assert!(before64(u64::MAX, 0));
        assert!(after64(0, u64::MAX));
        assert!(!before64(7, 7));
    }
}

#[kunit_tests(mptcp_rs_options)]
mod options {
    use crate::proto::csum::{dss_checksum, dss_checksum_ok, PieceSum, Sum};
    use crate::proto::options::{parse, MpJoin, MptcpOption, ParseError, Segment};
    use crate::proto::vectors;

    #[test]
    fn dss_known_encoding() {
        let (bytes, dss) = vectors::DSS_FULL;
        let want = MptcpOption::Dss(dss);
        assert_eq!(parse(Segment::Other, &bytes), Ok(want));
        let mut out = [0u8; 40];
        assert_eq!(want.write(&mut out), Ok(bytes.len()));
        assert_eq!(&out[..bytes.len()], &bytes[..]);
    }

    #[test]
    fn join_round_trip_and_strict_lengths() {
        let syn = MptcpOption::MpJoin(MpJoin::Syn {
            backup: true,
            addr_id: 2,
            token: 0xdeadbeef,
            nonce: 7,
        });
        let mut out = [0u8; 40];
        let n = syn.write(&mut out).unwrap_or(0);
        assert_eq!(n, 12);
        assert_eq!(parse(Segment::Syn, &out[..n]), Ok(syn));
        // the same bytes are not a valid MP_JOIN on a non-SYN segment
        assert_eq!(
            parse(Segment::Other, &out[..n]),
            Err(ParseError::BadSubtypeLength {
                subtype: 1,
                len: 12
            })
        );
        // nor with a length byte that lies
        out[1] = 40;
        assert_eq!(parse(Segment::Syn, &out[..n]), Err(ParseError::BadLength));
    }

    #[test]
    fn dss_checksum_rfc1071_example() {
        let words = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(Sum::of(&words).fold(), 0xddf2);
        let c = dss_checksum(0x1_0000_2000, 1, 8, Sum::of(&words));
        assert!(dss_checksum_ok(0x1_0000_2000, 1, 8, Sum::of(&words), c));
        assert!(!dss_checksum_ok(0x1_0000_2001, 1, 8, Sum::of(&words), c));
    }

    #[test]
    fn dss_checksum_pieces_with_a_repeat() {
        // bytes 0..5 of a mapping, then 3..8: the second piece repeats two bytes and
        // its new ones start at an odd offset (added byte-swapped)
        let payload = [0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe];
        let mut ps = PieceSum::default();
        assert_eq!(ps.unsummed_part(0, 5), Some((0, 5)));
        ps.add(Sum::of(&payload[..5]), 5);
        assert_eq!(ps.unsummed_part(3, 5), Some((2, 3)));
        assert_eq!(ps.unsummed_part(1, 4), None);
        ps.add(Sum::of(&payload[5..]), 3);
        assert_eq!(ps.summed(), 8);
        assert_eq!(ps.sum().fold(), Sum::of(&payload).fold());
    }
}

#[kunit_tests(mptcp_rs_lia)]
mod lia {
    use crate::proto::lia::{acks_per_increment, Subflow, MAX_SUBFLOWS};
    use crate::proto::vectors;

    #[test]
    fn shared_vectors() {
        for (subs, me, want) in vectors::LIA_CASES {
            let mut all = [Subflow {
                cwnd: 0,
                srtt_us: 0,
            }; MAX_SUBFLOWS];
            for (slot, &(cwnd, srtt_us)) in all.iter_mut().zip(subs.iter()) {
                *slot = Subflow { cwnd, srtt_us };
            }
            let all = &all[..subs.len()];
            assert_eq!(acks_per_increment(all, me), Some(want));
        }
    }

    #[test]
    fn extreme_inputs_do_not_overflow() {
        let big = [Subflow {
            cwnd: u32::MAX,
            srtt_us: u32::MAX,
        }; MAX_SUBFLOWS];
        assert_eq!(
            acks_per_increment(&big, 0),
            Some((MAX_SUBFLOWS * MAX_SUBFLOWS) as u32 * (1 << 20))
        );
        let mixed = [
            Subflow {
                cwnd: u32::MAX,
                srtt_us: 1,
            },
            Subflow {
                cwnd: 1,
                srtt_us: u32::MAX,
            },
        ];
        assert!(acks_per_increment(&mixed, 1).is_some());
    }
}

#[kunit_tests(mptcp_rs_olia)]
mod olia {
    use crate::proto::olia::{increase_per_ack, Path, MAX_SUBFLOWS};
    use crate::proto::vectors;

    #[test]
    fn shared_vectors() {
        for (paths, me, want) in vectors::OLIA_CASES {
            let mut all = [Path {
                cwnd: 0,
                srtt_us: 0,
                loss_interval: 0,
            }; MAX_SUBFLOWS];
            for (slot, &(cwnd, srtt_us, loss_interval)) in all.iter_mut().zip(paths.iter()) {
                *slot = Path {
                    cwnd,
                    srtt_us,
                    loss_interval,
                };
            }
            assert_eq!(increase_per_ack(&all[..paths.len()], me), Some(want));
        }
    }

    #[test]
    fn extreme_inputs_do_not_overflow() {
        // the kernel feeds it whatever the subflows' sockets hold: any u32 must give
        // an answer, never an overflow (a BUG() in the kernel)
        let big = [Path {
            cwnd: u32::MAX,
            srtt_us: u32::MAX,
            loss_interval: u32::MAX,
        }; MAX_SUBFLOWS];
        assert!(increase_per_ack(&big, MAX_SUBFLOWS - 1).is_some());
        let mixed = [
            Path {
                cwnd: u32::MAX,
                srtt_us: 1,
                loss_interval: 0,
            },
            Path {
                cwnd: 1,
                srtt_us: u32::MAX,
                loss_interval: u32::MAX,
            },
        ];
        assert!(increase_per_ack(&mixed, 0).is_some());
        assert!(increase_per_ack(&mixed, 1).is_some_and(|v| v > 0));
        assert_eq!(increase_per_ack(&mixed, 2), None);
    }
}

#[kunit_tests(mptcp_rs_mib)]
mod mib {
    use crate::mib::{self, Counters, Mib, COUNT};
    use crate::net::Net;
    use kernel::prelude::*;

    #[test]
    fn upstream_names_and_order() {
        // net/mptcp/mib.c of Linux 7.2: mptcp_snmp_list has 76 entries
        assert_eq!(COUNT, 76);
        assert_eq!(Mib::ALL.first().map(|m| m.name()), Some("MPCapableSYNRX"));
        assert_eq!(Mib::MPTCPRetrans.name(), "MPTCPRetrans");
        assert_eq!(Mib::MPCurrEstab.name(), "MPCurrEstab");
        assert_eq!(Mib::ALL.last().map(|m| m.name()), Some("WinProbe"));
        for (i, m) in Mib::ALL.iter().enumerate() {
            assert_eq!(*m as usize, i);
        }
    }

    #[test]
    fn counts_in_init_net() {
        let net = Net::init_net();
        let mut before = [0; COUNT];
        mib::sum(net, &mut before);
        let was = mib::get(net, Mib::MPTCPRetrans);
        mib::inc(net, Mib::MPTCPRetrans);
        assert_eq!(mib::get(net, Mib::MPTCPRetrans), was.wrapping_add(1));
        mib::add(net, Mib::MPTCPRetrans, 41);
        assert_eq!(mib::get(net, Mib::MPTCPRetrans), was.wrapping_add(42));
        mib::dec(net, Mib::MPTCPRetrans);
        assert_eq!(mib::get(net, Mib::MPTCPRetrans), was.wrapping_add(41));
        // only that counter moved
        let mut after = [0; COUNT];
        mib::sum(net, &mut after);
        for (m, (b, a)) in Mib::ALL.iter().zip(before.iter().zip(after.iter())) {
            if *m != Mib::MPTCPRetrans {
                assert_eq!(b, a);
            }
        }
        // leave init_net's counters as they were
        mib::add(net, Mib::MPTCPRetrans, -41);
        assert_eq!(mib::get(net, Mib::MPTCPRetrans), was);
    }

    #[test]
    fn blocks_are_independent_and_wrap_as_c() {
        let (a, b) = (Counters::new(), Counters::new());
        assert!(a.is_ok() && b.is_ok());
        let (Ok(a), Ok(b)) = (a, b) else {
            return;
        };
        let mut all = [1; COUNT];
        a.sum(&mut all);
        assert!(all.iter().all(|v| *v == 0));
        a.add(Mib::WinProbe, 5);
        a.add(Mib::MPCapableSYNRX, 1);
        assert_eq!(a.get(Mib::WinProbe), 5);
        assert_eq!(a.get(Mib::MPCapableSYNRX), 1);
        b.sum(&mut all);
        assert!(all.iter().all(|v| *v == 0));
        // a gauge below zero reads as C's unsigned long does
        b.add(Mib::MPCurrEstab, -1);
        assert_eq!(b.get(Mib::MPCurrEstab), c_ulong::MAX);
        b.add(Mib::MPCurrEstab, 1);
        assert_eq!(b.get(Mib::MPCurrEstab), 0);
    }
}

#[kunit_tests(mptcp_rs_token)]
mod token {
    use crate::bindings;

    #[test]
    fn table_insert_lookup_remove() {
        // SAFETY: the shim's self-test uses two private fake sockets only.
        let failed_step = unsafe { bindings::mptcp_rs_token_selftest() };
        assert_eq!(failed_step, 0);
    }
}

/// Built only with `MPTCP_RS_KUNIT_INJECT_FAILURE=1`: shows that a failing assertion
/// fails `make check`.
#[cfg(mptcp_rs_inject_failure)]
#[kunit_tests(mptcp_rs_injected_failure)]
mod injected {
    #[test]
    fn fails() {
        assert_eq!(1 + 1, 3);
    }
}
