// spec.webhook.tls: cert-manager in the compiled output: cert-manager's objects, the cainjector
// annotation, the controller's flag, and a role without the rights only the self-managed TLS
// bootstrap needs; the default output keeps none of it. Schema and refusal texts are pinned.
// test/compiler/cert-manager.test.ts applies the same output to a real API server.
import { describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parse } from "yaml";
import { serviceDnsNames } from "../runtime/controller/certs.ts";
import { loadPolicies, renderDiagnostics } from "../schema/index.ts";
import { CERT_MANAGER } from "./cert-manager.ts";
import { cleanScratchAfterEach, policyYaml, readTree, REPO, scratchRepo } from "./compile-kit.ts";
import { compileToDir } from "./compile-to-dir.ts";
import { controllerApiRequests } from "./controller.ts";
import { names } from "./labels.ts";
import { generate } from "./output-files.ts";

cleanScratchAfterEach();

const POLICIES = "compiler/testdata/cert-manager/policies";
const EXPECTED = "compiler/testdata/cert-manager/expected";
const IMAGE = "registry.example.com/vpccni:test";
/** The files cert-manager mode adds or changes; the rest is the default output, pinned elsewhere. */
const PINNED = /vpccni-controller|vpccni-webhook|mutatingwebhookconfiguration|issuer|certificate/;

async function compiled(dir = POLICIES, namespace?: string) {
  const loaded = await loadPolicies([dir], REPO);
  expect(loaded.diagnostics).toEqual([]);
  const sourceName = (file: string) => relative(join(REPO, EXPECTED), join(REPO, file));
  const out = generate(loaded.policies, loaded.sources, { image: IMAGE, sourceName, namespace });
  expect(out.diagnostics).toEqual([]);
  return out;
}

const doc = (files: Map<string, string>, name: string) => parse(files.get(name)!) as any;

describe("cert-manager mode", () => {
  test("its objects are the committed ones (VPCCNI_UPDATE_EXPECTED=1 rewrites them)", async () => {
    const { files } = await compiled();
    const pinned = new Map([...files].filter(([f]) => PINNED.test(f)));
    const dir = join(REPO, EXPECTED);
    if (process.env.VPCCNI_UPDATE_EXPECTED === "1") {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir);
      for (const [f, text] of pinned) writeFileSync(join(dir, f), text);
    }
    const committed = readTree(dir);
    expect([...pinned.keys()].sort()).toEqual([...committed.keys()]);
    for (const [name, text] of pinned) expect({ name, text }).toEqual({ name, text: committed.get(name)! });
  });

  test("the bootstrapping chain, the serving Certificate for the Service's names, before the Deployment", async () => {
    const { files } = await compiled();
    expect([...files.keys()].filter((f) => /issuer|certificate/.test(f))).toEqual([
      "31-issuer-vpccni-webhook-ca.yaml",
      "31-issuer-vpccni-webhook-selfsigned.yaml",
      "32-certificate-vpccni-webhook-ca.yaml",
      "32-certificate-vpccni-webhook.yaml",
    ]);
    const serving = doc(files, "32-certificate-vpccni-webhook.yaml");
    // the Secret the controller reads in either mode, for the names the API server dials
    expect(serving.spec.secretName).toBe(names.webhookSecret);
    expect(serving.spec.dnsNames).toEqual(serviceDnsNames(names.webhookService, "vpccni-system"));
    expect(serving.spec.issuerRef).toEqual({ name: CERT_MANAGER.caIssuer, kind: "Issuer", group: "cert-manager.io" });
    expect(doc(files, "31-issuer-vpccni-webhook-ca.yaml").spec).toEqual({ ca: { secretName: CERT_MANAGER.caSecret } });
    expect(doc(files, "31-issuer-vpccni-webhook-selfsigned.yaml").spec).toEqual({ selfSigned: {} });
    const ca = doc(files, "32-certificate-vpccni-webhook-ca.yaml").spec;
    expect([ca.isCA, ca.secretName, ca.issuerRef.name]).toEqual([
      true,
      CERT_MANAGER.caSecret,
      "vpccni-webhook-selfsigned",
    ]);
    const wave = (f: string) => Number(doc(files, f).metadata.annotations["argocd.argoproj.io/sync-wave"]);
    for (const f of [...files.keys()].filter((f) => /issuer|certificate/.test(f)))
      expect({ f, wave: wave(f) }).toEqual({ f, wave: 1 });
    expect(wave("41-deployment-vpccni-controller.yaml")).toBe(2);
    const order = doc(files, "kustomization.yaml").resources as string[];
    expect(order.indexOf("32-certificate-vpccni-webhook.yaml")).toBeLessThan(
      order.indexOf("41-deployment-vpccni-controller.yaml"),
    );
  });

  test("cainjector's annotation, the controller's flag, and a role without Secret writes or caBundle patches", async () => {
    const { files } = await compiled();
    const config = doc(files, "55-mutatingwebhookconfiguration-vpccni-eni-ip.yaml");
    expect(config.metadata.annotations[CERT_MANAGER.injectAnnotation]).toBe("vpccni-system/vpccni-webhook");
    expect(config.webhooks[0].clientConfig.caBundle).toBeUndefined();
    const args = doc(files, "41-deployment-vpccni-controller.yaml").spec.template.spec.containers[0].args;
    expect(args).toContain("--webhook-tls=cert-manager");
    expect(args).toContain(`--webhook-secret=${names.webhookSecret}`);
    const rules = (f: string) =>
      (doc(files, f).rules as any[]).map(
        (r) => `${r.verbs} ${r.apiGroups[0] || "core"}/${r.resources}${r.resourceNames ? `[${r.resourceNames}]` : ""}`,
      );
    expect(rules("23-role-vpccni-controller.yaml")).toEqual([
      `get core/secrets[${names.webhookSecret}]`,
      "get coordination.k8s.io/leases[vpccni-controller]",
      "create coordination.k8s.io/leases",
      "update coordination.k8s.io/leases[vpccni-controller]",
    ]);
    expect(rules("21-clusterrole-vpccni-controller.yaml")).toEqual(["list core/nodes"]);
    // what only the self-managed mode asks for
    const selfManaged = controllerApiRequests("self-managed").map((r) => `${r.verb} ${r.resource}`);
    const certManager = controllerApiRequests("cert-manager").map((r) => `${r.verb} ${r.resource}`);
    expect(selfManaged.filter((r) => !certManager.includes(r))).toEqual([
      "create secrets",
      "update secrets",
      "get mutatingwebhookconfigurations",
      "patch mutatingwebhookconfigurations",
    ]);
  });

  test("the default (no spec.webhook) has no cert-manager object, flag or annotation", async () => {
    const repo = scratchRepo({ "a.yaml": policyYaml("alpha", "a") });
    const { files } = await compiled(join(repo, "policies"));
    expect([...files.keys()].filter((f) => /issuer|certificate/.test(f))).toEqual([]);
    const config = doc(files, "55-mutatingwebhookconfiguration-vpccni-eni-ip.yaml");
    expect(Object.keys(config.metadata.annotations)).toEqual(["argocd.argoproj.io/sync-wave"]);
    const args = doc(files, "41-deployment-vpccni-controller.yaml").spec.template.spec.containers[0].args as string[];
    expect(args.filter((a) => a.startsWith("--webhook-tls"))).toEqual([]);
  });

  test("an issuerRef: only the serving Certificate, signed by the user's issuer", async () => {
    const repo = scratchRepo({
      "a.yaml": policyYaml("alpha", "a", [
        "webhook:",
        "  tls: cert-manager",
        "  issuerRef: { name: corp-ca, kind: ClusterIssuer }",
      ]),
    });
    const { files } = await compiled(join(repo, "policies"), "net");
    expect([...files.keys()].filter((f) => /issuer|certificate/.test(f))).toEqual([
      "32-certificate-vpccni-webhook.yaml",
    ]);
    const serving = doc(files, "32-certificate-vpccni-webhook.yaml");
    expect(serving.metadata.namespace).toBe("net");
    expect(serving.spec.issuerRef).toEqual({ name: "corp-ca", kind: "ClusterIssuer", group: "cert-manager.io" });
    expect(
      doc(files, "55-mutatingwebhookconfiguration-vpccni-eni-ip.yaml").metadata.annotations[
        CERT_MANAGER.injectAnnotation
      ],
    ).toBe("net/vpccni-webhook");
  });
});

describe("refused", () => {
  async function diagnosticsOf(files: Record<string, string>) {
    const repo = scratchRepo(files);
    const r = await compileToDir({ paths: ["policies"], outDir: "deploy", cwd: repo });
    return { codes: r.diagnostics.map((d) => d.code), text: renderDiagnostics(r.diagnostics, r.sources) };
  }

  test("two policies that set spec.webhook differently: one webhook per cluster", async () => {
    const { codes, text } = await diagnosticsOf({
      "a.yaml": policyYaml("alpha", "a", ["webhook:", "  tls: cert-manager"]),
      "b.yaml": policyYaml("beta", "b", ["webhook:", "  tls: self-managed"]),
      "c.yaml": policyYaml("gamma", "c"),
    });
    expect(codes).toEqual(["webhook-mismatch"]);
    expect(text).toBe(
      [
        'policies/b.yaml:12:3: error[webhook-mismatch]: spec.webhook of "beta" is tls: self-managed, but "alpha" (policies/a.yaml:12:3) has tls: cert-manager; the cluster has one webhook and one controller; allowed: tls: cert-manager, or spec.webhook unset',
        "   |",
        "12 |   webhook:",
        "   |   ^^^^^^^",
      ].join("\n"),
    );
  });

  test("an issuerRef without tls: cert-manager, and a kind cert-manager.io does not have", async () => {
    const { codes, text } = await diagnosticsOf({
      "a.yaml": policyYaml("alpha", "a", ["webhook:", "  issuerRef: { name: corp-ca }"]),
      "b.yaml": policyYaml("beta", "b", ["webhook:", "  tls: cert-manager", "  issuerRef: { name: x, kind: Vault }"]),
    });
    expect(codes).toEqual(["issuer-ref-needs-cert-manager", "issuer-kind"]);
    expect(text).toContain(
      'policies/a.yaml:13:5: error[issuer-ref-needs-cert-manager]: spec.webhook.issuerRef is set but spec.webhook.tls is "self-managed"; allowed: issuerRef only with tls: cert-manager',
    );
    expect(text).toContain(
      'error[issuer-kind]: spec.webhook.issuerRef.kind is "Vault", not a kind of group cert-manager.io; allowed: Issuer or ClusterIssuer, or set group to the external issuer\'s API group',
    );
  });

  test("an external issuer's own kind is fine with its own group", async () => {
    const { codes } = await diagnosticsOf({
      "a.yaml": policyYaml("alpha", "a", [
        "webhook:",
        "  tls: cert-manager",
        "  issuerRef: { name: pca, kind: AWSPCAClusterIssuer, group: awspca.cert-manager.io }",
      ]),
    });
    expect(codes).toEqual([]);
  });
});
