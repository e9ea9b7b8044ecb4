// SPDX-License-Identifier: GPL-2.0

//! TCP socket states (`include/net/tcp_states.h`), as `sk_state` holds them: one
//! definition for the meta socket's state machine and the subflows'.

use kernel::ffi::c_int;

pub(crate) const TCP_ESTABLISHED: c_int = 1;
pub(crate) const TCP_SYN_SENT: c_int = 2;
pub(crate) const TCP_SYN_RECV: c_int = 3;
pub(crate) const TCP_FIN_WAIT1: c_int = 4;
pub(crate) const TCP_FIN_WAIT2: c_int = 5;
pub(crate) const TCP_CLOSE: c_int = 7;
pub(crate) const TCP_CLOSE_WAIT: c_int = 8;
pub(crate) const TCP_LISTEN: c_int = 10;
pub(crate) const TCP_CLOSING: c_int = 11;

/// Whether a socket in `state` still sends ACKs.
pub(crate) fn acks_in(state: c_int) -> bool {
    matches!(
        state,
        TCP_ESTABLISHED | TCP_CLOSE_WAIT | TCP_FIN_WAIT1 | TCP_FIN_WAIT2
    )
}
