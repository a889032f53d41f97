#!/usr/bin/env bash
# Packs what `scripts/bench-sfu.sh` needs on a machine with no Rust toolchain and no network
# (a larger machine lent for a benchmark, say) into one archive:
#
#   scripts/bench-bundle.sh [ARCHIVE]     default target/bench-bundle.tar.xz
#
# It holds the release build of the benchmark (helsebro-bench, helsebro-sfu-server, udp-relay)
# and, where Debian's `janus` package is installed here, Janus with only its VideoRoom plugin and
# HTTP transport, every library they load (NSS's softoken and freebl too, which libsrtp2 opens
# at run time), `ip` and `taskset`, and this machine's dynamic loader. Each program runs through
# a wrapper that starts it with that loader and those libraries, so the other machine's own
# libraries never mix in; Janus also with `OPENSSL_CONF=/dev/null`, since a newer OpenSSL
# configuration there crashed this build of Janus at start.
#
# On the other machine, from a checkout of the same commit:
#   mkdir -p /tmp/b && tar -xJf bench-bundle.tar.xz -C /tmp/b
#   BENCH_BUNDLE=/tmp/b/bench-bundle scripts/bench-sfu.sh --latency
set -euo pipefail
cd "$(dirname "$0")/.."

archive=${1:-target/bench-bundle.tar.xz}
case "$archive" in /*) ;; *) archive="$PWD/$archive" ;; esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
b=$work/bench-bundle
mkdir -p "$b/release" "$b/bin" "$b/lib" "$b/exe"

cargo build --locked --release -p helsebro-bench
target=${CARGO_TARGET_DIR:-target}/release
for p in helsebro-bench helsebro-sfu-server udp-relay; do
  cp "$target/$p" "$b/release/"
done
strip "$b/release/"* 2>/dev/null || true

# The libraries a program or plugin loads, as ldd resolves them here, and the loader.
libs_of() { ldd "$1" | awk '/=> \//{print $3} /^\t\/.*ld-linux/{print $1}'; }
# Copies a library into the bundle once (several programs load the same ones).
take() { [ -e "$b/lib/$(basename "$1")" ] || cp -L "$1" "$b/lib/"; }

wrap() { # wrap NAME [ENV=VALUE...]: bin/NAME runs exe/NAME through the bundled loader
  local name=$1
  shift
  {
    echo '#!/bin/sh'
    echo 'd=$(dirname "$(readlink -f "$0")")/..'
    echo "exec env $* \"\$d/lib/$(basename "$loader")\" --library-path \"\$d/lib\" \"\$d/exe/$name\" \"\$@\""
  } >"$b/bin/$name"
  chmod +x "$b/bin/$name"
}

programs=()
for p in ip taskset; do
  if command -v "$p" >/dev/null 2>&1; then programs+=("$(command -v "$p")"); fi
done
janus_lib=/usr/lib/x86_64-linux-gnu/janus
if command -v janus >/dev/null 2>&1 && [ -d "$janus_lib/plugins" ]; then
  programs+=("$(command -v janus)")
  mkdir -p "$b/janus/plugins" "$b/janus/transports" "$b/janus/events" "$b/janus/loggers"
  cp -a "$janus_lib/plugins/libjanus_videoroom.so"* "$b/janus/plugins/"
  cp -a "$janus_lib/transports/libjanus_http.so"* "$b/janus/transports/"
else
  echo "!! Janus is not installed here (Debian's janus package): the bundle has none" >&2
fi
loader=
nss_dir=
for p in "${programs[@]}" "$b"/janus/plugins/*.so "$b"/janus/transports/*.so; do
  [ -e "$p" ] || continue
  for l in $(libs_of "$p"); do
    case "$l" in */ld-linux*) loader=$l ;; esac
    case "$l" in */libnss3.so) nss_dir=$(dirname "$l") ;; esac
    take "$l"
  done
done
# NSS opens its softoken and freebl at run time, from where libnss3 lies.
for n in libsoftokn3.so libfreebl3.so libfreeblpriv3.so libnssdbm3.so; do
  f=${nss_dir:-/nonexistent}/$n
  [ -e "$f" ] || continue
  take "$f"
  for l in $(libs_of "$f"); do take "$l"; done
done
[ -n "$loader" ] || { echo "no dynamic loader found through ldd" >&2; exit 1; }
take "$loader"
for p in "${programs[@]}"; do
  cp "$p" "$b/exe/"
  case "$(basename "$p")" in
    janus) wrap janus OPENSSL_CONF=/dev/null ;;
    *) wrap "$(basename "$p")" ;;
  esac
done
# Each wrapped program starts (janus --version exits 1 after printing it).
[ ! -x "$b/bin/taskset" ] || "$b/bin/taskset" -p $$ >/dev/null
[ ! -x "$b/bin/ip" ] || "$b/bin/ip" -V >/dev/null
if [ -x "$b/bin/janus" ]; then
  v=$("$b/bin/janus" --version 2>&1 || true)
  case "$v" in *"Janus version"*) ;; *) echo "the bundled Janus does not start: $v" >&2; exit 1 ;; esac
fi

mkdir -p "$(dirname "$archive")"
tar -C "$work" -cJf "$archive" bench-bundle
echo "==> wrote $archive ($(du -h "$archive" | cut -f1))"
