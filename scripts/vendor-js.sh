#!/usr/bin/env bash
# Re-creates the vendored browser libraries in static/vendor/ from the npm registry, pinned by version
# and by the tarball's sha512, so the door page never loads code from a CDN. The output is committed.
set -euo pipefail

JSQR_VERSION="1.4.0"
JSQR_INTEGRITY="sha512-dxLob7q65Xg2DvstYkRpkYtmKm2sPJ9oFhrhmudT1dZvNFFTlroai3AWSpLey/w5vMcLBXRgOJsbXpdN9HzU/A=="

root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"
npm pack --silent "jsqr@${JSQR_VERSION}" >/dev/null
tarball="jsqr-${JSQR_VERSION}.tgz"
actual="sha512-$(python3 -c 'import base64, hashlib, sys; print(base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$tarball")"
if [[ "$actual" != "$JSQR_INTEGRITY" ]]; then
  echo "jsqr@${JSQR_VERSION}: integrity mismatch (expected ${JSQR_INTEGRITY}, got ${actual})" >&2
  exit 1
fi
tar -xzf "$tarball"

target="$root/static/vendor/jsqr"
mkdir -p "$target"
cp package/dist/jsQR.js "$target/jsQR.js"
cp package/LICENSE "$target/LICENSE"
cat > "$target/README" <<NOTE
jsQR ${JSQR_VERSION} (Apache-2.0, https://github.com/cozmo/jsQR): dist/jsQR.js and LICENSE, unchanged.
Tarball integrity: ${JSQR_INTEGRITY}
The door page uses it to read QR codes from the camera where the browser has no BarcodeDetector.
Re-create with scripts/vendor-js.sh; do not edit by hand.
NOTE
echo "Vendored jsqr@${JSQR_VERSION} into ${target#"$root"/}"
