// Runs in a child Bun process (see client-node.test.ts): exercises @kubernetes/client-node
// against the cluster named by KUBECONFIG and prints what it saw as one JSON line.
import {
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type V1ConfigMap,
} from "@kubernetes/client-node";

const kc = new KubeConfig();
kc.loadFromDefault();
const core = kc.makeApiClient(CoreV1Api);
const ns = `cn-${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
await core.createNamespace({ body: { metadata: { name: ns } } });

await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "a" }, data: { k: "1" } } });
const listed = (await core.listNamespacedConfigMap({ namespace: ns })).items.map((c) => c.metadata?.name);
const patched = await core.patchNamespacedConfigMap(
  { name: "a", namespace: ns, body: { data: { k: "2", extra: "x" } } },
  setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
);

const applied = await KubernetesObjectApi.makeApiClient(kc).patch<V1ConfigMap>(
  { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "ssa", namespace: ns }, data: { owner: "vpccni" } },
  undefined,
  undefined,
  "vpccni-harness",
  true,
  PatchStrategy.ServerSideApply,
);

const events: string[] = [];
let sawModified!: () => void;
const modified = new Promise<void>((resolve) => (sawModified = resolve));
const abort = await new Watch(kc).watch(
  `/api/v1/namespaces/${ns}/configmaps`,
  { resourceVersion: "0" },
  (phase, obj: V1ConfigMap) => {
    events.push(`${phase} ${obj.metadata?.name}`);
    if (phase === "MODIFIED" && obj.metadata?.name === "w") sawModified();
  },
  () => undefined,
);
await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "w" }, data: { n: "1" } } });
await core.replaceNamespacedConfigMap({
  name: "w",
  namespace: ns,
  body: { metadata: { name: "w" }, data: { n: "2" } },
});
await modified;
abort.abort();

console.log(
  JSON.stringify({
    listed,
    patched: patched.data,
    applied: applied.data,
    managers: applied.metadata?.managedFields?.map((f) => f.manager),
    events: events.filter((e) => e.endsWith(" w")),
  }),
);
