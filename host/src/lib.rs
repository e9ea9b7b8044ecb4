// SPDX-License-Identifier: GPL-2.0

//! Host build of the mptcp-rs protocol core.
//!
//! The sources live in `rust/proto/` and are the very files the kernel module compiles
//! as its `proto` module; this crate only gives them a `no_std` crate root.

#![no_std]
#![forbid(unsafe_code)]

#[path = "../../rust/proto/mod.rs"]
mod proto;

pub use proto::*;
