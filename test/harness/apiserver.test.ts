import { describe, expect, test } from "bun:test";
import { useSharedCluster } from "./shared-apiserver-kit.ts";
import { kubeCall, KubeApiError } from "../../sandbox/kube-api.ts";
import { runOk, run } from "../../sandbox/exec.ts";
import { paths, versions } from "../../sandbox/paths.ts";

const WIDGETS = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "widgets.harness.vpccni.test" },
  spec: {
    group: "harness.vpccni.test",
    scope: "Namespaced",
    names: { plural: "widgets", singular: "widget", kind: "Widget" },
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: "object",
            properties: { spec: { type: "object", properties: { size: { type: "integer", minimum: 1 } } } },
          },
        },
      },
    ],
  },
};

describe("kube-apiserver + etcd harness", () => {
  const cluster = useSharedCluster();

  test("the API server is ready and reports the version it was stamped with", async () => {
    const c = cluster();
    const version = await kubeCall(c.admin, "GET", "/version");
    expect(version.json.gitVersion).toBe(versions.kubernetes);
    const ready = await kubeCall(c.admin, "GET", "/readyz?verbose");
    expect(ready.json).toContain("readyz check passed");
    // kubectl from the cache works with the admin kubeconfig file
    const out = await runOk([paths.kubectl, "--kubeconfig", c.admin.path, "get", "--raw", "/livez"]);
    expect(out.trim()).toBe("ok");
  });

  test("a CRD can be created, becomes established and serves objects with validation", async () => {
    const c = cluster();
    await kubeCall(c.admin, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", {
      body: WIDGETS,
      allow: [409],
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const crd = await kubeCall(
        c.admin,
        "GET",
        `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${WIDGETS.metadata.name}`,
      );
      const established = (crd.json.status?.conditions ?? []).some(
        (x: { type: string; status: string }) => x.type === "Established" && x.status === "True",
      );
      if (established) break;
      if (Date.now() > deadline) throw new Error(`CRD not established: ${JSON.stringify(crd.json.status)}`);
      await Bun.sleep(100);
    }
    const ns = `crd-${Date.now().toString(36)}`;
    await kubeCall(c.admin, "POST", "/api/v1/namespaces", {
      body: { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } },
    });
    const base = `/apis/harness.vpccni.test/v1/namespaces/${ns}/widgets`;
    // the discovery of a new group can lag the Established condition by a moment
    const created = await retryNotFound(() =>
      kubeCall(c.admin, "POST", base, {
        body: { apiVersion: "harness.vpccni.test/v1", kind: "Widget", metadata: { name: "w1" }, spec: { size: 3 } },
      }),
    );
    expect(created.json.spec.size).toBe(3);
    const got = await kubeCall(c.admin, "GET", `${base}/w1`);
    expect(got.json.metadata.resourceVersion).toBe(created.json.metadata.resourceVersion);
    const invalid = await kubeCall(c.admin, "POST", base, {
      body: { apiVersion: "harness.vpccni.test/v1", kind: "Widget", metadata: { name: "w2" }, spec: { size: 0 } },
      allow: [422],
    });
    expect(invalid.status).toBe(422);
    expect(JSON.stringify(invalid.json)).toContain("spec.size");
  });

  test("a ServiceAccount bound to a read-only role can read and is denied a write", async () => {
    const c = cluster();
    await kubeCall(c.admin, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", {
      body: {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: "vpccni-test-read-namespaces" },
        rules: [{ apiGroups: [""], resources: ["namespaces"], verbs: ["get", "list", "watch"] }],
      },
      allow: [409],
    });
    const ro = await c.serviceAccountKubeconfig("vpccni-test-read-namespaces");
    expect(ro.token).not.toBe(c.admin.token);
    const list = await kubeCall(ro, "GET", "/api/v1/namespaces");
    expect(list.json.kind).toBe("NamespaceList");
    const write = kubeCall(ro, "POST", "/api/v1/namespaces", {
      body: { apiVersion: "v1", kind: "Namespace", metadata: { name: "must-not-exist" } },
    });
    const err = await write.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).status).toBe(403);
    const status = JSON.parse((err as KubeApiError).body) as { reason: string; message: string };
    expect(status.reason).toBe("Forbidden");
    expect(status.message).toContain('cannot create resource "namespaces"');
    // the same through kubectl and the kubeconfig file
    const denied = await run([paths.kubectl, "--kubeconfig", ro.path, "create", "namespace", "must-not-exist"]);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain("forbidden");
    const who = await runOk([
      paths.kubectl,
      "--kubeconfig",
      ro.path,
      "auth",
      "whoami",
      "-o",
      "jsonpath={.status.userInfo.username}",
    ]);
    expect(who).toMatch(/^system:serviceaccount:vpccni-test-sa:vpccni-test-read-namespaces-\d+$/);
  });
});

async function retryNotFound<T>(fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof KubeApiError) || err.status !== 404 || Date.now() > deadline) throw err;
      await Bun.sleep(100);
    }
  }
}
