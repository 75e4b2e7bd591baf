// The node-status admission policy (compiler/admission.ts) on a real API server: it knows every
// NodeStatus field the server's OpenAPI lists, and an agent's token cannot use its
// `patch nodes/status` right to relabel or re-annotate its Node (to attract workloads meant for
// other nodes), give it an owner or a finalizer, or rewrite runtimeHandlers, features and the
// other status fields; the agent's own patches still pass.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { FROZEN_METADATA, NODE_STATUS_FIELDS, nodeStatusGuard } from "../../compiler/admission.ts";
import { kubeCall } from "../../sandbox/kube-api.ts";
import type { Kubeconfig } from "../../sandbox/kubeconfig.ts";
import { useSharedCluster } from "../harness/shared-apiserver-kit.ts";
import { agentPod, patchStatus, serviceAccountToken } from "./deploy-kit.ts";

const ENI_IP = "tke.cloud.tencent.com/eni-ip";
const SUFFIX = Date.now().toString(36);
const NS = `vpccni-nsp-${SUFFIX}`;
const NODE = `nsp-a-${SUFFIX}`;
const OTHER_NODE = `nsp-b-${SUFFIX}`;
const SA = "vpccni-agent-nsp";
const ROLE = `vpccni-nsp-${SUFFIX}`;
const VAP = "/apis/admissionregistration.k8s.io/v1";

/** The message of a refusal (after "denied request: "), or "allowed". */
async function verdict(res: Promise<{ status: number; json: any }>): Promise<string> {
  const r = await res;
  if (r.status === 200) return "allowed";
  return `${r.status}: ${String(r.json?.message ?? "").replace(/.*denied request: /, "")}`;
}

function patchNode(kc: Kubeconfig, node: string, body: unknown, type = "merge-patch") {
  return kubeCall(kc, "PATCH", `/api/v1/nodes/${node}/status`, {
    contentType: `application/${type}+json`,
    body,
    allow: [403, 422],
  });
}

// Outside the describe block: its afterAll (release) runs after the block's clean-up.
const cluster = useSharedCluster();

describe("the node-status admission policy", () => {
  let agent: Kubeconfig;
  const [policy, binding] = nodeStatusGuard(NS).map((r) => r.manifest as any);

  beforeAll(async () => {
    const c = cluster();
    const admin = c.admin;
    await kubeCall(admin, "POST", "/api/v1/namespaces", {
      body: { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } },
    });
    await kubeCall(admin, "POST", `/api/v1/namespaces/${NS}/serviceaccounts`, {
      body: { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: SA } },
    });
    // The RBAC grant the policy narrows (the compiled ClusterRole has the same rule).
    await kubeCall(admin, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", {
      body: {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: ROLE },
        rules: [{ apiGroups: [""], resources: ["nodes/status"], verbs: ["patch"] }],
      },
    });
    await kubeCall(admin, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
      body: {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name: ROLE },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: ROLE },
        subjects: [{ kind: "ServiceAccount", name: SA, namespace: NS }],
      },
    });
    for (const name of [NODE, OTHER_NODE]) {
      await kubeCall(admin, "POST", "/api/v1/nodes", {
        body: {
          apiVersion: "v1",
          kind: "Node",
          metadata: { name, labels: { "node.kubernetes.io/pool": "general" }, annotations: { "example.com/a": "1" } },
        },
      });
    }
    // What a kubelet reports, so that the agent has something to tamper with.
    await patchNode(admin, NODE, {
      status: {
        capacity: { cpu: "4", [ENI_IP]: "10" },
        allocatable: { cpu: "4", [ENI_IP]: "0" },
        runtimeHandlers: [{ name: "runc", features: { recursiveReadOnlyMounts: true, userNamespaces: true } }],
        features: { supplementalGroupsPolicy: true },
      },
    });
    agent = await serviceAccountToken(c, NS, SA, await agentPod(c, NS, "nsp", NODE));
    // The compiled policy, applied as the other suites apply it (same field manager).
    for (const [kind, m] of [
      ["validatingadmissionpolicies", policy],
      ["validatingadmissionpolicybindings", binding],
    ] as const) {
      await kubeCall(admin, "PATCH", `${VAP}/${kind}/${m.metadata.name}?fieldManager=vpccni-test&force=true`, {
        contentType: "application/apply-patch+yaml",
        body: m,
      });
    }
    // In force once the API server's informer has it (about a second).
    const deadline = Date.now() + 20_000;
    while ((await patchStatus(agent, OTHER_NODE, { capacity: { [ENI_IP]: "1" } })).status === 200) {
      if (Date.now() > deadline) throw new Error("the node-status admission policy never took effect");
      await Bun.sleep(200);
    }
  }, 60_000);

  afterAll(async () => {
    // Cluster-scoped and shared by name with the other suites: leave nothing behind.
    const admin = cluster().admin;
    await kubeCall(admin, "DELETE", `${VAP}/validatingadmissionpolicybindings/${binding.metadata.name}`, {
      allow: [404],
    });
    await kubeCall(admin, "DELETE", `${VAP}/validatingadmissionpolicies/${policy.metadata.name}`, { allow: [404] });
    for (const path of [
      `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${ROLE}`,
      `/apis/rbac.authorization.k8s.io/v1/clusterroles/${ROLE}`,
      `/api/v1/nodes/${NODE}`,
      `/api/v1/nodes/${OTHER_NODE}`,
    ])
      await kubeCall(admin, "DELETE", path, { allow: [404] });
  });

  test("it covers every NodeStatus field of the server's OpenAPI (io.k8s.api.core.v1.NodeStatus)", async () => {
    const openapi = await kubeCall(cluster().admin, "GET", "/openapi/v3/api/v1");
    const schema = openapi.json.components.schemas["io.k8s.api.core.v1.NodeStatus"];
    expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(NODE_STATUS_FIELDS).sort());
    // and the metadata it freezes are fields of ObjectMeta
    const meta = openapi.json.components.schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"];
    for (const f of FROZEN_METADATA) expect({ f, known: f in meta.properties }).toEqual({ f, known: true });
    // The compiled policy's CEL names each of them.
    const cel = policy.spec.validations.map((v: { expression: string }) => v.expression).join("\n");
    for (const f of [
      ...Object.keys(NODE_STATUS_FIELDS).map((f) => `status.${f}`),
      ...FROZEN_METADATA.map((f) => `metadata.${f}`),
    ])
      expect({ f, guarded: cel.includes(`object.${f}`) && cel.includes(`oldObject.${f}`) }).toEqual({
        f,
        guarded: true,
      });
  });

  test("the agent's own patches pass: eni-ip capacity and allocatable, its VpccniDrained condition", async () => {
    expect(
      await verdict(
        patchNode(agent, NODE, { status: { capacity: { [ENI_IP]: "30" }, allocatable: { [ENI_IP]: "5" } } }),
      ),
    ).toBe("allowed");
    const drained = { type: "VpccniDrained", status: "True", reason: "Drained", message: "test" };
    expect(await verdict(patchStatus(agent, NODE, { conditions: [drained] }))).toBe("allowed");
  });

  test("labels, annotations, owners and finalizers cannot be changed through nodes/status", async () => {
    const refused = `403: a vpccni agent may not change a Node's metadata.labels, metadata.annotations, metadata.ownerReferences, metadata.finalizers (its rights are for status only)`;
    const owner = { apiVersion: "v1", kind: "ConfigMap", name: "gone", uid: "00000000-0000-0000-0000-000000000001" };
    const attempts = {
      "add a label": { metadata: { labels: { "node-role.kubernetes.io/secrets": "" } } },
      "change a label": { metadata: { labels: { "node.kubernetes.io/pool": "sensitive" } } },
      "remove a label": { metadata: { labels: { "node.kubernetes.io/pool": null } } },
      "add an annotation": { metadata: { annotations: { "example.com/b": "2" } } },
      "change an annotation": { metadata: { annotations: { "example.com/a": "2" } } },
      "give it an owner": { metadata: { ownerReferences: [owner] } },
      "add a finalizer": { metadata: { finalizers: ["example.com/hold"] } },
    };
    const verdicts: Record<string, string> = {};
    for (const [what, body] of Object.entries(attempts)) verdicts[what] = await verdict(patchNode(agent, NODE, body));
    expect(verdicts).toEqual(Object.fromEntries(Object.keys(attempts).map((k) => [k, refused])));
    // ... even together with an allowed change
    expect(
      await verdict(
        patchNode(agent, NODE, { metadata: { labels: { x: "y" } }, status: { capacity: { [ENI_IP]: "31" } } }),
      ),
    ).toBe(refused);
    const node = await kubeCall(cluster().admin, "GET", `/api/v1/nodes/${NODE}`);
    expect({ labels: node.json.metadata.labels, annotations: node.json.metadata.annotations }).toEqual({
      labels: { "node.kubernetes.io/pool": "general" },
      annotations: { "example.com/a": "1" },
    });
    expect(node.json.metadata.ownerReferences).toBeUndefined();
    expect(node.json.metadata.finalizers).toBeUndefined();
  });

  test("runtimeHandlers, features and the other status fields cannot be changed", async () => {
    const refused = `403: a vpccni agent may only change status.capacity and status.allocatable (${ENI_IP}) and its VpccniDrained condition`;
    const attempts = {
      runtimeHandlers: { runtimeHandlers: [{ name: "evil", features: { recursiveReadOnlyMounts: true } }] },
      "runtimeHandlers removed": { runtimeHandlers: null },
      features: { features: { supplementalGroupsPolicy: false } },
      addresses: { addresses: [{ type: "InternalIP", address: "10.0.0.66" }] },
      nodeInfo: { nodeInfo: { kubeletVersion: "v9.9.9" } },
      daemonEndpoints: { daemonEndpoints: { kubeletEndpoint: { Port: 1 } } },
      images: { images: [{ names: ["evil:latest"], sizeBytes: 1 }] },
      volumesInUse: { volumesInUse: ["kubernetes.io/csi/x"] },
      volumesAttached: { volumesAttached: [{ name: "kubernetes.io/csi/x", devicePath: "/dev/x" }] },
    };
    const verdicts: Record<string, string> = {};
    for (const [what, status] of Object.entries(attempts))
      verdicts[what] = await verdict(patchNode(agent, NODE, { status }));
    expect(verdicts).toEqual(Object.fromEntries(Object.keys(attempts).map((k) => [k, refused])));
    const node = await kubeCall(cluster().admin, "GET", `/api/v1/nodes/${NODE}`);
    expect({ runtimeHandlers: node.json.status.runtimeHandlers, features: node.json.status.features }).toEqual({
      runtimeHandlers: [{ name: "runc", features: { recursiveReadOnlyMounts: true, userNamespaces: true } }],
      features: { supplementalGroupsPolicy: true },
    });
    // The admin (or a kubelet) is not held to it.
    expect(
      await verdict(patchNode(cluster().admin, NODE, { status: { features: { supplementalGroupsPolicy: false } } })),
    ).toBe("allowed");
  });
});
