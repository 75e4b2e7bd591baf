// The serving certificate of one test API server, signed by the per-machine test CA, so a
// process that trusts that CA (NODE_EXTRA_CA_CERTS) trusts every test cluster. openssl,
// because node:crypto cannot issue certificates.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { paths } from "./paths.ts";
import { runOk } from "./exec.ts";

export async function issueServingCert(dir: string, extraIps: string[] = []): Promise<{ cert: string; key: string }> {
  const key = join(dir, "serving.key");
  const csr = join(dir, "serving.csr");
  const cert = join(dir, "serving.crt");
  const ext = join(dir, "serving.ext");
  writeFileSync(
    ext,
    // 10.96.0.1 and the kubernetes.default names: the in-cluster address of the `kubernetes`
    // Service (service range 10.96.0.0/24), which pods of a real-node test reach it by
    `subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.96.0.1,${extraIps.map((ip) => `IP:${ip},`).join("")}DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n`,
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

/**
 * A client certificate signed by the test CA (the API server's --client-ca-file in a cluster
 * with a control plane): CN is the user, O the group, as kubelet's system:node:<name> in
 * system:nodes.
 */
export async function issueClientCert(
  dir: string,
  name: string,
  user: string,
  group: string,
): Promise<{ cert: string; key: string }> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n");
  const subj = `/O=${group}/CN=${user}`;
  await runOk(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", subj, "-keyout", key, "-out", csr]);
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
