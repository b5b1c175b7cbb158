#!/usr/bin/env bash
# Runs every check and test of the workspace: formatting, clippy (warnings are errors), and
# all tests -- unit, test vectors, simulation, and the integration tests that drive the real
# `strowger` binary with SIPp and baresip on loopback ports, and a real SMTP server.
#
# Installs what the integration tests need when it is missing (Debian or Ubuntu; as root,
# or through sudo when not root). Arguments, if any, replace `--workspace` in `cargo test`.
#
#   scripts/test-all.sh
#   scripts/test-all.sh -p strowger --test malformed
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*"; }

# --- system packages ---------------------------------------------------------------------
# tool:package(s), first package that exists wins (baresip-core has the binary and the
# modules without the GTK front-end the `baresip` metapackage pulls in; aiosmtpd is the
# SMTP server the voicemail email tests deliver to).
tools=("sipp:sip-tester" "baresip:baresip-core baresip" "sox:sox" "aiosmtpd:python3-aiosmtpd")
missing_tools=()
for entry in "${tools[@]}"; do
  command -v "${entry%%:*}" >/dev/null 2>&1 || missing_tools+=("$entry")
done

if ((${#missing_tools[@]})); then
  if [ "$(id -u)" -eq 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    echo "error: missing ${missing_tools[*]%%:*}; run this script as root (or install sudo)" >&2
    exit 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: missing ${missing_tools[*]%%:*} and no apt-get here; install them by hand" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  updated=no
  packages=()
  for entry in "${missing_tools[@]}"; do
    chosen=""
    for attempt in 1 2; do
      for pkg in ${entry#*:}; do
        if apt-cache show "$pkg" >/dev/null 2>&1; then
          chosen=$pkg
          break
        fi
      done
      # The package lists are refreshed once, and only if a package is not known yet.
      if [ -n "$chosen" ] || [ "$updated" = yes ]; then break; fi
      say "apt-get update"
      "${as_root[@]}" apt-get update -q
      updated=yes
    done
    if [ -z "$chosen" ]; then
      echo "error: no package provides ${entry%%:*} (tried: ${entry#*:})" >&2
      exit 1
    fi
    packages+=("$chosen")
  done
  say "installing ${packages[*]}"
  "${as_root[@]}" apt-get install -y -q --no-install-recommends "${packages[@]}"
fi

# --- Rust components ----------------------------------------------------------------------
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  if command -v rustup >/dev/null 2>&1; then
    say "rustup component add rustfmt clippy"
    rustup component add rustfmt clippy
  else
    echo "error: cargo fmt / cargo clippy missing and no rustup to add them" >&2
    exit 1
  fi
fi

# --- checks and tests ---------------------------------------------------------------------
say "cargo fmt --all -- --check"
cargo fmt --all -- --check

say "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

if (($#)); then
  say "cargo test $*"
  cargo test "$@"
else
  # Every test binary runs even when an earlier one failed, so one run shows all failures.
  say "cargo test --workspace --no-fail-fast"
  cargo test --workspace --no-fail-fast
fi

say "all checks and tests passed"
