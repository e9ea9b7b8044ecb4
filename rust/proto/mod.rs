// SPDX-License-Identifier: GPL-2.0

//! The MPTCP protocol core: everything that needs no kernel object.
//!
//! These files are compiled twice from the same source: as the `proto` module of the
//! `mptcp_rs` kernel crate, and as the host crate `mptcp-proto` (see `host/`), where
//! `cargo test`, property tests and fuzzers exercise them. They therefore use only
//! `core`: no allocation, no floating point, no 128-bit division, no panics on any
//! input (sequence arithmetic wraps explicitly).

pub mod crypto;
pub mod csum;
pub mod lia;
pub mod olia;
pub mod options;
pub mod sched;
pub mod seq;
pub mod sndmap;
pub mod vectors;
