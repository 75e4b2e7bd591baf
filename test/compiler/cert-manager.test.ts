// spec.webhook.tls: cert-manager on a real API server. cert-manager's own CRDs (v1.21.1,
// vendored in compiler/testdata/cert-manager) take the compiled Issuers and Certificates; the
// controller's compiled role is exactly controllerApiRequests("cert-manager"); and the
// controller, with that role's token, waits (not ready) until a Secret shaped as cert-manager
// writes it appears, then serves it, verified with its ca.crt, never writes the Secret or the
// caBundle, and serves a re-issued certificate on the same port. No cert-manager runs here:
// the test writes the Secret as cert-manager's controller would.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import { parseAllDocuments } from "yaml";
import { CERT_MANAGER } from "../../compiler/cert-manager.ts";
import { compileToDir } from "../../compiler/index.ts";
import { controllerApiRequests } from "../../compiler/controller.ts";
import { names } from "../../compiler/labels.ts";
import { createLogger } from "../../runtime/agent/log.ts";
import { issueWebhookTls, serviceDnsNames, type WebhookTls } from "../../runtime/controller/certs.ts";
import { Controller } from "../../runtime/controller/controller.ts";
import { ControllerKubeClient } from "../../runtime/kube/controller-client.ts";
import type { Cluster } from "../../sandbox/apiserver.ts";
import { kubeCall } from "../../sandbox/kube-api.ts";
import { type Kubeconfig, writeKubeconfig } from "../../sandbox/kubeconfig.ts";
import { acquireSharedCluster, releaseSharedCluster } from "../harness/shared-apiserver-kit.ts";
import { allowed, kubectl, ownRules, REPO, serviceAccountToken, wave } from "./deploy-kit.ts";

const NS = `vpccni-cm-${Date.now().toString(36)}`;
const CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
const CRD_FILE = join(REPO, "compiler/testdata/cert-manager/crds-v1.21.1.yaml.gz");
const SECRET_PATH = `/api/v1/namespaces/${NS}/secrets/${names.webhookSecret}`;
const CONFIG_PATH = `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${names.webhookConfiguration}`;

function certManagerCrds(): { metadata: { name: string } }[] {
  const text = new TextDecoder().decode(Bun.gunzipSync(readFileSync(CRD_FILE)));
  return parseAllDocuments(text).map((d) => d.toJS());
}

/** The Secret as cert-manager's controller writes it for a Certificate. */
function issuedSecret(tls: WebhookTls) {
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "kubernetes.io/tls",
    metadata: {
      name: names.webhookSecret,
      namespace: NS,
      annotations: {
        "cert-manager.io/certificate-name": CERT_MANAGER.certificate,
        "cert-manager.io/issuer-name": CERT_MANAGER.caIssuer,
        "cert-manager.io/issuer-kind": "Issuer",
        "cert-manager.io/issuer-group": "cert-manager.io",
      },
    },
    data: { "ca.crt": b64(tls.caCert), "tls.crt": b64(tls.cert), "tls.key": b64(tls.key) },
  };
}

const review = {
  apiVersion: "admission.k8s.io/v1",
  kind: "AdmissionReview",
  request: {
    uid: "cm-1",
    kind: { kind: "Pod" },
    operation: "CREATE",
    object: { metadata: { name: "p" }, spec: { containers: [{ name: "c" }] } },
  },
};

describe("spec.webhook.tls: cert-manager on a real API server", () => {
  let c: Cluster;
  let out: { dir: string; files: string[] };
  let sa: Kubeconfig;
  let client: ControllerKubeClient;

  beforeAll(async () => {
    c = await acquireSharedCluster();
    for (const crd of certManagerCrds()) {
      await kubeCall(c.admin, "PATCH", `${CRDS}/${crd.metadata.name}?fieldManager=vpccni-test&force=true`, {
        body: crd,
        contentType: "application/apply-patch+yaml",
      });
    }
    for (const crd of certManagerCrds()) {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const got = await kubeCall(c.admin, "GET", `${CRDS}/${crd.metadata.name}`);
        const conditions: { type: string; status: string }[] = got.json?.status?.conditions ?? [];
        if (conditions.some((x) => x.type === "Established" && x.status === "True")) break;
        if (Date.now() > deadline)
          throw new Error(`${crd.metadata.name} not Established: ${JSON.stringify(conditions)}`);
        await Bun.sleep(200);
      }
    }
    const dir = mkdtempSync(join(tmpdir(), "vpccni-cert-manager-"));
    const outcome = await compileToDir({
      paths: [join(REPO, "compiler/testdata/cert-manager/policies")],
      outDir: dir,
      namespace: NS,
      cwd: REPO,
    });
    if (outcome.diff === undefined) throw new Error(`compile failed: ${JSON.stringify(outcome.diagnostics)}`);
    out = { dir, files: readdirSync(dir).filter((f) => f !== "kustomization.yaml") };
  }, 120_000);

  afterAll(async () => {
    await kubeCall(c.admin, "DELETE", CONFIG_PATH, { allow: [404] });
    await releaseSharedCluster();
  });

  test("cert-manager's CRDs take the compiled Issuers, Certificates and annotated webhook configuration (dry run)", async () => {
    const certManager = out.files.filter((f) => /-(issuer|certificate)-/.test(f)).sort();
    expect(certManager).toEqual([
      "31-issuer-vpccni-webhook-ca.yaml",
      "31-issuer-vpccni-webhook-selfsigned.yaml",
      "32-certificate-vpccni-webhook-ca.yaml",
      "32-certificate-vpccni-webhook.yaml",
    ]);
    // the namespace first, for real; then every object, cluster-wide ones included, as a dry run
    const ns = out.files.filter((f) => wave(out.dir, f) === 0).flatMap((f) => ["-f", join(out.dir, f)]);
    const applied = await kubectl(c.admin, ["apply", "--server-side", "--field-manager=vpccni-test", ...ns]);
    expect({ code: applied.code, stderr: applied.stderr }).toEqual({ code: 0, stderr: "" });
    const all = out.files.flatMap((f) => ["-f", join(out.dir, f)]);
    const dry = await kubectl(c.admin, [
      "apply",
      "--server-side",
      "--dry-run=server",
      "--field-manager=vpccni-test",
      ...all,
    ]);
    expect({ code: dry.code, stderr: dry.stderr }).toEqual({ code: 0, stderr: "" });
    for (const object of [
      "issuer.cert-manager.io/vpccni-webhook-selfsigned",
      "issuer.cert-manager.io/vpccni-webhook-ca",
      "certificate.cert-manager.io/vpccni-webhook-ca",
      "certificate.cert-manager.io/vpccni-webhook",
      `mutatingwebhookconfiguration.admissionregistration.k8s.io/${names.webhookConfiguration}`,
    ])
      expect(dry.stdout).toContain(`${object} serverside-applied (server dry run)`);
    // a schema violation is refused by cert-manager's CRD: the check is real
    const bad = await kubeCall(c.admin, "POST", `/apis/cert-manager.io/v1/namespaces/${NS}/certificates?dryRun=All`, {
      body: {
        apiVersion: "cert-manager.io/v1",
        kind: "Certificate",
        metadata: { name: "bad" },
        spec: { secretName: "x", issuerRef: { name: "i" }, privateKey: { algorithm: "DSA" } },
      },
      allow: [422],
    });
    expect(bad.status).toBe(422);
    expect(bad.json.message).toContain("spec.privateKey.algorithm");
  });

  test("the controller's role is exactly controllerApiRequests('cert-manager'): no Secret writes, no caBundle", async () => {
    // everything before the workloads, for real: RBAC, ConfigMaps, Issuers and Certificates
    const files = out.files.filter((f) => wave(out.dir, f) < 2).flatMap((f) => ["-f", join(out.dir, f)]);
    const r = await kubectl(c.admin, ["apply", "--server-side", "--field-manager=vpccni-test", ...files]);
    if (r.code !== 0) throw new Error(r.stderr);
    const token = await serviceAccountToken(c, NS, names.controller);
    sa = { ...c.admin, token: token.token, path: "" };
    const want = controllerApiRequests("cert-manager")
      .map((x) => `${x.verb} ${x.group || "core"}/${x.resource}${x.names ? `[${x.names.join(",")}]` : ""}`)
      .sort();
    expect(await ownRules(sa, NS)).toEqual(want);
    const denied = [
      { verb: "create", group: "", resource: "secrets", namespace: NS },
      { verb: "update", group: "", resource: "secrets", namespace: NS, name: names.webhookSecret },
      { verb: "patch", group: "", resource: "secrets", namespace: NS, name: names.webhookSecret },
      { verb: "get", group: "", resource: "secrets", namespace: NS, name: CERT_MANAGER.caSecret },
      {
        verb: "get",
        group: "admissionregistration.k8s.io",
        resource: "mutatingwebhookconfigurations",
        name: names.webhookConfiguration,
      },
      {
        verb: "patch",
        group: "admissionregistration.k8s.io",
        resource: "mutatingwebhookconfigurations",
        name: names.webhookConfiguration,
      },
      { verb: "update", group: "cert-manager.io", resource: "certificates", namespace: NS },
    ];
    for (const d of denied) expect({ ...d, allowed: await allowed(sa, d) }).toEqual({ ...d, allowed: false });
    const kc = writeKubeconfig(join(c.dir, `controller-cm-${NS}.kubeconfig`), {
      server: c.server,
      ca: c.admin.ca,
      token: token.token,
      user: "vpccni-controller",
    });
    client = ControllerKubeClient.load(kc.path);
  });

  test("the controller waits for the Secret, serves it verified by ca.crt, writes nothing, and serves a re-issue", async () => {
    // the webhook configuration as compiled (annotation, no caBundle), with a selector that
    // matches no namespace: nothing on this shared server is sent to it
    await kubeCall(c.admin, "POST", "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations", {
      body: {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "MutatingWebhookConfiguration",
        metadata: {
          name: names.webhookConfiguration,
          annotations: { [CERT_MANAGER.injectAnnotation]: `${NS}/${CERT_MANAGER.certificate}` },
        },
        webhooks: [
          {
            name: "eni-ip.vpccni.io",
            admissionReviewVersions: ["v1"],
            clientConfig: { service: { name: names.webhookService, namespace: NS, path: "/mutate-pods" } },
            rules: [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"] }],
            failurePolicy: "Ignore",
            sideEffects: "None",
            namespaceSelector: { matchLabels: { "vpccni.io/never": "true" } },
          },
        ],
      },
    });
    const warnings: string[] = [];
    const log = createLogger({ write: (line: string) => void (line.includes('"warn"') && warnings.push(line)) });
    const controller = new Controller({
      namespace: NS,
      webhookSecret: names.webhookSecret,
      webhookService: names.webhookService,
      webhookConfiguration: names.webhookConfiguration,
      webhookTls: "cert-manager",
      listen: "127.0.0.1:0",
      healthListen: "127.0.0.1:0",
      settings: { mode: "default" },
      kube: client,
      log,
      identity: "cm-a",
      resyncMs: 200,
    });
    try {
      await controller.start();
      const readyz = async () => {
        const r = await fetch(`http://127.0.0.1:${controller.healthPort}/readyz`);
        return { status: r.status, text: await r.text() };
      };
      expect(await readyz()).toEqual({
        status: 503,
        text: `waiting for cert-manager to issue Secret ${NS}/${names.webhookSecret}\n`,
      });
      expect(controller.webhookPort).toBe(0);
      await Bun.sleep(500);
      expect((await readyz()).status).toBe(503);
      expect(await kubeCall(c.admin, "GET", SECRET_PATH, { allow: [404] })).toMatchObject({ status: 404 });

      // cert-manager issues the Secret
      const dnsNames = serviceDnsNames(names.webhookService, NS);
      const first = issueWebhookTls(dnsNames);
      const created = await kubeCall(c.admin, "POST", `/api/v1/namespaces/${NS}/secrets`, {
        body: issuedSecret(first),
      });
      for (let i = 0; i < 100 && (await readyz()).status !== 200; i++) await Bun.sleep(50);
      expect(await readyz()).toEqual({ status: 200, text: "ok\n" });
      // it wrote nothing: the Secret is still the one cert-manager (here, the test) wrote
      const unchanged = async (version: string) => {
        const now = await kubeCall(c.admin, "GET", SECRET_PATH);
        expect(now.json.metadata.resourceVersion).toBe(version);
      };
      await unchanged(created.json.metadata.resourceVersion);
      const port = controller.webhookPort;
      expect(port).toBeGreaterThan(0);

      // the API server dials vpccni-webhook.<ns>.svc and trusts the caBundle cainjector copies from ca.crt
      const call = (ca: string) =>
        fetch(`https://127.0.0.1:${port}/mutate-pods`, {
          method: "POST",
          body: JSON.stringify(review),
          tls: {
            ca,
            checkServerIdentity: (_host: string, cert: PeerCertificate) =>
              checkServerIdentity(`${names.webhookService}.${NS}.svc`, cert),
          },
        });
      const answer = (await (await call(first.caCert)).json()) as any;
      expect(answer.response.uid).toBe("cm-1");
      expect(answer.response.patchType).toBe("JSONPatch");

      // cert-manager re-issues (here from a new CA, so the served certificate tells them apart)
      const second = issueWebhookTls(dnsNames);
      const current = await kubeCall(c.admin, "GET", SECRET_PATH);
      const reissued = await kubeCall(c.admin, "PUT", SECRET_PATH, {
        body: { ...issuedSecret(second), metadata: { ...current.json.metadata } },
      });
      let served = false;
      for (let i = 0; i < 100 && !served; i++) {
        served = await call(second.caCert).then(
          (r) => r.status === 200,
          () => false,
        );
        if (!served) await Bun.sleep(50);
      }
      expect(served).toBe(true);
      expect(controller.webhookPort).toBe(port);
      await expect(call(first.caCert)).rejects.toThrow();

      // still nothing written: the re-issued Secret as the test left it, and no caBundle (cainjector's to set)
      await unchanged(reissued.json.metadata.resourceVersion);
      const config = await kubeCall(c.admin, "GET", CONFIG_PATH);
      expect(config.json.webhooks[0].clientConfig.caBundle).toBeUndefined();
      expect(config.json.metadata.managedFields).toHaveLength(1);
      // its only complaint was the wait; no resync failed (a write would have been forbidden)
      expect(warnings).toEqual([expect.stringContaining("waiting for cert-manager to issue")]);
    } finally {
      await controller.stop();
    }
  });
});
