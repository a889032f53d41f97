#!/usr/bin/env bash
# Where the SFU server's CPU time and memory go, in one scenario of the benchmark
# (helsebro-bench, Helsebro's server alone, pinned to core 1 as in scripts/bench-sfu.sh).
#
#   scripts/sfu-profile.sh cpu [scenario]    samples the server with perf (cpu-clock, 1 kHz) for
#                                            8 s of the scenario's window, and prints the share
#                                            of each part (kernel, str0m, SRTP crypto, libc,
#                                            helsebro_media, …) and the functions on top
#   scripts/sfu-profile.sh heap [scenario]   runs the server under heaptrack, and prints its heap
#                                            at its peak by allocating function, in KB per
#                                            participant
#
# scenario: one of helsebro-bench's (default meeting-12). Needs perf (Debian's linux-perf) for
# cpu, heaptrack for heap. This is for finding where the cost is, not for measuring it: perf
# takes some of the server's time, and under heaptrack the CPU and memory that the benchmark
# reads from /proc are heaptrack's, so the benchmark's own figures from these runs are not
# results. The measures are scripts/bench-sfu.sh and, for the per-packet path,
# scripts/sfu-cost-probe.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
scenario=${2:-meeting-12}
case "$mode" in
  cpu) command -v perf >/dev/null || { echo "perf is needed (linux-perf)" >&2; exit 1; } ;;
  heap) command -v heaptrack >/dev/null || { echo "heaptrack is needed" >&2; exit 1; } ;;
  *) sed -n '2,18p' "$0" >&2; exit 1 ;;
esac
cargo build --locked --release -q -p helsebro-bench
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
server=$PWD/target/release/helsebro-sfu-server
bench=(target/release/helsebro-bench --servers helsebro --rounds 1 --scenarios "$scenario"
  --server-core 1 --out "$out/bench.md")

# Every process of this run (the benchmark, the server, heaptrack's) carries SFU_PROFILE_RUN=$out
# in its environment, so that only this run's server is looked for and stopped.
ours() {
  grep -lsz "^SFU_PROFILE_RUN=$out\$" /proc/[0-9]*/environ | cut -d/ -f3 || true
}
our_server() {
  local p
  for p in $(ours); do
    if [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$server" ]; then echo "$p"; fi
  done
}

# The participants of the scenario, from the benchmark's table (its fourth column).
participants() {
  awk -F'|' '/\| Helsebro SFU \|/ {gsub(/ /, "", $5); print $5; exit}' "$out/bench.md"
}

if [ "$mode" = cpu ]; then
  SFU_PROFILE_RUN=$out "${bench[@]}" >"$out/bench.log" 2>&1 &
  job=$!
  # Past the joins and the warm-up, into the window.
  sleep 10
  pid=$(our_server | head -1)
  [ -n "$pid" ] || { cat "$out/bench.log" >&2; exit 1; }
  perf record -q -e cpu-clock -F 1000 -p "$pid" -o "$out/perf.data" -- sleep 8 >/dev/null
  wait "$job" || { cat "$out/bench.log" >&2; exit 1; }
  grep forwarded "$out/bench.log"
  perf report -i "$out/perf.data" --no-children --sort dso,sym 2>/dev/null |
    grep -E '^ +[0-9]' >"$out/symbols"
  python3 - "$out/symbols" "$scenario" <<'PY'
import collections, re, sys
parts = collections.Counter()
top = []
for line in open(sys.argv[1]):
    m = re.match(r'\s*([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(.*)', line)
    if not m:
        continue
    pct, dso, space, sym = float(m[1]), m[2], m[3], m[4].strip()
    if space == 'k':
        part = 'kernel (UDP send and receive, wake-ups)'
    elif any(x in sym for x in ('aws_lc', 'aesni', 'gcm', 'aes_hw', 'str0m_aws_lc')):
        part = 'SRTP and DTLS crypto (aws-lc)'
    elif 'libc' in dso:
        part = 'libc (memcpy, malloc, system call stubs)'
    elif re.match(r'<?(str0m|dimpl|is::|sctp)', sym):
        part = 'str0m (and its ICE, DTLS, SCTP crates)'
    elif 'helsebro' in sym:
        part = 'helsebro_media'
    elif re.match(r'<?(tokio|mio|quinn)', sym):
        part = 'tokio, quinn-udp'
    else:
        part = 'std: hashing, collections, time (inlined into the above, mostly str0m)'
    parts[part] += pct
    top.append((pct, sym))
print(f"\nServer CPU by part, {sys.argv[2]} (perf cpu-clock samples):")
for part, pct in parts.most_common():
    print(f"  {pct:5.1f}%  {part}")
print("\nFunctions on top (self time):")
for pct, sym in sorted(top, reverse=True)[:15]:
    print(f"  {pct:5.1f}%  {sym[:110]}")
PY
  exit 0
fi

# heap: the server under heaptrack, through the benchmark's wrapper hook. heaptrack writes its
# own lines on stdout, where the benchmark waits for the server's "ready" line: only that passes.
cat >"$out/wrap" <<EOF
#!/bin/sh
heaptrack -o "$out/heap" "\$@" 2>>"$out/heaptrack.log" | grep --line-buffered '^ready'
EOF
chmod +x "$out/wrap"
BENCH_HELSEBRO_WRAPPER=$out/wrap SFU_PROFILE_RUN=$out "${bench[@]}" >"$out/bench.log" 2>&1 || {
  cat "$out/bench.log" >&2
  exit 1
}
# The benchmark stops the wrapper; the server itself ends here, and heaptrack writes its file.
for p in $(our_server); do kill -TERM "$p"; done
for _ in $(seq 60); do
  [ -n "$(ours)" ] || break
  sleep 1
done
n=$(participants)
[ -n "$n" ] && [ "$n" -gt 0 ] || { echo "no participant count in the benchmark's table" >&2; exit 1; }
heaptrack_print -f "$out"/heap*.zst --print-peaks 0 --print-allocators 0 --print-leaks 0 \
  --print-temporary 0 -F "$out/stacks" --flamegraph-cost-type peak >/dev/null
python3 - "$out/stacks" "$n" "$scenario" <<'PY'
import collections, re, sys
n = int(sys.argv[2])
sites = collections.Counter()
total = 0
mine = ('str0m', 'helsebro', 'dimpl', 'aws_lc', 'is::', 'tokio', 'quinn', 'sctp')
for line in open(sys.argv[1]):
    stack, _, size = line.rstrip().rpartition(' ')
    size = int(size)
    total += size
    frames = [re.sub(r'::h[0-9a-f]{16}$', '', f) for f in stack.split(';')]
    # The allocating function: the frame nearest the allocation that is in one of the crates.
    site = next((f for f in reversed(frames) if any(m in f for m in mine)), '(other)')
    site = site.replace('$C$', ',').replace('$LT$', '<').replace('$GT$', '>').replace('$u20$', ' ')
    sites[site] += size
print(f"\nServer heap at its peak, {sys.argv[3]}: {total / 1024:.0f} KB, "
      f"{total / 1024 / n:.0f} KB per participant ({n} participants), by allocating function:")
for site, size in sites.most_common(20):
    print(f"  {size / 1024 / n:6.1f} KB  {site[:110]}")
PY
