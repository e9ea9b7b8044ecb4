// SPDX-License-Identifier: GPL-2.0

//! Module-local bindings to the kernel's networking headers.
//!
//! `kernel::bindings` does not cover `struct sock`, `struct proto`, `struct net` and the
//! MPTCP dispatch layer, so the build runs bindgen over `include/mptcp_rs_bindings.h`
//! (see `Kbuild`). Only the safe wrappers in this crate use these items directly.

#![allow(
    clippy::all,
    dead_code,
    missing_docs,
    non_camel_case_types,
    non_upper_case_globals,
    non_snake_case,
    improper_ctypes,
    unreachable_pub,
    unsafe_op_in_unsafe_fn,
    unnecessary_transmutes,
    clippy::as_underscore,
    clippy::cast_lossless,
    clippy::ptr_as_ptr,
    clippy::ref_as_ptr,
    clippy::undocumented_unsafe_blocks
)]

use pin_init::{MaybeZeroable, Zeroable};

// The kernel's bindgen parameters blocklist these so they map to Rust's sizes.
type __kernel_size_t = usize;
type __kernel_ssize_t = isize;
type __kernel_ptrdiff_t = isize;

// SAFETY: `__BindgenBitfieldUnit<Storage>` is a newtype around `Storage`.
unsafe impl<Storage> Zeroable for __BindgenBitfieldUnit<Storage> where Storage: Zeroable {}

include!("bindings_generated.rs");
