#!/usr/bin/env bash
# The SFU's work per forwarded packet, in instructions, counted by callgrind: a meeting of 12 in
# memory (crates/media/src/tests.rs, `forwarding_cost_probe`), the SFU polled after every
# datagram. Instruction counts repeat to within a fraction of a percent, where timings on a
# shared machine vary by a third, so this is the measure for comparing two versions of the
# per-packet path. It is not the benchmark (scripts/bench-sfu.sh): no kernel, no sockets, and
# the in-memory browsers' work is left out.
#
#   scripts/sfu-cost-probe.sh            # build (release) and count, one meeting of 12
#   scripts/sfu-cost-probe.sh 2          # the same 12 participants in 1:1 calls (rooms of 2)
#
# Needs valgrind (Debian's `valgrind`).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ "${1:-12}" =~ ^([2-9]|1[0-2])$ ]] || { echo "room size: 2 to 12 (default 12)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "valgrind is needed: apt-get install valgrind" >&2; exit 1; }
bin=$(cargo test --release -p helsebro-media --lib --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for l in sys.stdin:
    m=json.loads(l)
    if m.get("reason")=="compiler-artifact" and m.get("executable") and m["target"]["name"]=="helsebro_media":
        print(m["executable"])')
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
SFU_PROBE_ROOM_SIZE="${1:-12}" valgrind --tool=callgrind --callgrind-out-file="$out/cg" --collect-atstart=no \
    --toggle-collect='helsebro_media::tests::cost_probe_window' \
    "$bin" --ignored --exact tests::forwarding_cost_probe --nocapture --test-threads 1 \
    2>"$out/log" | tee "$out/stdout" | grep "cost probe"
fwd=$(sed -n 's/.*received, \([0-9]*\) forwarded.*/\1/p' "$out/stdout")
callgrind_annotate --inclusive=yes --threshold=100 "$out/cg" >"$out/annotated"
count() { # inclusive instructions of the function named $1; fails when callgrind has none
    local n
    n=$(awk -v f=":$1 [" 'index($0, f) {gsub(",", "", $1); print $1; exit}' "$out/annotated")
    [ -n "$n" ] || { echo "no count for $1 in callgrind's output (inlined or renamed?)" >&2; return 1; }
    echo "$n"
}
[ -n "$fwd" ] || { echo "the probe printed no packet counts" >&2; exit 1; }
poll=$(count 'helsebro_media::sfu::Sfu::poll')
recv=$(count 'helsebro_media::sfu::Sfu::handle_receive')
echo "Sfu::poll:           $poll instructions"
echo "Sfu::handle_receive: $recv instructions"
python3 -c "print(f'per forwarded packet: {($poll+$recv)/$fwd:.0f} instructions ($fwd forwarded)')"
