#!/usr/bin/env bash
# Helsebro's one test command. On a fresh Debian machine it installs what it needs
# (Debian's postgresql and chromium, the npm packages of the browser tests), then runs:
#   1. cargo fmt --check and clippy with warnings denied,
#   2. every unit and integration test on SQLite (the notification tests use a real SMTP
#      server, aiosmtpd, and Python's icalendar parser, both from PyPI),
#   3. Helsebro's FHIR output (every resource kind it builds) against the official FHIR R4
#      JSON schema (an npm package),
#   4. the integration suite again on a throwaway PostgreSQL server in a temporary folder,
#   5. the browser tests (Chromium, axe-core) inside a loopback-only network namespace,
#   6. a short run of the SFU benchmark harness.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# Every test stage's output also goes to this log, so the totals can be added up at the end.
results=$(mktemp /tmp/helsebro-test-results.XXXXXX)
tally() { tee -a "$results"; }

# ---- what the tests need from Debian ------------------------------------------------------
missing=()
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
command -v chromium >/dev/null || missing+=(chromium)
command -v ip >/dev/null || missing+=(iproute2)
command -v curl >/dev/null || missing+=(curl)
command -v unshare >/dev/null || missing+=(util-linux)
command -v nft >/dev/null || missing+=(nftables)
if [ ${#missing[@]} -gt 0 ]; then
  step "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python packages for the notification tests: a real SMTP server and an iCalendar parser.
if ! python3 -c 'import aiosmtpd, icalendar' 2>/dev/null; then
  step "installing aiosmtpd and icalendar from PyPI"
  python3 -m pip install --quiet --disable-pip-version-check aiosmtpd icalendar
fi

if cargo nextest --version >/dev/null 2>&1; then
  run_tests() { cargo nextest run --locked --no-fail-fast "$@"; }
else
  run_tests() { cargo test --locked --no-fail-fast "$@"; }
fi

# ---- 1. format and lint -------------------------------------------------------------------
step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy (warnings are errors)"
cargo clippy --locked --workspace --all-targets -- -D warnings

# ---- 2. everything on SQLite --------------------------------------------------------------
step "unit and integration tests on SQLite"
HELSEBRO_TEST_DB=sqlite run_tests --workspace 2>&1 | tally

# ---- 3. FHIR output against the R4 JSON schema --------------------------------------------
step "FHIR R4 output against the official JSON schema"
(cd crates/followup/fhir-schema && npm ci --no-audit --no-fund --loglevel=error)
cargo run --locked -q -p helsebro-followup --example fhir-samples |
  node crates/followup/fhir-schema/validate.mjs | tail -n 3 | tally

# ---- 4. the integration suite on PostgreSQL -----------------------------------------------
step "integration tests on PostgreSQL"
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
pgdir=$(mktemp -d /tmp/helsebro-pg.XXXXXX)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres:postgres "$pgdir"
stop_pg() {
  as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pgdir"
}
trap stop_pg EXIT
as_pg "$pgbin/initdb" -D "$pgdir/data" -A trust -U postgres -E UTF8 >/dev/null
pgport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w \
  -o "-k $pgdir -p $pgport -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null
export HELSEBRO_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$pgport/postgres"
HELSEBRO_TEST_DB=postgres run_tests -p helsebro 2>&1 | tally
stop_pg
trap - EXIT

# ---- 5. browser tests ---------------------------------------------------------------------
step "browser tests (Chromium in a loopback-only network namespace)"
cargo build --locked -p helsebro
bash scripts/browser-tests.sh 2>&1 | tally

# ---- 6. the SFU benchmark harness, briefly ------------------------------------------------
# A smoke run of scripts/bench-sfu.sh (raw relay, Janus, Helsebro): fails if the harness breaks,
# asserts no timing. The real benchmark is `scripts/bench-sfu.sh` on its own.
step "SFU benchmark harness (short run, no timing asserted)"
bash scripts/bench-sfu.sh --short

# One closing line with the totals of every stage (cargo test, nextest and node --test).
sum() { grep -hoE "$1" "$results" | grep -oE '[0-9]+' | awk '{ n += $1 } END { print n + 0 }'; }
passed=$(sum '(^# pass [0-9]+|[0-9]+ passed)')
failed=$(sum '(^# fail [0-9]+|[0-9]+ failed)')
rm -f "$results"
step "all tests passed"
echo "${passed:-0} passed, ${failed:-0} failed"
