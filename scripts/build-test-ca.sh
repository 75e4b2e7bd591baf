#!/usr/bin/env bash
# A certificate authority for test API servers, made once per machine. Each test cluster's
# serving certificate is signed by it, so a test process can trust every test cluster from
# its start with NODE_EXTRA_CA_CERTS=$CACHE/test-ca-v1/ca.pem: under Bun,
# @kubernetes/client-node ignores the kubeconfig's CA (docs/testing.md), and Bun reads
# NODE_EXTRA_CA_CERTS only at start-up. Test use only: never install it in a trust store.
source "$(dirname "$0")/build-common.sh"

main() {
  out=$TEST_CA_DIR
  if [ -s "$out/ca.pem" ] && [ -s "$out/ca.key" ]; then
    say "test CA: cached in $out"
    exit 0
  fi
  command -v openssl >/dev/null || die "openssl is missing (apt-get install openssl)"
  lock "$out"
  [ -s "$out/ca.pem" ] && [ -s "$out/ca.key" ] && { say "test CA: made by another run"; exit 0; }
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=vpccni test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$out/ca.key.tmp" -out "$out/ca.pem.tmp" 2>/dev/null
  chmod 600 "$out/ca.key.tmp"
  mv "$out/ca.key.tmp" "$out/ca.key"
  mv "$out/ca.pem.tmp" "$out/ca.pem"
  say "test CA: made in $out"
}
main "$@"
