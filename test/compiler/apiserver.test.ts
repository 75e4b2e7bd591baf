// The compiled output against a real kube-apiserver (test/harness): kustomize renders it,
// server-side apply accepts it wave by wave (dry run first) without a warning, and the
// agent's ServiceAccount can make exactly the requests in AGENT_API_REQUESTS.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { AGENT_API_REQUESTS, AGENT_DENIED_REQUESTS, agentRequestFor, EVENTS_NAMESPACE } from "../../compiler/index.ts";
import type { Kubeconfig } from "../../sandbox/kubeconfig.ts";
import { kubeCall } from "../../sandbox/kube-api.ts";
import { writeKubeconfig } from "../../sandbox/kubeconfig.ts";
import { run } from "../../sandbox/exec.ts";
import { useSharedCluster } from "../harness/shared-apiserver-kit.ts";
import {
  agentPod,
  allowed,
  compileExamples,
  kubectl,
  ownRules,
  patchStatus,
  REPO,
  serviceAccountToken,
  wave,
} from "./deploy-kit.ts";

// A namespace of its own: the shared cluster never deletes namespaces (no controller-manager).
const ENI_IP = "tke.cloud.tencent.com/eni-ip";
const NS = `vpccni-it-${Date.now().toString(36)}`;
const NODE = "node-a";
const OTHER_NODE = "node-b";

describe("compiled examples on a real API server", () => {
  const cluster = useSharedCluster();
  let out: { dir: string; files: string[] };
  beforeAll(async () => {
    out = await compileExamples(NS);
  });
  afterAll(() => rmSync(out.dir, { recursive: true, force: true }));

  test("kubectl kustomize renders every object, the Namespace first and workloads last", async () => {
    const res = await kubectl(cluster().admin, ["kustomize", out.dir]);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const kinds = [...res.stdout.matchAll(/^kind: (\w+)$/gm)].map((m) => m[1]);
    // kustomize's own kind order (it agrees with our waves).
    expect(kinds).toEqual([
      "Namespace",
      // fixed IP mode's cluster objects (examples/policies/stateful.yaml)
      "CustomResourceDefinition",
      "CustomResourceDefinition",
      "CustomResourceDefinition",
      "CustomResourceDefinition",
      "ServiceAccount",
      "ServiceAccount",
      "ServiceAccount",
      "ServiceAccount",
      "Role",
      "Role",
      "ClusterRole",
      "ClusterRole",
      "RoleBinding",
      "RoleBinding",
      "ClusterRoleBinding",
      "ClusterRoleBinding",
      "ConfigMap",
      "ConfigMap",
      "ConfigMap",
      "ConfigMap",
      "Service",
      "Service",
      "Deployment",
      "PodDisruptionBudget",
      "ValidatingAdmissionPolicy",
      "ValidatingAdmissionPolicyBinding",
      "DaemonSet",
      "DaemonSet",
      "DaemonSet",
      "MutatingWebhookConfiguration",
    ]);
  });

  test("server-side apply, wave by wave: dry run, then for real, without warnings; a second apply changes nothing", async () => {
    const admin = cluster().admin;
    // wave 3 is the eni-ip webhook's configuration: only a dry run here, since no controller
    // serves it on this shared API server and failurePolicy Fail would refuse the other suites'
    // pods (test/kubelet applies and exercises it with the controller running)
    for (const w of [0, 1, 2, 3]) {
      const files = out.files.filter((f) => wave(out.dir, f) === w).flatMap((f) => ["-f", join(out.dir, f)]);
      expect(files.length).toBeGreaterThan(0);
      for (const dry of w === 3 ? [["--dry-run=server"]] : [["--dry-run=server"], []]) {
        const res = await kubectl(admin, ["apply", "--server-side", "--field-manager=vpccni-test", ...dry, ...files]);
        expect({ wave: w, dry: dry.length > 0, code: res.code, stderr: res.stderr }).toEqual({
          wave: w,
          dry: dry.length > 0,
          code: 0,
          stderr: "",
        });
      }
    }
    const applied = out.files.filter((f) => wave(out.dir, f) < 3).flatMap((f) => ["-f", join(out.dir, f)]);
    const again = await kubectl(admin, ["apply", "--server-side", "--field-manager=vpccni-test", ...applied]);
    expect(again.stderr).toBe("");
    expect(
      again.stdout
        .trim()
        .split("\n")
        .every((l) => l.endsWith(" serverside-applied")),
    ).toBe(true);
    // Nothing the server defaults differs from what we wrote in a way apply would fight over.
    const diff = await kubectl(admin, ["diff", "--server-side", "--field-manager=vpccni-test", ...applied]);
    expect({ code: diff.code, stdout: diff.stdout, stderr: diff.stderr }).toEqual({ code: 0, stdout: "", stderr: "" });
    const ds = await kubeCall(admin, "GET", `/apis/apps/v1/namespaces/${NS}/daemonsets/vpccni-agent-general`);
    expect(ds.json.spec.template.spec.priorityClassName).toBe("system-node-critical");
    expect(ds.json.spec.template.spec.containers[0].securityContext.capabilities).toEqual({
      add: ["NET_ADMIN", "SYS_ADMIN"],
      drop: ["ALL"],
    });
  }, 60_000);

  test("the committed variants output (kube-system, no Namespace object) passes a server-side dry run", async () => {
    const dir = join(REPO, "compiler", "testdata", "variants", "expected");
    const res = await kubectl(cluster().admin, [
      "apply",
      "--server-side",
      "--dry-run=server",
      "--field-manager=vpccni-variants",
      "--force-conflicts",
      "-k",
      dir,
    ]);
    expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: "" });
    expect(res.stdout).toContain("daemonset.apps/vpccni-agent-edge serverside-applied (server dry run)");
  });

  describe("the agent's RBAC", () => {
    let general: Kubeconfig;
    let batch: Kubeconfig;
    beforeAll(async () => {
      const c = cluster();
      for (const name of [NODE, OTHER_NODE]) {
        await kubeCall(c.admin, "POST", "/api/v1/nodes", {
          body: { apiVersion: "v1", kind: "Node", metadata: { name } },
          allow: [409],
        });
      }
      // Tokens as the kubelet mounts them: bound to an agent pod, so they carry its node.
      general = await serviceAccountToken(c, NS, "vpccni-agent-general", await agentPod(c, NS, "general", NODE));
      batch = await serviceAccountToken(c, NS, "vpccni-agent-batch", await agentPod(c, NS, "batch", OTHER_NODE));
      for (const name of ["tencentcloud-credentials"]) {
        await kubeCall(c.admin, "POST", `/api/v1/namespaces/${NS}/secrets`, {
          body: {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name },
            stringData: { TENCENTCLOUD_SECRET_ID: "test-id", TENCENTCLOUD_SECRET_KEY: "test-key" },
          },
        });
      }
      await kubeCall(c.admin, "POST", `/api/v1/namespaces/${NS}/pods`, {
        body: {
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "p1", annotations: { "tke.cloud.tencent.com/networks": "tke-route-eni" } },
          spec: { nodeName: NODE, containers: [{ name: "c", image: "example.invalid/none" }] },
        },
      });
    });

    test("every request in AGENT_API_REQUESTS is allowed (SelfSubjectAccessReview with the agent's own token)", async () => {
      for (const r of AGENT_API_REQUESTS) {
        const attributes = {
          verb: r.verb,
          group: r.group,
          resource: r.resource,
          subresource: r.subresource,
          ...(r.scope === "cluster" ? {} : { namespace: r.scope.namespace }),
          ...(r.resource === "nodes" ? { name: NODE } : {}),
        };
        expect({ ...attributes, allowed: await allowed(general, attributes) }).toEqual({
          ...attributes,
          allowed: true,
        });
      }
    });

    test("the agent's requests work for real, as runtime/kube sends them: node status, fixed IP objects, Node events", async () => {
      // Each request below is first matched to its AGENT_API_REQUESTS entry, as the agent's tests do.
      const seen = new Set<string>();
      const agentCall: typeof kubeCall = (kc, method, path, opts) => {
        const entry = agentRequestFor(method, path);
        if (entry === undefined) throw new Error(`${method} ${path} is not in AGENT_API_REQUESTS`);
        seen.add(`${entry.verb} ${entry.resource}${entry.subresource ? `/${entry.subresource}` : ""}`);
        return kubeCall(kc, method, path, opts);
      };
      const patch = await agentCall(general, "PATCH", `/api/v1/nodes/${NODE}/status`, {
        contentType: "application/merge-patch+json",
        body: { status: { capacity: { [ENI_IP]: "30" }, allocatable: { [ENI_IP]: "5" } } },
      });
      expect(patch.json.status.allocatable[ENI_IP]).toBe("5");
      // fixed IP mode: a pod's claim and the Node's NodeENIConfig. Allowed is all this proves
      // (403 would be a denial): whether the CRDs exist here depends on the other suites.
      for (const path of [
        `/apis/vpccni.io/v1alpha1/namespaces/${NS}/vpcipclaims/p1`,
        `/apis/vpccni.io/v1alpha1/nodeeniconfigs/${NODE}`,
      ]) {
        expect([200, 404]).toContain((await agentCall(general, "GET", path, { allow: [404] })).status);
      }
      const event = await agentCall(general, "POST", `/api/v1/namespaces/${EVENTS_NAMESPACE}/events`, {
        body: {
          apiVersion: "v1",
          kind: "Event",
          metadata: { generateName: `${NODE}.vpccni.` },
          type: "Warning",
          reason: "SubnetExhausted",
          message: "test",
          involvedObject: { kind: "Node", name: NODE, apiVersion: "v1" },
          source: { component: "vpccni-agent", host: NODE },
        },
      });
      expect(event.status).toBe(201);
      // Every entry of the list was exercised.
      expect(seen.size).toBe(AGENT_API_REQUESTS.length);
    });

    test("requests the agent does not make are denied", async () => {
      const denied = AGENT_DENIED_REQUESTS.map((d) => ({ ...d, namespace: d.namespace === "NS" ? NS : d.namespace }));
      for (const sa of [general, batch]) {
        for (const d of denied) expect({ ...d, allowed: await allowed(sa, d) }).toEqual({ ...d, allowed: false });
      }
      // The credentials Secret reaches the agent as a volume: its ServiceAccount cannot read it.
      const secret = await kubeCall(general, "GET", `/api/v1/namespaces/${NS}/secrets/tencentcloud-credentials`, {
        allow: [403],
      });
      expect(secret.status).toBe(403);
      // No pod reads at all, for real: all pods, the pods of its own node, one pod (even the
      // annotated one on its node), a watch. Gone pods are found from netns paths, mixed
      // mode's annotation comes from the runtime: a stolen agent token reads no pod spec.
      const podReads = [
        "/api/v1/pods",
        `/api/v1/pods?fieldSelector=spec.nodeName%3D${NODE}`,
        `/api/v1/namespaces/${NS}/pods`,
        `/api/v1/namespaces/${NS}/pods/p1`,
        "/api/v1/pods?watch=1",
      ];
      for (const sa of [general, batch])
        for (const path of podReads) {
          const r = await kubeCall(sa, "GET", path, { allow: [403] });
          expect({ path, status: r.status, reason: r.json.reason }).toEqual({ path, status: 403, reason: "Forbidden" });
        }
      const ds = await kubeCall(
        cluster().admin,
        "GET",
        `/apis/apps/v1/namespaces/${NS}/daemonsets/vpccni-agent-general`,
      );
      expect(ds.json.spec.template.spec.volumes).toContainEqual({
        name: "credentials",
        secret: { secretName: "tencentcloud-credentials", defaultMode: 0o400, optional: true },
      });
    });

    test("the admission policy narrows patch nodes/status to the agent's own node, the eni-ip resource and the VpccniDrained condition", async () => {
      const c = cluster();
      // The policy takes effect once the API server's informer has it (about a second).
      const deadline = Date.now() + 20_000;
      while ((await patchStatus(general, OTHER_NODE, { capacity: { [ENI_IP]: "1" } })).status === 200) {
        if (Date.now() > deadline) throw new Error("the node-status admission policy never took effect");
        await Bun.sleep(200);
      }
      const other = await patchStatus(general, OTHER_NODE, { capacity: { [ENI_IP]: "7" } });
      expect({ status: other.status, message: other.json.message }).toEqual({
        status: 403,
        message: `nodes "${OTHER_NODE}" is forbidden: ValidatingAdmissionPolicy 'vpccni-agent-node-status' with binding 'vpccni-agent-node-status' denied request: a vpccni agent may only update the status of the node it runs on (token for ${NODE}, request for ${OTHER_NODE})`,
      });
      expect(
        (await patchStatus(general, NODE, { capacity: { [ENI_IP]: "31" }, allocatable: { [ENI_IP]: "6" } })).status,
      ).toBe(200);
      const cpu = await patchStatus(general, NODE, { capacity: { cpu: "64" } });
      expect({ status: cpu.status, reason: cpu.json.message.replace(/.*denied request: /, "") }).toEqual({
        status: 403,
        reason: `a vpccni agent may only change ${ENI_IP} in status.capacity`,
      });
      // Conditions: only the agent's own (switching off), never kubelet's.
      const kubelets = {
        type: "Ready",
        status: "True",
        reason: "KubeletReady",
        message: "kubelet is posting ready status",
      };
      expect((await patchStatus(c.admin, NODE, { conditions: [kubelets] })).status).toBe(200);
      const ready = await patchStatus(general, NODE, {
        conditions: [{ type: "Ready", status: "False", reason: "Hijacked", message: "x" }],
      });
      expect({ status: ready.status, reason: ready.json.message.replace(/.*denied request: /, "") }).toEqual({
        status: 403,
        reason: "a vpccni agent may only change the VpccniDrained condition in status.conditions",
      });
      const drained = { type: "VpccniDrained", status: "False", reason: "Draining", message: "test" };
      expect((await patchStatus(general, NODE, { conditions: [drained] })).status).toBe(200);
      const phase = await patchStatus(general, NODE, { phase: "Terminated" });
      expect({ status: phase.status, reason: phase.json.message.replace(/.*denied request: /, "") }).toEqual({
        status: 403,
        reason: `a vpccni agent may only change status.capacity and status.allocatable (${ENI_IP}) and its VpccniDrained condition`,
      });
      const node = await kubeCall(c.admin, "GET", `/api/v1/nodes/${NODE}`);
      expect(
        node.json.status.conditions.map((x: { type: string; status: string }) => `${x.type}=${x.status}`).sort(),
      ).toEqual(["Ready=True", "VpccniDrained=False"]);
      // A token not bound to a pod names no node: no status patch at all.
      const unbound = await serviceAccountToken(c, NS, "vpccni-agent-general");
      expect((await patchStatus(unbound, NODE, { capacity: { [ENI_IP]: "2" } })).status).toBe(403);
      // Only vpccni's agents are held to it: the admin (or a kubelet) is not.
      expect((await patchStatus(c.admin, OTHER_NODE, { capacity: { cpu: "8" } })).status).toBe(200);
      // (Type-check warnings live in the policy's status, which kube-controller-manager writes
      // and the harness does not run; the allowed patch above shows every expression evaluates.)
    }, 30_000);

    test("the agent's own Kubernetes client (runtime/kube) works with these rights (a missing object is null), and is refused on another node", async () => {
      const c = cluster();
      const kubeconfig = writeKubeconfig(join(out.dir, "general.kubeconfig"), {
        server: c.server,
        ca: c.admin.ca,
        token: general.token,
        user: "vpccni-agent-general",
      });
      const res = await run([process.execPath, join(import.meta.dir, "agent-kube-probe.ts")], {
        env: {
          KUBECONFIG: kubeconfig.path,
          NODE_EXTRA_CA_CERTS: c.caFile,
          PROBE_NODE: NODE,
          PROBE_OTHER_NODE: OTHER_NODE,
          PROBE_NAMESPACE: NS,
        },
      });
      expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: "" });
      expect(JSON.parse(res.stdout)).toEqual({
        setEniIpResource: "ok",
        missingClaim: null,
        missingNodeEniConfig: null,
        nodeEvent: "ok",
        setNodeCondition: "ok",
        // Refused by the node-status admission policy (in force since the test above).
        otherNodeStatus: "failed 403",
        otherNodeCondition: "failed 403",
      });
      const node = await kubeCall(c.admin, "GET", `/api/v1/nodes/${NODE}`);
      expect(node.json.status.allocatable[ENI_IP]).toBe("12");
      const conditions = node.json.status.conditions as { type: string; status: string; reason: string }[];
      expect(conditions.find((x) => x.type === "VpccniDrained")).toMatchObject({ status: "True", reason: "Drained" });
    }, 30_000);

    test("the server lists exactly the agent's rules for its ServiceAccount, nothing more", async () => {
      // no pod rights of any kind
      const everywhere = ["get vpccni.io/nodeeniconfigs", "get vpccni.io/vpcipclaims", "patch core/nodes/status"];
      for (const sa of [general, batch]) {
        expect(await ownRules(sa, NS)).toEqual(everywhere);
        expect(await ownRules(sa, "kube-system")).toEqual(everywhere);
        expect(await ownRules(sa, EVENTS_NAMESPACE)).toEqual(["create core/events", ...everywhere]);
      }
    });
  });
});
