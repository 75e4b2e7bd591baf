#!/usr/bin/env bash
# Compiles the vpccni CNI plugin into one self-contained binary (Bun runtime included).
# Output: ${VPCCNI_CNI_DIR:-dist/cni}/vpccni (dist/ is gitignored). --bytecode precompiles the
# JavaScript so the binary skips parsing at start-up; no .env / bunfig.toml autoload, because
# the binary runs in the container runtime's working directory and must not read files from
# it (it also starts ~1 ms faster). --compile-jit-policy=1000 keeps the few milliseconds of
# JavaScript in the interpreter: tiering up to the JIT is wasted work in a process this short
# (~1-2 ms faster in A/B runs). docs/cni.md has the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${VPCCNI_CNI_DIR:-dist/cni}"
mkdir -p "$out"
node_modules/.bin/bun build --compile --minify --bytecode --no-compile-autoload-dotenv --no-compile-autoload-bunfig --compile-jit-policy=1000 \
  runtime/cni/main.ts --outfile "$out/vpccni.tmp" >/dev/null
mv -f "$out/vpccni.tmp" "$out/vpccni"
echo "$out/vpccni"
