// The controller's compiled RBAC on a real API server, in shared IP mode (the shared example
// policies; fixed-controller.test.ts proves fixed mode's): with its ServiceAccount's own token,
// the controller's client (runtime/kube/controller-client.ts) does everything it needs (its TLS
// Secret, its webhook configuration's caBundle, the Lease, the Node list) and nothing else is
// allowed: the exact rules, and a list of requests it must never be able to make.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { CONTROLLER_API_REQUESTS } from "../../compiler/controller.ts";
import { names } from "../../compiler/labels.ts";
import type { Cluster } from "../../sandbox/apiserver.ts";
import { kubeCall } from "../../sandbox/kube-api.ts";
import { writeKubeconfig } from "../../sandbox/kubeconfig.ts";
import { issueWebhookTls, serviceDnsNames } from "../../runtime/controller/certs.ts";
import { LeaderElector } from "../../runtime/controller/leader.ts";
import { ensureWebhookTls } from "../../runtime/controller/tls-bootstrap.ts";
import { ControllerKubeClient } from "../../runtime/kube/controller-client.ts";
import { acquireSharedCluster, releaseSharedCluster } from "../harness/shared-apiserver-kit.ts";
import { allowed, compileExamples, kubectl, ownRules, serviceAccountToken, wave } from "./deploy-kit.ts";

const NS = `vpccni-ctl-${Date.now().toString(36)}`;
const quiet = { info() {}, warn() {} };

describe("the controller's RBAC on a real API server", () => {
  let c: Cluster;
  let token: { token: string; server: string; ca: string };
  let client: ControllerKubeClient;

  beforeAll(async () => {
    c = await acquireSharedCluster();
    const out = await compileExamples(NS, ["general.yaml", "batch.policy.ts"]);
    // the controller's objects (RBAC, ServiceAccount) and the webhook configuration with a
    // selector that matches no namespace: on this shared server no controller serves it
    const files = out.files.filter((f) => wave(out.dir, f) < 2).flatMap((f) => ["-f", join(out.dir, f)]);
    const r = await kubectl(c.admin, ["apply", "--server-side", "--field-manager=vpccni-test", ...files]);
    if (r.code !== 0) throw new Error(r.stderr);
    await kubeCall(c.admin, "POST", "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations", {
      body: {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "MutatingWebhookConfiguration",
        metadata: { name: names.webhookConfiguration },
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
      allow: [409],
    });
    token = await serviceAccountToken(c, NS, names.controller);
    const kc = writeKubeconfig(join(c.dir, `controller-${NS}.kubeconfig`), {
      server: c.server,
      ca: c.admin.ca,
      token: token.token,
      user: "vpccni-controller",
    });
    client = ControllerKubeClient.load(kc.path);
  }, 60_000);

  afterAll(async () => {
    await kubeCall(
      c.admin,
      "DELETE",
      `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${names.webhookConfiguration}`,
      { allow: [404] },
    );
    await releaseSharedCluster();
  });

  test("its rules are exactly CONTROLLER_API_REQUESTS", async () => {
    const sa = { ...c.admin, token: token.token, path: "" };
    const want = CONTROLLER_API_REQUESTS.map(
      (r) => `${r.verb} ${r.group || "core"}/${r.resource}${r.names ? `[${r.names.join(",")}]` : ""}`,
    ).sort();
    expect(await ownRules(sa, NS)).toEqual(want);
  });

  test("its own client does what it needs: the TLS Secret, the caBundle, the Lease, the Nodes", async () => {
    const tls = await ensureWebhookTls(client, {
      namespace: NS,
      secret: names.webhookSecret,
      dnsNames: serviceDnsNames(names.webhookService, NS),
      webhookConfiguration: names.webhookConfiguration,
    });
    const config = await kubeCall(
      c.admin,
      "GET",
      `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${names.webhookConfiguration}`,
    );
    expect(config.json.webhooks[0].clientConfig.caBundle).toBe(Buffer.from(tls.caCert).toString("base64"));
    // a second replica reads the same Secret: the same certificate, no change to the caBundle
    const again = await ensureWebhookTls(client, {
      namespace: NS,
      secret: names.webhookSecret,
      dnsNames: serviceDnsNames(names.webhookService, NS),
      webhookConfiguration: names.webhookConfiguration,
    });
    expect(again.cert).toBe(tls.cert);
    // a certificate about to end is renewed from the same CA
    const old = issueWebhookTls(serviceDnsNames(names.webhookService, NS), {
      ca: { cert: tls.caCert, key: tls.caKey },
      days: 5,
    });
    const secret = await client.getSecret(NS, names.webhookSecret);
    await client.replaceSecret(
      NS,
      names.webhookSecret,
      { ...secret!.data, "tls.crt": old.cert, "tls.key": old.key },
      secret!.resourceVersion,
    );
    const renewed = await ensureWebhookTls(client, {
      namespace: NS,
      secret: names.webhookSecret,
      dnsNames: serviceDnsNames(names.webhookService, NS),
      webhookConfiguration: names.webhookConfiguration,
    });
    expect(renewed.caCert).toBe(tls.caCert);
    expect(renewed.cert).not.toBe(old.cert);
    expect((await client.nodeNames()).length).toBeGreaterThanOrEqual(0);
    const elector = new LeaderElector({
      kube: client,
      namespace: NS,
      name: names.controller,
      identity: "a",
      log: quiet,
    });
    await elector.tick();
    expect(elector.leader).toBe(true);
    await elector.stop();
  });

  test("two replicas: one leads; the other takes over once the leader stops renewing, or at once when it hands over", async () => {
    // one clock for both, moved by hand: the Lease's times are theirs, so no test step waits
    let t = Date.parse("2026-11-30T00:00:00Z");
    const mk = (identity: string) =>
      new LeaderElector({
        kube: client,
        namespace: NS,
        name: names.controller,
        identity,
        leaseMs: 15_000,
        renewMs: 3_600_000, // rounds driven by hand below
        now: () => t,
        log: quiet,
      });
    const a = mk("replica-a");
    const b = mk("replica-b");
    await a.tick();
    await b.tick();
    expect([a.leader, b.leader]).toEqual([true, false]);
    // a crashes (no more renewals): b waits out the lease, then takes it
    t += 10_000;
    await b.tick();
    expect(b.leader).toBe(false);
    t += 6_000;
    await b.tick();
    expect(b.leader).toBe(true);
    // a comes back after its lease ran out: it sees b's fresh lease, steps down and follows
    t += 1_000;
    await a.tick();
    expect([a.leader, b.leader]).toEqual([false, true]);
    // b renews; a still follows
    t += 10_000;
    await b.tick();
    t += 10_000;
    await a.tick();
    expect([a.leader, b.leader]).toEqual([false, true]);
    // b hands over on stop: a leads at its next round, without waiting for the lease
    await b.stop();
    await a.tick();
    expect([a.leader, b.leader]).toEqual([true, false]);
    await a.stop();
  });

  test("what it must never do is refused", async () => {
    const sa = { ...c.admin, token: token.token, path: "" };
    const denied = [
      { verb: "get", group: "", resource: "secrets", namespace: NS, name: "tencentcloud-credentials" },
      { verb: "list", group: "", resource: "secrets", namespace: NS },
      { verb: "update", group: "", resource: "secrets", namespace: NS, name: "other" },
      { verb: "get", group: "", resource: "secrets", namespace: "kube-system", name: names.webhookSecret },
      {
        verb: "patch",
        group: "admissionregistration.k8s.io",
        resource: "mutatingwebhookconfigurations",
        name: "other",
      },
      {
        verb: "patch",
        group: "admissionregistration.k8s.io",
        resource: "validatingwebhookconfigurations",
        name: names.webhookConfiguration,
      },
      { verb: "update", group: "coordination.k8s.io", resource: "leases", namespace: NS, name: "other" },
      {
        verb: "update",
        group: "coordination.k8s.io",
        resource: "leases",
        namespace: "kube-system",
        name: names.controller,
      },
      { verb: "patch", group: "", resource: "nodes", name: "n" },
      { verb: "list", group: "", resource: "pods" },
      { verb: "create", group: "", resource: "pods", namespace: NS },
    ];
    for (const d of denied) expect({ ...d, allowed: await allowed(sa, d) }).toEqual({ ...d, allowed: false });
  });
});
