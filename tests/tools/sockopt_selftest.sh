#!/usr/bin/env bash
# Runs the kernel tree's own MPTCP selftest mptcp_sockopt.sh (from $KSRC, with its
# helpers mptcp_connect, mptcp_sockopt, mptcp_inq and pm_nl_ctl compiled against the
# kernel's uapi headers in a tmpfs copy) and prints one line per subtest on stdout:
#
#   SOCKOPT-SELFTEST ok|fail|skip NAME
#
# (its TAP result lines, e.g. "transfer ipv4", "mark ipv6", "sockopt v4",
# "TCP_INQ: -t tcp"), then "SOCKOPT-SELFTEST exit RC". The selftest's own output
# goes to stderr.
#
#   sockopt_selftest.sh [--feature SYMBOL]...
#
# The selftest decides whether to run its SOL_MPTCP and TCP_INQ subtests by looking
# for upstream's function names in /proc/kallsyms ("mptcp_diag_fill_info",
# "mptcp_ioctl"): symbols of the built-in implementation, absent when MPTCP is a
# module (module symbols are listed as "NAME\t[module]", never matching its
# end-anchored patterns). --feature SYMBOL declares the feature present for that
# probe only (its other kallsyms probes are untouched); without it, the subtests
# report SKIP.
set -u
features=()
while [ $# -gt 0 ]; do
	case "$1" in
	--feature) features+=("$2"); shift 2 ;;
	*) echo "usage: $0 [--feature SYMBOL]..." >&2; exit 2 ;;
	esac
done
: "${KSRC:?}" "${KBUILD:?}"
src="$KSRC/tools/testing/selftests/net"
[ -f "$src/mptcp/mptcp_sockopt.sh" ] || { echo "no mptcp_sockopt.sh in $KSRC" >&2; exit 1; }
work=/tmp/selftests/net
rm -rf "$work"
mkdir -p "$work"
cp -r "$src/mptcp" "$src/lib.sh" "$src/lib" "$work/" 2>/dev/null || cp -r "$src/mptcp" "$src/lib.sh" "$work/"
[ -d "$src/../lib" ] && mkdir -p /tmp/selftests/lib && cp -r "$src/../lib/." /tmp/selftests/lib/ 2>/dev/null
[ -f "$src/../kselftest/ktap_helpers.sh" ] && mkdir -p /tmp/selftests/kselftest &&
	cp "$src/../kselftest/ktap_helpers.sh" /tmp/selftests/kselftest/
for helper in mptcp_connect mptcp_sockopt mptcp_inq pm_nl_ctl; do
	gcc -O2 -isystem "$KBUILD/usr/include" -I "$KSRC/tools/include" \
		-o "$work/mptcp/$helper" "$work/mptcp/$helper.c" >&2 ||
		{ echo "cannot build $helper" >&2; exit 1; }
done
cd "$work/mptcp"
if [ ${#features[@]} -gt 0 ]; then
	extra=$work/mptcp/kallsyms.features
	for f in "${features[@]}"; do printf '0000000000000000 T %s\n' "$f"; done >"$extra"
	# the probe is `grep -q " ${sym}" /proc/kallsyms`: also look in our list
	sed -i "s|grep -q \" \${sym}\" /proc/kallsyms\$|grep -qh \" \${sym}\" /proc/kallsyms $extra|" mptcp_lib.sh
	grep -q "$extra" mptcp_lib.sh || { echo "cannot adapt the kallsyms probe of mptcp_lib.sh" >&2; exit 1; }
fi
out=$(timeout 1200 ./mptcp_sockopt.sh 2>&1)
rc=$?
echo "$out" | sed 's/^/  /' >&2
# TAP: "ok 3 - mptcp_sockopt: sockopt v4 # time=12ms", "ok 5 - ...: TCP_INQ # SKIP ..."
echo "$out" | sed -nE 's/^(not ok|ok) [0-9]+ - mptcp_sockopt: (.*)$/\1\t\2/p' |
	while IFS=$'\t' read -r res rest; do
		name=${rest%% #*}
		name=${name% }
		if [ "$res" = "not ok" ]; then
			res=fail
		elif [[ $rest == *"# SKIP"* ]]; then
			res=skip
		fi
		echo "SOCKOPT-SELFTEST $res $name"
	done
echo "SOCKOPT-SELFTEST exit $rc"
