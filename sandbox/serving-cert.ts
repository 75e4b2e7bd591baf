// Certificates of the test clusters, signed by the per-machine test CA: the API server's serving
// certificate (so a process that trusts that CA, NODE_EXTRA_CA_CERTS, trusts every test
// cluster) and kubelets' client certificates. openssl, because node:crypto cannot issue them.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { paths } from "./paths.ts";
import { runOk } from "./exec.ts";

/** A new key and a certificate for `subject` with the given X.509 v3 extensions, in `dir`. */
async function signWithTestCa(
  dir: string,
  name: string,
  subject: string,
  extensions: string,
): Promise<{ cert: string; key: string }> {
  const [key, csr, cert, ext] = ["key", "csr", "crt", "ext"].map((suffix) => join(dir, `${name}.${suffix}`)) as [
    string,
    string,
    string,
    string,
  ];
  writeFileSync(ext, extensions);
  await runOk([
    "openssl",
    "req",
    "-new",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    subject,
    "-keyout",
    key,
    "-out",
    csr,
  ]);
  const serial = `0x${randomBytes(8).toString("hex")}`;
  const ca = ["-CA", paths.testCaCert, "-CAkey", paths.testCaKey, "-set_serial", serial];
  await runOk(["openssl", "x509", "-req", "-in", csr, ...ca, "-days", "7", "-extfile", ext, "-out", cert]);
  return { cert, key };
}

export function issueServingCert(dir: string, extraIps: string[] = []): Promise<{ cert: string; key: string }> {
  // 10.96.0.1 and the kubernetes.default names: the in-cluster address of the `kubernetes`
  // Service (service range 10.96.0.0/24), which pods of a real-node test reach it by; extraIps:
  // the API server's address in a test bed's VPC
  const ips = ["127.0.0.1", "10.96.0.1", ...extraIps].map((ip) => `IP:${ip}`);
  const dns = [
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
  ];
  const san = [...ips, ...dns.map((d) => `DNS:${d}`)].join(",");
  return signWithTestCa(
    dir,
    "serving",
    "/CN=vpccni-test-apiserver",
    `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n`,
  );
}

/**
 * A client certificate signed by the test CA (the API server's --client-ca-file in a cluster
 * with a control plane): CN is the user, O the group, as kubelet's system:node:<name> in
 * system:nodes.
 */
export function issueClientCert(
  dir: string,
  name: string,
  user: string,
  group: string,
): Promise<{ cert: string; key: string }> {
  return signWithTestCa(
    dir,
    name,
    `/O=${group}/CN=${user}`,
    "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n",
  );
}
