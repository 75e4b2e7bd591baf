// @kubernetes/client-node hands its TLS settings to an undici dispatcher, which Bun ignores:
// under Bun the cluster CA must come from NODE_EXTRA_CA_CERTS, read once at process start.
// This finds the CA the process should trust, so the agent can re-start itself with it set.
import { createHash } from "node:crypto";
import { existsSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";

export const IN_CLUSTER_CA = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";

/** A PEM file with the cluster's CA, or undefined when the server needs none. */
export function clusterCaFile(kubeconfig?: string): string | undefined {
  if (!kubeconfig) return IN_CLUSTER_CA;
  const config = new k8s.KubeConfig();
  config.loadFromFile(kubeconfig);
  const cluster = config.getCurrentCluster();
  if (cluster?.caFile) return cluster.caFile;
  if (cluster?.caData) {
    // Named after its content: every start of an agent with this CA reuses one file.
    const pem = Buffer.from(cluster.caData, "base64");
    const file = join(tmpdir(), `vpccni-ca-${createHash("sha256").update(pem).digest("hex").slice(0, 16)}.crt`);
    if (!existsSync(file)) {
      writeFileSync(`${file}.${process.pid}`, pem, { mode: 0o600 });
      renameSync(`${file}.${process.pid}`, file);
    }
    return file;
  }
  return undefined;
}
