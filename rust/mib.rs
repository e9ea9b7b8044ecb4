// SPDX-License-Identifier: GPL-2.0

//! MPTcpExt counters (interim: the per-netns implementation lands from branch `mib`).

use crate::bindings;

/// Counters the socket layer moves today, upstream's names.
#[allow(clippy::upper_case_acronyms, non_camel_case_types, dead_code)]
#[derive(Clone, Copy)]
pub(crate) enum Mib {
    MPCapableSYNRX,
    MPCapableSYNTX,
    MPCapableACKRX,
    MPCapableFallbackACK,
    MPCapableSYNACKRX,
    MPCapableFallbackSYNACK,
    MPCapableSYNTXDrop,
    DSSNotMatching,
    DataCsumErr,
    DssFallback,
    DuplicateData,
    InfiniteMapRx,
    MPFastcloseRx,
    MPRstRx,
    OFOQueue,
}

/// Counts one event in `net`.
pub(crate) fn inc(_net: *const bindings::net, _mib: Mib) {}
