// Real nodes: a kube-apiserver with kube-controller-manager and kube-scheduler, and two
// test-bed nodes each running containerd + kubelet (sandbox/real-cluster.ts). The policy is
// compiled (its cloud endpoint the emulator, its image the locally built one) and applied as Flux
// applies it; kubelet starts the DaemonSet from the image, the scheduler places a Deployment's
// pods by the eni-ip the agents publish, and vpccni gives them VPC IPs through containerd's CRI.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { requireControlPlane } from "../../sandbox/apiserver.ts";
import { PAUSE_IMAGE, requireContainerd } from "../../sandbox/containerd.ts";
import { LAYOUT, waitFor } from "../../sandbox/emulated-cloud.ts";
import { runOk } from "../../sandbox/exec.ts";
import { FLUX_FIELD_MANAGER } from "../../sandbox/flux-apply.ts";
import { kubeCall } from "../../sandbox/kube-api.ts";
import { type KubeletNode, requireKubelet } from "../../sandbox/kubelet.ts";
import { paths } from "../../sandbox/paths.ts";
import { requirePrereq } from "../../sandbox/prereq.ts";
import { AGENT_NAMESPACE, IMAGE_ARCHIVE, RealCluster } from "../../sandbox/real-cluster.ts";
import { ENI_IP_INJECTION_LABEL, ENI_IP_RESOURCE } from "../../schema/names.ts";
import { podTcpExchange } from "../node/pod-tcp-kit.ts";
import { inCidr, sandboxOf } from "./real-node-kit.ts";

const POOL_LABEL = { "node.vpccni.io/pool": "kubelet" };
const APP = "web";
/** 2 pod ENIs of 6 secondary IPs: 12 pods per node at most (quota counts the primary ENI and IP). */
const QUOTA = { eniQuota: 3, ipsPerEni: 7 };
const PER_NODE = 12;
/** The vpccni controller's replicas: pods with VPC IPs (and eni-ip requests) of their own. */
const CONTROLLERS = 2;
const PREBIND = { min: 2, max: 4 };

interface ApiPod {
  metadata: { name: string; namespace: string; uid: string; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status: { phase: string; podIP?: string };
}

describe("real nodes: kubelet + kube-scheduler + containerd run the compiled manifests", () => {
  let c: RealCluster;
  const nodes = () => c.nodes;

  const deployment = (replicas: number) => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: APP, namespace: APP },
    spec: {
      replicas,
      selector: { matchLabels: { app: APP } },
      template: {
        metadata: { labels: { app: APP } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: "pause",
              image: PAUSE_IMAGE,
              imagePullPolicy: "Never",
              // no eni-ip request: the webhook adds it
            },
          ],
        },
      },
    },
  });
  const scale = (replicas: number) =>
    kubeCall(c.kube.admin, "PATCH", `/apis/apps/v1/namespaces/${APP}/deployments/${APP}/scale`, {
      contentType: "application/merge-patch+json",
      body: { spec: { replicas } },
    });
  const appPods = async (): Promise<ApiPod[]> =>
    ((await c.get(`/api/v1/namespaces/${APP}/pods`)).items as ApiPod[]).filter(
      (p) => p.metadata.deletionTimestamp === undefined,
    );
  const running = async () => (await appPods()).filter((p) => p.status.phase === "Running");
  /** The pod's sandbox in its node's containerd: its netns, for a TCP check from inside. */

  /** CIDRs of the policy's pod subnets, as the cloud has them. */
  const podSubnets = () =>
    c.world.emulator
      .inventory()
      .subnets.filter((s) => LAYOUT.podSubnets.includes(s.subnetId))
      .map((s) => s.cidrBlock);

  /** rule 1 on a node: bound within pods + min .. pods + max (capped by the node's maximum). */
  const poolSettled = async (n: KubeletNode) => {
    const v = await n.node.view();
    const pods = v.pods.length;
    const bound = v.extendedResource.allocatable;
    const cap = v.extendedResource.capacity;
    return {
      pods,
      bound,
      ok: bound >= Math.min(pods + PREBIND.min, cap) && bound <= Math.min(pods + PREBIND.max, cap),
    };
  };

  beforeAll(async () => {
    requireContainerd();
    requireKubelet();
    requireControlPlane();
    requirePrereq(
      "vpccni image",
      () => existsSync(IMAGE_ARCHIVE) || `${IMAGE_ARCHIVE} does not exist`,
      "build it with `bash scripts/build-image.sh`",
    );
    c = await RealCluster.start({
      nodes: 2,
      policy: "kubelet",
      labels: POOL_LABEL,
      quota: QUOTA,
      spec: { prebind: PREBIND, ipCooldown: "0s", releaseInterval: "5s", nodeSelector: POOL_LABEL },
    });
  }, 240_000);

  afterAll(async () => {
    await c?.stop();
  }, 120_000);

  test("the DaemonSet applied as Flux applies it starts on both nodes from the image; the Nodes turn Ready", async () => {
    await c.agentsReady();
    for (const n of nodes()) {
      const node = await c.get(`/api/v1/nodes/${n.name}`);
      await waitFor(`${n.name} Ready`, async () =>
        (await c.get(`/api/v1/nodes/${n.name}`)).status.conditions.some(
          (x: { type: string; status: string }) => x.type === "Ready" && x.status === "True",
        ),
      );
      expect(node.metadata.labels["cloud.tencent.com/node-instance-id"]).toBe(n.node.instanceId);
      expect(node.metadata.labels["node.vpccni.io/pool"]).toBe("kubelet");
    }
    const ds = (await c.get(`/apis/apps/v1/namespaces/${AGENT_NAMESPACE}/daemonsets`)).items as any[];
    expect(ds).toHaveLength(1);
    expect(ds[0].metadata.managedFields.map((f: { manager: string }) => f.manager)).toContain(FLUX_FIELD_MANAGER);
    // the agent's container runs the image's binary under kubelet, not a process of the harness
    const pods = (await c.get(`/api/v1/namespaces/${AGENT_NAMESPACE}/pods`)).items as any[];
    for (const p of pods) expect(p.status.containerStatuses[0].image).toBe("ghcr.io/vpccni/vpccni:0.1.0");
  }, 200_000);

  test("each Node's eni-ip is the agent's device plugin: capacity maxBindable, allocatable the bound IPs", async () => {
    for (const n of nodes())
      await waitFor(
        `${ENI_IP_RESOURCE} on ${n.name} equal to its pool`,
        async () => {
          const node = await c.get(`/api/v1/nodes/${n.name}`);
          const { extendedResource } = await n.node.view();
          return (
            extendedResource.capacity === PER_NODE &&
            node.status.capacity?.[ENI_IP_RESOURCE] === String(extendedResource.capacity) &&
            node.status.allocatable?.[ENI_IP_RESOURCE] === String(extendedResource.allocatable)
          );
        },
        60_000,
      );
    // kubelet's status updates (every 5 s here) keep it so: allocatable is not rewritten to the capacity
    await Bun.sleep(6_000);
    for (const n of nodes()) {
      const node = await c.get(`/api/v1/nodes/${n.name}`);
      const { extendedResource, pods } = await n.node.view();
      expect(node.status.allocatable?.[ENI_IP_RESOURCE]).toBe(String(extendedResource.allocatable));
      // the controller's pods are the only ones yet: pods + prebind.min bound
      expect(extendedResource.allocatable).toBe(pods.length + PREBIND.min);
    }
  }, 90_000);

  test("the eni-ip webhook (vpccni controller, TLS it keeps itself) adds eni-ip to pods that use vpccni, and only to them", async () => {
    await kubeCall(c.kube.admin, "POST", "/api/v1/namespaces", {
      body: { apiVersion: "v1", kind: "Namespace", metadata: { name: APP } },
    });
    await kubeCall(c.kube.admin, "POST", "/api/v1/namespaces", {
      body: {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "opted-out", labels: { [ENI_IP_INJECTION_LABEL]: "disabled" } },
      },
    });
    // the controller made its CA and serving certificate, and put the CA in the configuration
    const secret = await c.get(`/api/v1/namespaces/${AGENT_NAMESPACE}/secrets/vpccni-webhook-tls`);
    const config = await c.get("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/vpccni-eni-ip");
    expect(config.webhooks[0].clientConfig.caBundle).toBe(secret.data["ca.crt"]);
    const create = async (ns: string, name: string, extra: Record<string, unknown> = {}) =>
      (
        await kubeCall(c.kube.admin, "POST", `/api/v1/namespaces/${ns}/pods?dryRun=All`, {
          body: {
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name },
            spec: { containers: [{ name: "c", image: PAUSE_IMAGE }], ...extra },
          },
        })
      ).json.spec.containers[0].resources;
    expect(await create(APP, "uses-vpccni")).toEqual({
      requests: { [ENI_IP_RESOURCE]: "1" },
      limits: { [ENI_IP_RESOURCE]: "1" },
    });
    expect(await create(APP, "host", { hostNetwork: true })).toEqual({});
    expect(await create("opted-out", "skipped")).toEqual({});
  }, 60_000);

  test("a Deployment of 20 pods: all Running on both nodes, each with a VPC IP of the policy's subnets, TCP across nodes", async () => {
    await kubeCall(c.kube.admin, "POST", `/apis/apps/v1/namespaces/${APP}/deployments`, { body: deployment(20) });
    await waitFor("20 pods Running", async () => (await running()).length === 20, 240_000).catch(async (e) => {
      const pods = await appPods();
      throw new Error(
        `${e.message}: ${pods.map((p) => `${p.metadata.name} ${p.spec.nodeName} ${p.status.phase}`).join(", ")}`,
      );
    });
    const pods = await running();
    expect(new Set(pods.map((p) => p.spec.nodeName)).size).toBe(2);
    const cidrs = podSubnets();
    expect(cidrs.length).toBeGreaterThan(0);
    const ips = pods.map((p) => p.status.podIP ?? "");
    expect(new Set(ips).size).toBe(20);
    for (const ip of ips) expect(cidrs.some((cidr) => inCidr(ip, cidr))).toBe(true);
    // the agents hold exactly these pods (and the controller's), the cloud has their IPs on the nodes' ENIs
    const controllers = (await c.get(`/api/v1/namespaces/${AGENT_NAMESPACE}/pods`)).items.filter(
      (p: any) => !p.spec.hostNetwork,
    ) as ApiPod[];
    expect(controllers).toHaveLength(CONTROLLERS);
    for (const n of nodes()) {
      const mine = [...pods, ...controllers].filter((p) => p.spec.nodeName === n.name).map((p) => p.status.podIP ?? "");
      const v = await n.node.view();
      expect(v.pods.map((x) => x.ip).sort()).toEqual(mine.sort());
      const cloud = await n.node.cloud();
      for (const ip of mine) expect(cloud.ips).toContain(ip!);
    }
    // TCP both ways across the VPC router, between pods of different nodes, no NAT
    const a = await sandboxOf(c.nodes, pods.find((p) => p.spec.nodeName === "node1")!);
    const b = await sandboxOf(c.nodes, pods.find((p) => p.spec.nodeName === "node2")!);
    const ab = await podTcpExchange(b.node.runtime, b.sandbox, a.node.runtime, a.sandbox);
    expect(ab).toEqual({ serverSaw: a.sandbox.ip, clientGot: `pong from ${b.sandbox.ip}` });
    const ba = await podTcpExchange(a.node.runtime, a.sandbox, b.node.runtime, b.sandbox);
    expect(ba).toEqual({ serverSaw: b.sandbox.ip, clientGot: `pong from ${a.sandbox.ip}` });
  }, 300_000);

  test("a pod beyond the nodes' eni-ip stays Pending with the scheduler's Insufficient event, and runs once capacity appears", async () => {
    // every IP the two nodes may bind in use: the controller's pods and the Deployment's
    const full = 2 * PER_NODE - CONTROLLERS;
    expect((await scale(full)).status).toBe(200);
    await waitFor(`${full} pods Running`, async () => (await running()).length === full, 240_000);
    await kubeCall(c.kube.admin, "POST", `/api/v1/namespaces/${APP}/pods`, {
      body: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "over" },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [{ name: "pause", image: PAUSE_IMAGE, imagePullPolicy: "Never" }],
        },
      },
    });
    const insufficient = async () =>
      ((await c.get(`/api/v1/namespaces/${APP}/events?fieldSelector=involvedObject.name=over`)).items as any[]).find(
        (e) => e.reason === "FailedScheduling" && e.message.includes(`Insufficient ${ENI_IP_RESOURCE}`),
      );
    await waitFor("the FailedScheduling event", async () => (await insufficient()) !== undefined, 30_000);
    expect((await insufficient()).message).toContain(`0/2 nodes are available: 2 Insufficient ${ENI_IP_RESOURCE}`);
    // both nodes are at their maximum: it stays Pending
    await Bun.sleep(5_000);
    const over = await c.get(`/api/v1/namespaces/${APP}/pods/over`);
    expect(over.status.phase).toBe("Pending");
    expect(over.spec.nodeName).toBeUndefined();
    // one pod of the Deployment goes: its node's IP comes free, and the pending pod runs there
    expect((await scale(full - 1)).status).toBe(200);
    await waitFor(
      "the pending pod Running",
      async () => (await c.get(`/api/v1/namespaces/${APP}/pods/over`)).status.phase === "Running",
      90_000,
    );
  }, 360_000);

  test("a DaemonSet rolling update (new policy digest) keeps every running pod's networking", async () => {
    const before = new Map((await running()).map((p) => [p.metadata.name, p.status.podIP]));
    expect(before.size).toBe(2 * PER_NODE - CONTROLLERS);
    const agentUids = async () =>
      ((await c.get(`/api/v1/namespaces/${AGENT_NAMESPACE}/pods`)).items as any[])
        .filter((p) => p.spec.hostNetwork)
        .map((p) => p.metadata.uid)
        .sort();
    const oldAgents = await agentUids();
    const ds0 = (await c.get(`/apis/apps/v1/namespaces/${AGENT_NAMESPACE}/daemonsets`)).items[0];
    // a policy change is a new ConfigMap digest on the pod template: kubelet replaces the agents
    // (a setting rule 1's bounds do not depend on, so the later checks stay the same)
    await c.deploy({ releaseInterval: "6s" });
    await waitFor(
      "the DaemonSet rolled out",
      async () => {
        const ds = (await c.get(`/apis/apps/v1/namespaces/${AGENT_NAMESPACE}/daemonsets`)).items[0];
        const now = await agentUids();
        return (
          ds.metadata.generation > ds0.metadata.generation &&
          ds.status.observedGeneration === ds.metadata.generation &&
          ds.status.updatedNumberScheduled === 2 &&
          ds.status.numberAvailable === 2 &&
          now.length === 2 &&
          now.every((u) => !oldAgents.includes(u))
        );
      },
      180_000,
    );
    await c.agentsReady();
    const after = await running();
    expect(new Map(after.map((p) => [p.metadata.name, p.status.podIP]))).toEqual(before);
    // the new agents took the pods over from their state, and the pods still talk across nodes
    const controllers = (await c.get(`/api/v1/namespaces/${AGENT_NAMESPACE}/pods`)).items.filter(
      (p: any) => !p.spec.hostNetwork,
    ) as ApiPod[];
    for (const n of nodes()) {
      const mine = [...after, ...controllers]
        .filter((p) => p.spec.nodeName === n.name)
        .map((p) => p.status.podIP ?? "");
      expect((await n.node.view()).pods.map((x) => x.ip).sort()).toEqual(mine.sort());
    }
    const a = await sandboxOf(c.nodes, after.find((p) => p.spec.nodeName === "node1")!);
    const b = await sandboxOf(c.nodes, after.find((p) => p.spec.nodeName === "node2")!);
    expect((await podTcpExchange(b.node.runtime, b.sandbox, a.node.runtime, a.sandbox)).clientGot).toBe(
      `pong from ${b.sandbox.ip}`,
    );
  }, 240_000);

  test("deleting pods frees their IPs to the pool; a drained node's pool returns to pods + min .. pods + max", async () => {
    await kubeCall(c.kube.admin, "DELETE", `/api/v1/namespaces/${APP}/pods/over`);
    expect((await scale(8)).status).toBe(200);
    await waitFor("8 pods left", async () => (await appPods()).length === 8 && (await running()).length === 8, 90_000);
    for (const n of nodes())
      await waitFor(
        `${n.name}'s pool back within rule 1`,
        async () => {
          const controllers = (await c.get(`/api/v1/namespaces/${AGENT_NAMESPACE}/pods`)).items.filter(
            (p: any) => !p.spec.hostNetwork && p.spec.nodeName === n.name && p.status.phase === "Running",
          );
          const mine = (await running()).filter((p) => p.spec.nodeName === n.name).length + controllers.length;
          const s = await poolSettled(n);
          return s.pods === mine && s.ok;
        },
        90_000,
      );
    // drain node2 as an operator does: cordon, evict; the Deployment's pods move to node1
    const drain = [
      "drain",
      "node2",
      "--ignore-daemonsets",
      "--delete-emptydir-data",
      "--timeout=120s",
      "--grace-period=1",
    ];
    await runOk([paths.kubectl, "--kubeconfig", c.kube.admin.path, ...drain]);
    await waitFor(
      "8 pods Running on node1",
      async () => {
        const r = await running();
        return r.length === 8 && r.every((p) => p.spec.nodeName === "node1");
      },
      120_000,
    );
    const n2 = nodes().find((n) => n.name === "node2")!;
    await waitFor(
      "node2's pool at 0 pods and min..max idle IPs",
      async () => {
        const s = await poolSettled(n2);
        return s.pods === 0 && s.ok;
      },
      90_000,
    );
    const n1 = nodes().find((n) => n.name === "node1")!;
    await waitFor("node1's pool within rule 1", async () => (await poolSettled(n1)).ok, 90_000);
  }, 360_000);

  test("the agents read no pods: their ServiceAccount may not, and none of their requests was refused", async () => {
    const ds = (await c.get(`/apis/apps/v1/namespaces/${AGENT_NAMESPACE}/daemonsets`)).items[0];
    const user = `system:serviceaccount:${AGENT_NAMESPACE}:${ds.spec.template.spec.serviceAccountName}`;
    for (const [verb, namespace] of [
      ["list", undefined],
      ["watch", undefined],
      ["get", APP],
    ] as const) {
      const review = await kubeCall(c.kube.admin, "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
        body: {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SubjectAccessReview",
          spec: { user, groups: ["system:serviceaccounts"], resourceAttributes: { verb, resource: "pods", namespace } },
        },
      });
      expect({ verb, allowed: review.json.status.allowed }).toEqual({ verb, allowed: false });
    }
    // Every agent container of the suite (the rolling update made new ones): no 403 in its log.
    for (const n of nodes()) {
      const ids = (await n.runtime.crictl(["ps", "-a", "--name", "^agent$", "-q"])).split("\n").filter(Boolean);
      expect(ids.length).toBeGreaterThan(0);
      for (const id of ids) expect(await n.runtime.containerLogs(id)).not.toMatch(/\b403\b|forbidden/i);
    }
  });
});
