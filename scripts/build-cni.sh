#!/usr/bin/env bash
# Compiles the vpccni CNI plugin into one self-contained binary (Bun runtime included).
# Output: ${VPCCNI_CNI_DIR:-dist/cni}/vpccni (dist/ is gitignored). --bytecode precompiles the
# JavaScript so the binary skips parsing at start-up; no .env / bunfig.toml autoload, because
# the binary runs in the container runtime's working directory and must not read files from
# it (it also starts ~1 ms faster). docs/cni.md has the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${VPCCNI_CNI_DIR:-dist/cni}"
mkdir -p "$out"
node_modules/.bin/bun build --compile --minify --bytecode --no-compile-autoload-dotenv --no-compile-autoload-bunfig \
  runtime/cni/main.ts --outfile "$out/vpccni.tmp" >/dev/null
mv -f "$out/vpccni.tmp" "$out/vpccni"
echo "$out/vpccni"
