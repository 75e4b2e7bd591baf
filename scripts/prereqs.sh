#!/usr/bin/env bash
# Installs what the test suite needs and is not an npm package. Idempotent; cached
# outside the repo. Under CI=true anything that cannot be installed is an error.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x node_modules/.bin/bun ] || npm ci
