#!/usr/bin/env bash
# The whole test suite, set-up included: the README's test command runs this through
# `npm test`, and .ci/run runs exactly the README's test command.
# Under CI=true a missing prerequisite fails the run; it is never skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# system-wide folders container tools write by default: the builds below must leave them alone
host_dirs() { ls -d /etc/cni /var/lib/containers /var/lib/cni /var/lib/kubelet /opt/cni 2>/dev/null || true; }
host_before=$(host_dirs)

step "prerequisites (cached outside the repo; fast when warm)"
bash scripts/prereqs.sh

step "typecheck"
node_modules/.bin/tsc --noEmit -p .

step "format (biome.json: one formatter, 120 columns; fix with node_modules/.bin/biome format --write .)"
node_modules/.bin/biome format --max-diagnostics=5 .
unformatted=$(gofmt -l runtime/cni/shim)
[ -z "$unformatted" ] || { echo "gofmt: not formatted (fix with gofmt -w): $unformatted"; exit 1; }

step "examples: validate, and the committed compiled output is current"
node_modules/.bin/bun cli/main.ts validate examples/
node_modules/.bin/bun cli/main.ts compile examples/policies --out examples/deploy --check

step "the vpccni image (dist/image; test/node runs it under containerd)"
bash scripts/build-image.sh
if [ "$(host_dirs)" != "$host_before" ]; then
  echo "the builds made system-wide folders they must not touch: $(comm -13 <(echo "$host_before") <(host_dirs) | tr '\n' ' ')"
  exit 1
fi

step "bun test"
# Every test API server's certificate is signed by the harness's per-machine CA; Bun reads
# extra CAs only at start (see docs/testing.md), so client-node works in the test process.
export NODE_EXTRA_CA_CERTS="${VPCCNI_CACHE:-$HOME/.cache/vpccni}/test-ca-v1/ca.pem"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
# Suites that start real processes set longer timeouts per test; this is the floor.
node_modules/.bin/bun test --timeout 30000 "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
pass=$( { grep -Eo '^ *[0-9]+ pass$' "$log" || true; } | tail -1 | grep -Eo '[0-9]+' || echo 0)
fail=$( { grep -Eo '^ *[0-9]+ fail$' "$log" || true; } | tail -1 | grep -Eo '[0-9]+' || echo 0)
skip=$( { grep -Eo '^ *[0-9]+ (skip|todo)$' "$log" || true; } | awk '{s+=$1} END {print s+0}')
echo
if [ "${skip:-0}" != 0 ]; then
  echo "skipped or todo tests are not allowed: $skip"
  status=1
fi
if [ "$pass" = 0 ]; then
  echo "no test ran"
  status=1
fi
echo "${pass} passed, ${fail} failed"
exit "$status"
