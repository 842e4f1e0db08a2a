#!/usr/bin/env bash
# Vendor the browser-side JavaScript the book needs, so that its HTML works offline and
# loads nothing from a CDN:
#   - require.js              (AMD loader that the ipywidgets embedder needs)
#   - @jupyter-widgets/html-manager embed-amd.js (+ its font files; renders the saved
#     widget state of ipywidgets 8, whose html-manager range is ^1.0.1)
#   - MathJax 3 (tex-chtml component, its CHTML woff-v2 fonts, TeX extensions, menu)
# Exact versions are pinned, and each tarball's SHA-256 is checked, so a rebuild of the
# book serves byte-identical JavaScript. The result (about 6 MB, too big to commit) goes to
# book/_static/thirdparty/, which is git-ignored; _config.yml points myst-nb and Sphinx there.
#
# Usage: bash ci/vendor_widgets.sh [--force]   (idempotent: does nothing when up to date)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/book/_static/thirdparty"
STAMP="$DEST/VERSIONS"

# name@version  sha256-of-the-npm-tarball
PINS=(
  "requirejs@2.3.8 777158e89275e16bd51aec3ef714fbcb5dc45789e7078659933bc814916d7dec"
  "@jupyter-widgets/html-manager@1.0.15 2b9d65cb7913e1c7d671757a10008b32c9c2448d4429513371e55c07d6107638"
  "mathjax@3.2.2 1b9c0a1c44df864e915690558e72adb9cc5203360daefd385084ced3b6c64c09"
)
WANT="$(printf '%s\n' "${PINS[@]}")"

if [[ "${1:-}" != "--force" && -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]]; then
  echo "vendor_widgets: $DEST is up to date"
  exit 0
fi

command -v npm >/dev/null || { echo "vendor_widgets: npm is needed (apt-get install -y npm)" >&2; exit 1; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

declare -A PKGDIR
for pin in "${PINS[@]}"; do
  spec="${pin%% *}"; sum="${pin##* }"
  # npm pack prints the tarball's file name as its last line
  tgz="$(cd "$TMP" && npm pack --silent "$spec" 2>/dev/null | tail -n 1)"
  [[ -f "$TMP/$tgz" ]] || { echo "vendor_widgets: npm pack $spec failed" >&2; exit 1; }
  got="$(sha256sum "$TMP/$tgz" | cut -d' ' -f1)"
  if [[ "$got" != "$sum" ]]; then
    echo "vendor_widgets: $spec: sha256 $got, expected $sum" >&2; exit 1
  fi
  mkdir -p "$TMP/x/$tgz"
  tar -xzf "$TMP/$tgz" -C "$TMP/x/$tgz"
  PKGDIR[$spec]="$TMP/x/$tgz/package"
done

NEW="$DEST.new"
rm -rf "$NEW"
mkdir -p "$NEW/html-manager" "$NEW/mathjax/output/chtml/fonts" "$NEW/mathjax/input/tex"

cp "${PKGDIR[requirejs@2.3.8]}/require.js" "$NEW/require.js"

HM="${PKGDIR[@jupyter-widgets/html-manager@1.0.15]}/dist"
# embed-amd.js computes its public path from its own URL, so its fonts sit beside it.
cp "$HM/embed-amd.js" "$HM/embed.js.LICENSE.txt" "$NEW/html-manager/"
find "$HM" -maxdepth 1 -type f \( -name '*.woff2' -o -name '*.woff' -o -name '*.ttf' -o -name '*.eot' -o -name '*.svg' \) \
  -exec cp {} "$NEW/html-manager/" \;

MJ="${PKGDIR[mathjax@3.2.2]}"
cp "$MJ/LICENSE" "$NEW/mathjax/"
cp "$MJ/es5/tex-chtml.js" "$NEW/mathjax/"
cp -r "$MJ/es5/output/chtml/fonts/woff-v2" "$NEW/mathjax/output/chtml/fonts/"
cp -r "$MJ/es5/input/tex/extensions" "$NEW/mathjax/input/tex/"
cp -r "$MJ/es5/ui" "$NEW/mathjax/"

printf '%s\n' "$WANT" > "$NEW/VERSIONS"
rm -rf "$DEST"
mv "$NEW" "$DEST"
echo "vendor_widgets: wrote $DEST ($(du -sh "$DEST" | cut -f1))"
