# scripts/lib/common.sh - shared by scripts/run, scripts/test and scripts/bench:
# install what the build needs (Debian packages), bootstrap autotools, build.
# Source it; it sets ROOT (the checkout) and BUILD (the build folder).

set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}

# Debian packages the project needs: libraries (-dev), build tools, test tools.
PACKAGES=(build-essential pkg-config autoconf automake libtool
  libh2o-evloop-dev libssl-dev libsqlite3-dev libcurl4-openssl-dev libjansson-dev
  libyaml-dev libsodium-dev libcmocka-dev curl clang libclang-rt-14-dev)

say() { printf '==> %s\n' "$*" >&2; }

# Install missing packages with apt-get when root; otherwise print the exact command and fail.
ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ]; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "missing Debian packages; run:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
}

# Bootstrap autotools when needed, configure into $1 (default $BUILD) with the
# remaining arguments, and build there.
build_in() {
  local dir=${1:-$BUILD}; shift || true
  if [ ! -x "$ROOT/configure" ] || [ "$ROOT/configure.ac" -nt "$ROOT/configure" ] \
     || [ "$ROOT/Makefile.am" -nt "$ROOT/Makefile.in" ]; then
    say "bootstrapping autotools"
    (cd "$ROOT" && autoreconf -fi >/dev/null 2>&1) || (cd "$ROOT" && autoreconf -fi)
  fi
  mkdir -p "$dir"
  local stamp="$dir/.configure-args" args="$*"
  if [ ! -f "$dir/Makefile" ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$args" ]; then
    say "configuring $dir $args"
    (cd "$dir" && "$ROOT/configure" "$@" >configure.out 2>&1) || { cat "$dir/configure.out" >&2; exit 1; }
    echo "$args" >"$stamp"
  fi
  say "building in $dir"
  make -C "$dir" -j"$(nproc)" >"$dir/make.out" 2>&1 || { tail -50 "$dir/make.out" >&2; exit 1; }
}
