# SPDX-License-Identifier: GPL-2.0
# mptcp-rs: Multipath TCP as a loadable Rust kernel module.
#
#   make demo      set up, build, boot the custom kernel in QEMU and show what works
#   make check     all tests (host, KUnit, guest); ends with "N passed, N failed"
#
#   make bench     throughput side by side (TCP, upstream MPTCP), ratios, JSON + PNG
#
# Other targets: deps, kernels, module, host-test, clean. Big artefacts (kernel source
# and builds) live in $(MPTCP_RS_CACHE), default ~/.cache/mptcp-rs; module builds and
# test logs in build/.

.PHONY: all deps kernels module host-test check demo bench clean help

all: module

help:
	@sed -n '2,10p' Makefile

deps:
	scripts/setup-deps

kernels: deps
	scripts/build-kernel custom
	scripts/build-kernel custom --debug
	scripts/build-kernel reference

module: deps
	scripts/build-module custom

host-test:
	cd host && cargo test

check: deps
	tests/check

demo: deps
	scripts/demo

bench: deps
	scripts/bench

clean:
	rm -rf build host/target
