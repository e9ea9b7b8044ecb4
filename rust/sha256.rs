// SPDX-License-Identifier: GPL-2.0

//! The protocol core's hash interface, backed by the kernel's crypto library.

use crate::bindings;
use crate::proto::crypto::{Sha256, SHA256_LEN};

/// SHA-256 and HMAC-SHA256 from `lib/crypto` (`sha256()`, `hmac_sha256_usingrawkey()`).
pub(crate) struct KernelSha256;

impl Sha256 for KernelSha256 {
    fn digest(data: &[u8]) -> [u8; SHA256_LEN] {
        let mut out = [0u8; SHA256_LEN];
        // SAFETY: `data` is valid for its length and `out` has room for a digest.
        unsafe { bindings::sha256(data.as_ptr(), data.len(), out.as_mut_ptr()) };
        out
    }

    fn hmac(key: &[u8], msg: &[u8]) -> [u8; SHA256_LEN] {
        let mut out = [0u8; SHA256_LEN];
        // SAFETY: both inputs are valid for their lengths and `out` has room for a digest.
        unsafe {
            bindings::hmac_sha256_usingrawkey(
                key.as_ptr(),
                key.len(),
                msg.as_ptr(),
                msg.len(),
                out.as_mut_ptr(),
            )
        };
        out
    }
}
