// The serving certificate of one test API server, signed by the per-machine test CA, so a
// process that trusts that CA (NODE_EXTRA_CA_CERTS) trusts every test cluster. openssl,
// because node:crypto cannot issue certificates.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { paths } from "./paths.ts";
import { runOk } from "./exec.ts";

export async function issueServingCert(dir: string): Promise<{ cert: string; key: string }> {
  const key = join(dir, "serving.key");
  const csr = join(dir, "serving.csr");
  const cert = join(dir, "serving.crt");
  const ext = join(dir, "serving.ext");
  writeFileSync(
    ext,
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n",
  );
  await runOk([
    "openssl",
    "req",
    "-new",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=vpccni-test-apiserver",
    "-keyout",
    key,
    "-out",
    csr,
  ]);
  await runOk([
    "openssl",
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    paths.testCaCert,
    "-CAkey",
    paths.testCaKey,
    "-set_serial",
    `0x${randomBytes(8).toString("hex")}`,
    "-days",
    "7",
    "-extfile",
    ext,
    "-out",
    cert,
  ]);
  return { cert, key };
}
