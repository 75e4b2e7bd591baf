// @kubernetes/client-node (the library runtime/kube uses) against the real API server,
// under Bun: 2.x pulls undici 8, which crashes under Node 20, so prove it works here.
import { describe, expect, test } from "bun:test";
import { CoreV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy, Watch, setHeaderOptions, type V1ConfigMap } from "@kubernetes/client-node";
import { useSharedCluster } from "./shared-cluster.ts";

describe("@kubernetes/client-node under Bun against the harness cluster", () => {
  const cluster = useSharedCluster();

  function client(): { kc: KubeConfig; core: CoreV1Api } {
    const kc = new KubeConfig();
    kc.loadFromFile(cluster().admin.path);
    return { kc, core: kc.makeApiClient(CoreV1Api) };
  }

  async function freshNamespace(core: CoreV1Api, prefix: string): Promise<string> {
    const name = `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
    await core.createNamespace({ body: { metadata: { name } } });
    return name;
  }

  test("create, list and merge-patch", async () => {
    const { core } = client();
    const ns = await freshNamespace(core, "cn-crud");
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "a" }, data: { k: "1" } } });
    const list = await core.listNamespacedConfigMap({ namespace: ns });
    expect(list.items.map((c) => c.metadata?.name)).toContain("a");
    const patched = await core.patchNamespacedConfigMap(
      { name: "a", namespace: ns, body: { data: { k: "2", extra: "x" } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    expect(patched.data).toEqual({ k: "2", extra: "x" });
  });

  test("server-side apply records the field manager", async () => {
    const { kc, core } = client();
    const ns = await freshNamespace(core, "cn-ssa");
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const applied = await objects.patch<V1ConfigMap>(
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "ssa", namespace: ns }, data: { owner: "vpccni" } },
      undefined, undefined, "vpccni-harness", true, PatchStrategy.ServerSideApply,
    );
    expect(applied.data).toEqual({ owner: "vpccni" });
    expect(applied.metadata?.managedFields?.map((f) => f.manager)).toContain("vpccni-harness");
  });

  test("watch delivers ADDED and MODIFIED events", async () => {
    const { kc, core } = client();
    const ns = await freshNamespace(core, "cn-watch");
    const events: string[] = [];
    let sawModified!: () => void;
    const modified = new Promise<void>((resolve) => (sawModified = resolve));
    const watch = new Watch(kc);
    const abort = await watch.watch(
      `/api/v1/namespaces/${ns}/configmaps`,
      {},
      (phase, obj: V1ConfigMap) => {
        events.push(`${phase} ${obj.metadata?.name}`);
        if (phase === "MODIFIED") sawModified();
      },
      () => undefined,
    );
    try {
      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "w" }, data: { n: "1" } } });
      await core.replaceNamespacedConfigMap({ name: "w", namespace: ns, body: { metadata: { name: "w" }, data: { n: "2" } } });
      // no fixed sleep: the test waits for the event (bounded by the test timeout)
      await modified;
      expect(events).toEqual(["ADDED w", "MODIFIED w"]);
    } finally {
      abort.abort();
    }
  });
});
