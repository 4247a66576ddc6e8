#!/usr/bin/env bash
# Runs a command under strace (following every child: kube-apiserver, kwok, git, OPA, ...) and lists
# every IPv4/IPv6 address it connected or sent to. Exits 1 if one lies outside 127.0.0.0/8 and ::1, or
# if anything looked a name up by DNS (port 53 anywhere, or a resolver socket), else with the command's
# own exit code.
# usage: bash scripts/trace-dials.sh npm run demo
set -uo pipefail
command -v strace >/dev/null || { echo "trace-dials: strace is needed (apt-get install strace)" >&2; exit 2; }
[ $# -gt 0 ] || { echo "usage: bash scripts/trace-dials.sh COMMAND [ARGS...]" >&2; exit 2; }
trace=$(mktemp)
# seccomp-bpf stops only on the traced calls, so the traced programs run at nearly full speed.
strace -f --seccomp-bpf -qq -e trace=connect,sendto,sendmsg,sendmmsg -e signal=none -o "$trace" -- "$@"
code=$?
# Addresses as strace prints them: inet_addr("a.b.c.d") and inet_pton(AF_INET6, "x::y", ...).
grep -oE 'inet_addr\("[0-9.]+"\)|inet_pton\(AF_INET6, "[^"]+"' "$trace" | sed -E 's/.*"([^"]+)".*/\1/' | sort | uniq -c | sort -rn > "$trace.addrs"
# DNS by any route: port 53 at any address (a stub resolver on 127.0.0.53 included), or nscd/resolved sockets.
# (a resolver socket that does not exist, as glibc probes nscd for every lookup, is no lookup).
dns=$(grep -E 'sin6?_port=htons\(53\)|sun_path="(/run/systemd/resolve|/var/run/nscd|/run/nscd)' "$trace" | grep -cvE 'ENOENT|ECONNREFUSED')
rm -f "$trace"
calls=$(awk '{ s += $1 } END { print s + 0 }' "$trace.addrs")
outside=$(awk '$2 !~ /^127\./ && $2 != "::1" && $2 !~ /^::ffff:127\./ && $2 != "0.0.0.0" && $2 != "::"' "$trace.addrs")
echo "trace-dials: $calls connect/send calls with an IP address, to $(wc -l < "$trace.addrs") distinct addresses:" >&2
sed 's/^/  /' "$trace.addrs" >&2
rm -f "$trace.addrs"
if [ "$dns" -gt 0 ]; then
  echo "trace-dials: FAILED: $dns DNS lookups (port 53 or a resolver socket)" >&2
  exit 1
fi
if [ -n "$outside" ]; then
  echo "trace-dials: FAILED: addresses outside loopback:" >&2
  echo "$outside" | sed 's/^/  /' >&2
  exit 1
fi
echo "trace-dials: every address was loopback" >&2
exit "$code"
