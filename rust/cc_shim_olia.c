// SPDX-License-Identifier: GPL-2.0
/* The same helpers as cc_shim.c, as an object of its own for mptcp_olia.ko. */
#include "cc_shim.c"
