// Kubeconfig files for the test cluster: one for the admin token, one per ServiceAccount.
import { writeFileSync } from "node:fs";
import { stringify } from "yaml";

export interface KubeconfigObject {
  apiVersion: "v1";
  kind: "Config";
  clusters: Array<{ name: string; cluster: { server: string; "certificate-authority-data": string } }>;
  users: Array<{ name: string; user: { token: string } | { "client-certificate": string; "client-key": string } }>;
  contexts: Array<{ name: string; context: { cluster: string; user: string; namespace?: string } }>;
  "current-context": string;
}

export interface Kubeconfig {
  /** File path, for processes (`kubectl --kubeconfig`, KUBECONFIG=...). */
  path: string;
  /** The same content, for in-process clients (KubeConfig.loadFromOptions). */
  config: KubeconfigObject;
  server: string;
  token: string;
  /** PEM of the CA that signed the serving certificate. */
  ca: string;
}

export function writeKubeconfig(
  path: string,
  opts: {
    server: string;
    ca: string;
    token: string;
    user: string;
    namespace?: string;
    /** Authenticate with a client certificate (files) instead of the token (then ""). */
    clientCert?: { cert: string; key: string };
  },
): Kubeconfig {
  const ctx = { cluster: "vpccni-test", user: opts.user, ...(opts.namespace ? { namespace: opts.namespace } : {}) };
  const config: KubeconfigObject = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "vpccni-test",
        cluster: { server: opts.server, "certificate-authority-data": Buffer.from(opts.ca).toString("base64") },
      },
    ],
    users: [
      {
        name: opts.user,
        user: opts.clientCert
          ? { "client-certificate": opts.clientCert.cert, "client-key": opts.clientCert.key }
          : { token: opts.token },
      },
    ],
    contexts: [{ name: "vpccni-test", context: ctx }],
    "current-context": "vpccni-test",
  };
  writeFileSync(path, stringify(config), { mode: 0o600 });
  return { path, config, server: opts.server, token: opts.token, ca: opts.ca };
}
