// The webhook's TLS, kept in a Secret the controller makes itself (no secret in Git, no
// cert-manager needed): the first replica creates a CA and a serving certificate, the others
// read them; every replica serves the same certificate, and makes sure the webhook
// configuration's caBundle names the CA. A serving certificate within 30 days of its end, or
// for other names, is replaced from the same CA, so the caBundle stays valid.
import { X509Certificate } from "node:crypto";
import type { ControllerKubePort } from "../kube/controller-client.ts";
import { issueWebhookTls, type WebhookTls } from "./certs.ts";

const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;
const KEYS = ["ca.crt", "ca.key", "tls.crt", "tls.key"] as const;

export interface TlsTarget {
  namespace: string;
  secret: string;
  /** The Service's DNS names the serving certificate must hold. */
  dnsNames: string[];
  webhookConfiguration: string;
}

function fromData(data: Record<string, string>): WebhookTls | null {
  if (!KEYS.every((k) => typeof data[k] === "string" && data[k] !== "")) return null;
  return { caCert: data["ca.crt"]!, caKey: data["ca.key"]!, cert: data["tls.crt"]!, key: data["tls.key"]! };
}

const toData = (t: WebhookTls) => ({ "ca.crt": t.caCert, "ca.key": t.caKey, "tls.crt": t.cert, "tls.key": t.key });

/** Whether the serving certificate still fits: the names, and more than 30 days left. */
export function servingCertFits(tls: WebhookTls, dnsNames: string[], now: Date): boolean {
  try {
    const leaf = new X509Certificate(tls.cert);
    const ca = new X509Certificate(tls.caCert);
    if (!leaf.verify(ca.publicKey)) return false;
    if (new Date(leaf.validTo).getTime() - now.getTime() < RENEW_BEFORE_MS) return false;
    const names = (leaf.subjectAltName ?? "").split(", ").map((n) => n.replace(/^DNS:/, ""));
    return dnsNames.every((n) => names.includes(n));
  } catch {
    return false;
  }
}

/** The TLS every replica serves; creates or renews the Secret as needed, then sets the caBundle. */
export async function ensureWebhookTls(kube: ControllerKubePort, t: TlsTarget, now = new Date()): Promise<WebhookTls> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const existing = await kube.getSecret(t.namespace, t.secret);
    const tls = existing ? fromData(existing.data) : null;
    let chosen: WebhookTls | null = null;
    if (tls && servingCertFits(tls, t.dnsNames, now)) chosen = tls;
    else if (existing === null) {
      const fresh = issueWebhookTls(t.dnsNames, { now });
      if (await kube.createSecret(t.namespace, t.secret, toData(fresh))) chosen = fresh;
    } else {
      // keep the CA when it is whole, so API servers that trust it go on trusting
      const ca =
        tls ??
        (existing.data["ca.crt"] && existing.data["ca.key"]
          ? { caCert: existing.data["ca.crt"], caKey: existing.data["ca.key"] }
          : null);
      const renewed = issueWebhookTls(t.dnsNames, { now, ...(ca ? { ca: { cert: ca.caCert, key: ca.caKey } } : {}) });
      if (await kube.replaceSecret(t.namespace, t.secret, toData(renewed), existing.resourceVersion)) chosen = renewed;
    }
    // another replica won a race: read what it wrote
    if (chosen === null) continue;
    await kube.setCaBundle(t.webhookConfiguration, chosen.caCert);
    return chosen;
  }
  throw new Error(`the webhook TLS Secret ${t.namespace}/${t.secret} kept changing under this replica (5 attempts)`);
}
