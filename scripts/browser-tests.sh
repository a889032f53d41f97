#!/usr/bin/env bash
# Browser tests: Debian's Chromium driven by playwright-core, accessibility checked with axe.
#
#   cargo build -p helsebro && scripts/browser-tests.sh [extra node --test arguments]
#
# Runs as root on Debian 12 (apt-get installs chromium when missing; Node.js 20 or newer and
# npm must be there already). The tests run in a network namespace with only the loopback
# interface: Chromium's WebRTC would otherwise use the external interface and send mDNS.
#
# Environment:
#   HELSEBRO_BIN  the server binary (default: target/debug/helsebro)
#   CHROMIUM_BIN  the browser (default: /usr/bin/chromium)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# A relative HELSEBRO_BIN is relative to where the script was started.
if [[ -n "${HELSEBRO_BIN:-}" && "$HELSEBRO_BIN" != /* ]]; then
	HELSEBRO_BIN="$PWD/$HELSEBRO_BIN"
fi
cd "$repo"
dir="tests/browser"

die() {
	echo "browser-tests: $*" >&2
	exit 1
}

# (a) Chromium from Debian, ip(8) for the network namespace, and nft(8) to block UDP in it.
chromium_bin="${CHROMIUM_BIN:-/usr/bin/chromium}"
missing=()
if [[ ! -x "$chromium_bin" ]]; then
	[[ "$chromium_bin" == /usr/bin/chromium ]] || die "CHROMIUM_BIN=$chromium_bin is not an executable"
	missing+=(chromium)
fi
command -v ip >/dev/null || missing+=(iproute2)
command -v unshare >/dev/null || missing+=(util-linux)
command -v nft >/dev/null || missing+=(nftables)
if ((${#missing[@]} > 0)); then
	[[ $EUID -eq 0 ]] || die "missing ${missing[*]}; run as root to install, or: apt-get install ${missing[*]}"
	echo "browser-tests: installing ${missing[*]} with apt-get"
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

# Node.js: playwright-core needs 20 or newer; node --test is built in.
command -v node >/dev/null || die "node is missing (Node.js 20 or newer is needed)"
command -v npm >/dev/null || die "npm is missing"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
((node_major >= 20)) || die "Node.js $(node --version) is too old; 20 or newer is needed"

# (b) npm packages, exactly as locked.
if [[ ! -d "$dir/node_modules" || "$dir/package-lock.json" -nt "$dir/node_modules" ]]; then
	echo "browser-tests: npm ci in $dir"
	(cd "$dir" && npm ci --no-audit --no-fund)
	touch "$dir/node_modules"
fi

# (c) The server, built beforehand.
export HELSEBRO_BIN="${HELSEBRO_BIN:-$repo/target/debug/helsebro}"
[[ -x "$HELSEBRO_BIN" ]] || die "no server binary at $HELSEBRO_BIN: build it first with 'cargo build -p helsebro', or set HELSEBRO_BIN"
if [[ -n "$(find crates -name tests -prune -o -type f -newer "$HELSEBRO_BIN" -print -quit 2>/dev/null)" ]]; then
	echo "browser-tests: warning: $HELSEBRO_BIN is older than some sources under crates/; run 'cargo build -p helsebro'" >&2
fi
export CHROMIUM_BIN="$chromium_bin"

# (d) The tests, in a loopback-only network namespace.
rm -rf "$dir/artifacts"
exec unshare -n bash -c 'set -euo pipefail
ip link set lo up
cd "$1"
shift
exec node --test --test-concurrency=1 "$@" ./*.test.mjs' browser-tests "$dir" "$@"
