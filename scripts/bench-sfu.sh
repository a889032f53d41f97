#!/usr/bin/env bash
# The SFU benchmark: the raw UDP relay (the machine's limit), Janus VideoRoom and Helsebro's SFU,
# side by side in one run, with the same load client (bench/sfu-bench). Writes docs/benchmarks.md.
#
#   scripts/bench-sfu.sh            full run (release build, about 20 minutes: 9 scenarios, 3
#                                   servers, 2 rounds), writes its section of docs/benchmarks.md
#   scripts/bench-sfu.sh --soak     Helsebro alone with a meeting of 12 for 10 minutes, resident
#                                   memory sampled every 30 s; writes the soak section
#   scripts/bench-sfu.sh --scale    Helsebro alone with 8 meetings of 12, once per media worker
#                                   count (1, 2, 4, … up to half the cores less one), the server
#                                   on that many cores and the load client on the other half;
#                                   needs 6 cores or more; writes the scaling section
#   scripts/bench-sfu.sh --latency  the load levels only, with a fourth level of 57 participants
#                                   (all three servers, 2 rounds, about 9 minutes), the server
#                                   on core 1 and the load client in 5 threads on cores 2 and up,
#                                   so that the client's own queue stays out of the latency;
#                                   needs 6 cores or more; writes the section "Latency under
#                                   load, the load client on cores of its own"
#   scripts/bench-sfu.sh --short    smoke run for the test command (debug build, under 2 minutes):
#                                   checks that the harness works, asserts no timing, and writes
#                                   its table to target/bench-sfu-short.md instead
#
# Extra arguments after the mode go to helsebro-bench (e.g. --rounds 1, --scenarios 1:1,load).
#
# The server under test runs pinned to core 1 and the load client to core 0 (taskset). Janus comes
# from Debian's `janus` package, installed here when missing; in short mode only, a failed
# install skips Janus with a message instead of failing.
set -euo pipefail
cd "$(dirname "$0")/.."

short=0
soak=0
scale=0
latency=0
case "${1:-}" in
  --short) short=1; shift ;;
  --soak) soak=1; shift ;;
  --scale) scale=1; shift ;;
  --latency) latency=1; shift ;;
esac

# BENCH_BUNDLE: an unpacked `scripts/bench-bundle.sh` archive (for a machine with no toolchain
# or network): its binaries instead of a build, and its Janus, ip and taskset.
if [ -n "${BENCH_BUNDLE:-}" ]; then
  BENCH_BUNDLE=$(cd "$BENCH_BUNDLE" && pwd)
  export BENCH_NO_BUILD=1 CARGO_TARGET_DIR=$BENCH_BUNDLE PATH="$BENCH_BUNDLE/bin:$PATH"
  if [ -d "$BENCH_BUNDLE/janus" ]; then export BENCH_JANUS_LIB=$BENCH_BUNDLE/janus; fi
fi

# Builds the benchmark; with BENCH_NO_BUILD=1 (a machine without a Rust toolchain or network),
# the binaries must already be in target/.
build() {
  if [ -z "${BENCH_NO_BUILD:-}" ]; then
    cargo build --locked "$@" -p helsebro-bench
  fi
}

if [ $scale = 0 ] && ! command -v janus >/dev/null 2>&1; then
  echo "==> installing Debian's janus package"
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends janus >/dev/null; }; then
    if [ $short = 1 ] || [ $latency = 1 ]; then
      echo "!! could not install janus: this run skips Janus" >&2
    else
      echo "could not install janus" >&2
      exit 1
    fi
  fi
fi
command -v taskset >/dev/null || { echo "taskset (util-linux) is needed" >&2; exit 1; }

servers=helsebro,relay
command -v janus >/dev/null 2>&1 && servers=janus,helsebro,relay

# Janus gathers no ICE candidates on loopback, and nothing of the benchmark should leave the
# machine: run it in a network namespace of its own with a veth address (as root), or else on
# 127.0.0.1 without Janus.
ns=()
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null 2>&1 && unshare -n true 2>/dev/null; then
  # A veth pair, or a dummy interface where the kernel has no veth: either way the address is
  # local and its packets go over loopback inside the namespace.
  ns=(unshare -n bash -c 'ip link set lo up &&
    { { ip link add bench0 type veth peer name bench1 && ip link set bench1 up; } ||
      ip link add bench0 type dummy; } &&
    ip addr add 10.99.0.1/24 dev bench0 && ip link set bench0 up &&
    BENCH_IP=10.99.0.1 BENCH_IFACE=bench0 exec "$@"' bench)
elif [ "$servers" != helsebro,relay ] && [ $scale = 0 ]; then
  echo "!! not root or no iproute2 (no network namespace): Janus is skipped" >&2
  servers=helsebro,relay
fi

cores=$(nproc)
pin_client=()
server_core=()
if [ "$cores" -ge 2 ]; then
  pin_client=(taskset -c 0)
  server_core=(--server-core 1)
fi

if [ $scale = 1 ]; then
  if [ "$cores" -lt 6 ]; then
    echo "the scaling run needs 6 cores or more (this machine has $cores)" >&2
    exit 1
  fi
  half=$((cores / 2))
  workers=1
  w=2
  while [ $w -le $((half - 1)) ]; do workers="$workers,$w"; w=$((w * 2)); done
  build --release
  bin=${CARGO_TARGET_DIR:-target}/release/helsebro-bench
  "${ns[@]}" taskset -c "$half-$((cores - 1))" "$bin" --scale "$workers" \
    --server-core "1-$((half - 1))" --client-threads "$half" \
    --command "scripts/bench-sfu.sh --scale${*:+ $*}" --out docs/benchmarks.md "$@"
  echo "==> wrote the scaling section of docs/benchmarks.md"
elif [ $latency = 1 ]; then
  if [ "$cores" -lt 6 ]; then
    echo "the latency run needs 6 cores or more (this machine has $cores)" >&2
    exit 1
  fi
  # The client on every core but 0, 1 (the server's) and core 1's hyperthread siblings.
  expand() { local p; for p in ${1//,/ }; do seq "${p%-*}" "${p#*-}"; done; }
  siblings=$(cat /sys/devices/system/cpu/cpu1/topology/thread_siblings_list 2>/dev/null || echo 1)
  client_cores=$(for c in $(seq 2 $((cores - 1))); do
    expand "$siblings" | grep -qx "$c" || echo "$c"; done | paste -sd, -)
  build --release
  bin=${CARGO_TARGET_DIR:-target}/release/helsebro-bench
  "${ns[@]}" taskset -c "$client_cores" "$bin" --latency --servers "$servers" \
    --server-core 1 --client-threads 5 \
    --command "scripts/bench-sfu.sh --latency${*:+ $*}" --out docs/benchmarks.md "$@"
  echo "==> wrote the latency section of docs/benchmarks.md"
elif [ $short = 1 ]; then
  build
  bin=${CARGO_TARGET_DIR:-target}/debug/helsebro-bench
  out=${CARGO_TARGET_DIR:-target}/bench-sfu-short.md
  rm -f "$out"
  "${ns[@]}" "${pin_client[@]}" "$bin" --short --servers "$servers" "${server_core[@]}" \
    --command "scripts/bench-sfu.sh --short" --out "$out" "$@"
  echo "==> SFU benchmark harness works (short run; table in $out)"
elif [ $soak = 1 ]; then
  build --release
  bin=${CARGO_TARGET_DIR:-target}/release/helsebro-bench
  "${ns[@]}" "${pin_client[@]}" "$bin" --soak 600 "${server_core[@]}" \
    --command "scripts/bench-sfu.sh --soak" --out docs/benchmarks.md "$@"
  echo "==> wrote the soak section of docs/benchmarks.md"
else
  build --release
  bin=${CARGO_TARGET_DIR:-target}/release/helsebro-bench
  "${ns[@]}" "${pin_client[@]}" "$bin" --servers "$servers" "${server_core[@]}" \
    --command "scripts/bench-sfu.sh${*:+ $*}" --out docs/benchmarks.md "$@"
  echo "==> wrote docs/benchmarks.md"
  grep 'Helsebro/Janus packets per CPU-second' docs/benchmarks.md || true
fi
