// The controller's webhook listener: it answers AdmissionReviews over TLS that only its CA
// vouches for, and when its serving certificate is renewed it keeps answering on the same port
// with the new one. The Kubernetes side here is an in-memory stand-in of ControllerKubePort; the
// real client runs the same TLS bootstrap and Lease on a real API server in
// test/compiler/controller-rbac.test.ts.
import { afterEach, describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { createLogger } from "../agent/log.ts";
import type { ControllerKubePort, Lease } from "../kube/controller-client.ts";
import { issueWebhookTls, serviceDnsNames } from "./certs.ts";
import { Controller } from "./controller.ts";

function memoryKube(): ControllerKubePort & { secrets: Map<string, { data: Record<string, string>; rv: number }> } {
  const secrets = new Map<string, { data: Record<string, string>; rv: number }>();
  let lease: Lease | null = null;
  let rv = 0;
  return {
    secrets,
    async nodeNames() {
      return [];
    },
    async getSecret(ns, name) {
      const s = secrets.get(`${ns}/${name}`);
      return s ? { data: { ...s.data }, resourceVersion: String(s.rv) } : null;
    },
    async createSecret(ns, name, data) {
      if (secrets.has(`${ns}/${name}`)) return false;
      secrets.set(`${ns}/${name}`, { data, rv: ++rv });
      return true;
    },
    async replaceSecret(ns, name, data, resourceVersion) {
      const s = secrets.get(`${ns}/${name}`);
      if (!s || String(s.rv) !== resourceVersion) return false;
      secrets.set(`${ns}/${name}`, { data, rv: ++rv });
      return true;
    },
    async setCaBundle() {
      return 1;
    },
    async getLease() {
      return lease;
    },
    async createLease(_ns, _name, holder, durationMs, now) {
      if (lease) return false;
      lease = { holder, renewedAt: now, durationMs, resourceVersion: String(++rv) };
      return true;
    },
    async updateLease(_ns, _name, holder, durationMs, now, resourceVersion) {
      if (!lease || lease.resourceVersion !== resourceVersion) return false;
      lease = { holder, renewedAt: now, durationMs, resourceVersion: String(++rv) };
      return true;
    },
  };
}

const review = {
  apiVersion: "admission.k8s.io/v1",
  kind: "AdmissionReview",
  request: {
    uid: "u1",
    kind: { kind: "Pod" },
    operation: "CREATE",
    object: { metadata: { name: "p" }, spec: { containers: [{ name: "c" }] } },
  },
};

describe("vpccni controller's webhook listener", () => {
  let controller: Controller | undefined;
  afterEach(async () => {
    await controller?.stop();
  });

  test("answers over TLS its CA vouches for, and keeps its port through a certificate renewal", async () => {
    const kube = memoryKube();
    const names = serviceDnsNames("vpccni-webhook", "vpccni-system");
    controller = new Controller({
      namespace: "vpccni-system",
      webhookSecret: "tls",
      webhookService: "vpccni-webhook",
      webhookConfiguration: "cfg",
      listen: "127.0.0.1:0",
      healthListen: null,
      settings: { mode: "default" },
      kube,
      log: createLogger({ write: () => {} }),
      identity: "a",
      resyncMs: 100,
    });
    await controller.start();
    const port = controller.webhookPort;
    const secret = () => kube.secrets.get("vpccni-system/tls")!.data;
    const ca = secret()["ca.crt"]!;
    // the certificate names the Service, not localhost: check the chain, and the name by hand
    const call = () =>
      fetch(`https://127.0.0.1:${port}/mutate-pods`, {
        method: "POST",
        body: JSON.stringify(review),
        tls: { ca, checkServerIdentity: () => undefined },
      });
    const first = (await (await call()).json()) as any;
    expect(first.response.uid).toBe("u1");
    expect(first.response.patchType).toBe("JSONPatch");
    expect(
      (await fetch(`https://127.0.0.1:${port}/other`, { tls: { ca, checkServerIdentity: () => undefined } })).status,
    ).toBe(404);
    // a certificate 5 days from its end in the Secret: the next resync renews it from the same CA
    const short = issueWebhookTls(names, { ca: { cert: ca, key: secret()["ca.key"]! }, days: 5 });
    kube.secrets.set("vpccni-system/tls", {
      data: { ...secret(), "tls.crt": short.cert, "tls.key": short.key },
      rv: 1000,
    });
    for (let i = 0; i < 50 && secret()["tls.crt"] === short.cert; i++) {
      expect((await call()).status).toBe(200);
      await Bun.sleep(20);
    }
    const renewed = secret()["tls.crt"]!;
    expect(renewed).not.toBe(short.cert);
    expect(new Date(new X509Certificate(renewed).validTo).getTime()).toBeGreaterThan(Date.now() + 300 * 24 * 3600_000);
    expect(controller.webhookPort).toBe(port);
    expect(((await (await call()).json()) as any).response.uid).toBe("u1");
  });
});
