// The eni-ip webhook's TLS from cert-manager (spec.webhook.tls: cert-manager): a Certificate for
// the webhook Service's names whose Secret is the one the controller reads in either mode, and
// the cainjector annotation that sets the webhook configuration's caBundle. Without an
// issuerRef, cert-manager's bootstrapping chain in vpccni's namespace signs it: a self-signed
// Issuer, a CA Certificate, a CA Issuer. The kinds are cert-manager's, so cert-manager must be
// installed first; unlike the Prometheus Operator's kinds (monitoring.ts) a missing CRD fails
// the sync: without the Certificate the controller never becomes ready.
import type { Diagnostic, SourcedPolicy, VpcCniPolicy } from "../schema/index.ts";
import { commonLabels, names } from "./labels.ts";
import { locateField } from "./locate.ts";
import type { Resource } from "./resource.ts";

export type WebhookSettings = NonNullable<VpcCniPolicy["spec"]["webhook"]>;
export type WebhookTlsMode = WebhookSettings["tls"];

export const CERT_MANAGER_API = "cert-manager.io/v1";
const GROUP = "cert-manager.io";

export const CERT_MANAGER = {
  /** The serving Certificate; its Secret is names.webhookSecret. */
  certificate: "vpccni-webhook",
  caCertificate: "vpccni-webhook-ca",
  caSecret: "vpccni-webhook-ca",
  selfSignedIssuer: "vpccni-webhook-selfsigned",
  caIssuer: "vpccni-webhook-ca",
  /** cainjector copies the named Certificate's ca.crt into every webhook's caBundle. */
  injectAnnotation: "cert-manager.io/inject-ca-from",
} as const;

const SELF_MANAGED: WebhookSettings = { tls: "self-managed" };

/** DNS names of the webhook Service; the same list as runtime/controller/certs.ts serviceDnsNames. */
export function webhookDnsNames(service: string, namespace: string): string[] {
  return [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
  ];
}

/** The cluster's one webhook setting: a policy's that sets it (webhookRefusals makes them agree). */
export function clusterWebhook(policies: readonly SourcedPolicy[]): WebhookSettings {
  return policies.find((p) => p.policy.spec.webhook !== undefined)?.policy.spec.webhook ?? SELF_MANAGED;
}

function describe(w: WebhookSettings): string {
  const ref = w.issuerRef;
  return ref === undefined ? `tls: ${w.tls}` : `tls: ${w.tls}, issuerRef ${ref.kind}/${ref.name} (${ref.group})`;
}

/** One controller, one webhook configuration: the policies that set spec.webhook must agree. */
export function webhookRefusals(
  policies: readonly SourcedPolicy[],
  sources: ReadonlyMap<string, string>,
): Diagnostic[] {
  const setting = policies.filter((p) => p.policy.spec.webhook !== undefined);
  const first = setting[0];
  if (first === undefined) return [];
  const want = first.policy.spec.webhook!;
  const at = locateField(first, sources, ["spec", "webhook"]);
  return setting
    .filter((p) => JSON.stringify(p.policy.spec.webhook) !== JSON.stringify(want))
    .map((p) => ({
      ...locateField(p, sources, ["spec", "webhook"]),
      code: "webhook-mismatch",
      severity: "error" as const,
      path: ["spec", "webhook"],
      message:
        `spec.webhook of ${JSON.stringify(p.policy.metadata.name)} is ${describe(p.policy.spec.webhook!)}, but ${JSON.stringify(first.policy.metadata.name)} ` +
        `(${at.file}:${at.line}:${at.col}) has ${describe(want)}; the cluster has one webhook and one controller; ` +
        `allowed: ${describe(want)}, or spec.webhook unset`,
      found: describe(p.policy.spec.webhook!),
      allowed: `${describe(want)}, or unset`,
      hint: "write spec.webhook in one policy (the others follow it), or the same in each",
    }));
}

/** The cainjector annotation for the webhook configuration; none in self-managed mode. */
export function webhookAnnotations(namespace: string, w: WebhookSettings): Record<string, string> {
  return w.tls === "cert-manager"
    ? { [CERT_MANAGER.injectAnnotation]: `${namespace}/${CERT_MANAGER.certificate}` }
    : {};
}

/** cert-manager's objects for the webhook's TLS; none in self-managed mode. */
export function certManagerObjects(namespace: string, w: WebhookSettings): Resource[] {
  if (w.tls !== "cert-manager") return [];
  const labels = commonLabels("controller");
  const meta = (name: string) => ({ name, namespace, labels });
  const serving: Resource = {
    manifest: {
      apiVersion: CERT_MANAGER_API,
      kind: "Certificate",
      metadata: meta(CERT_MANAGER.certificate),
      spec: {
        // the Secret the controller reads in either mode; it serves tls.crt and tls.key
        secretName: names.webhookSecret,
        secretTemplate: { labels },
        dnsNames: webhookDnsNames(names.webhookService, namespace),
        // renewed 30 days before its end, as the controller renews its own
        duration: "2160h",
        renewBefore: "720h",
        privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
        usages: ["digital signature", "server auth"],
        issuerRef: w.issuerRef ?? { name: CERT_MANAGER.caIssuer, kind: "Issuer", group: GROUP },
        revisionHistoryLimit: 1,
      },
    },
  };
  if (w.issuerRef !== undefined) return [serving];
  return [
    {
      manifest: {
        apiVersion: CERT_MANAGER_API,
        kind: "Issuer",
        metadata: meta(CERT_MANAGER.selfSignedIssuer),
        spec: { selfSigned: {} },
      },
    },
    {
      manifest: {
        apiVersion: CERT_MANAGER_API,
        kind: "Certificate",
        metadata: meta(CERT_MANAGER.caCertificate),
        spec: {
          isCA: true,
          commonName: "vpccni-webhook-ca",
          secretName: CERT_MANAGER.caSecret,
          secretTemplate: { labels },
          // ten years, and the same key when it is renewed: serving certificates it signed
          // before still verify against the renewed CA, so the caBundle never lags behind
          duration: "87600h",
          renewBefore: "720h",
          privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Never" },
          issuerRef: { name: CERT_MANAGER.selfSignedIssuer, kind: "Issuer", group: GROUP },
          revisionHistoryLimit: 1,
        },
      },
    },
    {
      manifest: {
        apiVersion: CERT_MANAGER_API,
        kind: "Issuer",
        metadata: meta(CERT_MANAGER.caIssuer),
        spec: { ca: { secretName: CERT_MANAGER.caSecret } },
      },
    },
    serving,
  ];
}
