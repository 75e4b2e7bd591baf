// Where the webhook's serving certificate comes from (`--webhook-tls`). self-managed: the
// controller keeps its own CA and serving key in the Secret and sets the caBundle
// (tls-bootstrap.ts). cert-manager: cert-manager issues that same Secret from the compiled
// Certificate and its cainjector sets the caBundle; the controller only reads tls.crt and
// tls.key and never writes the Secret or the webhook configuration (its RBAC no longer allows
// it). It reads the Secret through the API, not a volume: a missing Secret is then a readiness
// message naming it instead of a pod stuck in ContainerCreating, a renewal is seen at the next
// resync instead of after the kubelet's volume refresh, and both modes share one read (RBAC get
// on the named Secret).
import { createPrivateKey, X509Certificate } from "node:crypto";
import type { ControllerKubePort } from "../kube/controller-client.ts";
import { serviceDnsNames } from "./certs.ts";
import { ensureWebhookTls } from "./tls-bootstrap.ts";

export type WebhookTlsMode = "self-managed" | "cert-manager";
export const WEBHOOK_TLS_MODES: readonly WebhookTlsMode[] = ["self-managed", "cert-manager"];

/** PEM: what the webhook listener serves. */
export interface ServedTls {
  cert: string;
  key: string;
}

/** The certificate to serve, or why there is none yet (the /readyz message). */
export type TlsState = { tls: ServedTls } | { waiting: string };

export interface WebhookTlsSource {
  readonly mode: WebhookTlsMode;
  load(): Promise<TlsState>;
}

export interface TlsSourceTarget {
  namespace: string;
  secret: string;
  webhookService: string;
  webhookConfiguration: string;
}

export function webhookTlsSource(mode: WebhookTlsMode, kube: ControllerKubePort, t: TlsSourceTarget): WebhookTlsSource {
  return mode === "cert-manager" ? certManagerTls(kube, t) : selfManagedTls(kube, t);
}

/** The controller's own CA and certificate: it creates or renews them, so it never waits. */
export function selfManagedTls(kube: ControllerKubePort, t: TlsSourceTarget): WebhookTlsSource {
  return {
    mode: "self-managed",
    async load() {
      const tls = await ensureWebhookTls(kube, {
        namespace: t.namespace,
        secret: t.secret,
        dnsNames: serviceDnsNames(t.webhookService, t.namespace),
        webhookConfiguration: t.webhookConfiguration,
      });
      return { tls: { cert: tls.cert, key: tls.key } };
    },
  };
}

/** The Secret cert-manager issues; read only. */
export function certManagerTls(kube: Pick<ControllerKubePort, "getSecret">, t: TlsSourceTarget): WebhookTlsSource {
  const where = `Secret ${t.namespace}/${t.secret}`;
  return {
    mode: "cert-manager",
    async load() {
      const secret = await kube.getSecret(t.namespace, t.secret);
      if (secret === null) return { waiting: `waiting for cert-manager to issue ${where}` };
      const cert = secret.data["tls.crt"] ?? "";
      const key = secret.data["tls.key"] ?? "";
      if (cert === "" || key === "")
        return { waiting: `waiting for cert-manager to issue ${where}: it has no tls.crt or tls.key yet` };
      const problem = keyPairProblem(cert, key);
      if (problem !== undefined) return { waiting: `${where} cannot be served: ${problem}` };
      return { tls: { cert, key } };
    },
  };
}

/** Why tls.crt and tls.key cannot serve together, if they cannot (the listener would refuse them). */
function keyPairProblem(cert: string, key: string): string | undefined {
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (e) {
    return `tls.crt is not a PEM certificate (${(e as Error).message})`;
  }
  try {
    if (!leaf.checkPrivateKey(createPrivateKey(key))) return "tls.key is not the key of tls.crt";
  } catch (e) {
    return `tls.key is not a PEM private key (${(e as Error).message})`;
  }
  return undefined;
}
