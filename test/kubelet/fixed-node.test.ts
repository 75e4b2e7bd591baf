// Fixed IP mode on real nodes: the compiled fixed-mode output (CRDs, the controller on the host
// network, the agents) applied as Flux applies it to a control plane with kube-scheduler and the
// StatefulSet controller, two test-bed nodes running containerd + kubelet. A StatefulSet's pods
// get VPC IPs of the node ENIs' subnet through containerd's CRI; the webhook adds eni-ip and the
// placement rule; a pod deleted and re-created by its StatefulSet on the other node keeps its
// address there, and TCP reaches it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { requireControlPlane } from "../../sandbox/apiserver.ts";
import { PAUSE_IMAGE, requireContainerd } from "../../sandbox/containerd.ts";
import { LAYOUT, waitFor } from "../../sandbox/emulated-cloud.ts";
import { kubeCall } from "../../sandbox/kube-api.ts";
import { type KubeletNode, requireKubelet } from "../../sandbox/kubelet.ts";
import { requirePrereq } from "../../sandbox/prereq.ts";
import { AGENT_NAMESPACE, IMAGE_ARCHIVE, RealCluster } from "../../sandbox/real-cluster.ts";
import { ENI_IP_RESOURCE, ENI_SUBNET_LABEL } from "../../schema/names.ts";
import { podTcpExchange } from "../node/pod-tcp-kit.ts";
import { inCidr, sandboxOf } from "./real-node-kit.ts";

const POOL_LABEL = { "node.vpccni.io/pool": "stateful" };
const NS = "stateful";
/** One pod ENI of 6 secondary IPs a node (the quota counts the primary ENI and IP). */
const QUOTA = { eniQuota: 3, ipsPerEni: 7 };
const GROUP = "/apis/vpccni.io/v1alpha1";

interface ApiPod {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  spec: { nodeName?: string; affinity?: any; containers: { resources?: any }[] };
  status: { phase: string; podIP?: string };
}

describe("fixed IP mode on real nodes: StatefulSet pods keep their addresses across nodes", () => {
  let c: RealCluster;
  const pod = async (name: string): Promise<ApiPod | null> => {
    const r = await kubeCall(c.kube.admin, "GET", `/api/v1/namespaces/${NS}/pods/${name}`, { allow: [404] });
    return r.status === 404 ? null : r.json;
  };
  const claim = async (name: string) =>
    (await kubeCall(c.kube.admin, "GET", `${GROUP}/namespaces/${NS}/vpcipclaims/${name}`, { allow: [404] })).json;
  const runningPod = (name: string, uidNot?: string) =>
    waitFor(
      `${name} Running`,
      async () => {
        const p = await pod(name);
        return !!p && p.status.phase === "Running" && !!p.status.podIP && p.metadata.uid !== uidNot;
      },
      180_000,
    ).then(async () => (await pod(name)) as ApiPod);

  const subnetCidr = () =>
    c.world.emulator.inventory().subnets.find((s) => s.subnetId === LAYOUT.podSubnets[0])?.cidrBlock as string;

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
      policy: "stateful",
      labels: POOL_LABEL,
      quota: QUOTA,
      spec: {
        ipMode: "fixed",
        // one subnet: both node ENIs in it, so an address may follow its pod to the other node
        subnets: [LAYOUT.podSubnets[0]],
        fixedIp: { reclaim: "Never" },
        nodeSelector: POOL_LABEL,
      },
    });
  }, 240_000);

  afterAll(async () => {
    await c?.stop();
  }, 120_000);

  test("agents and the controller (host network) run; each node gets one ENI, its subnet label and eni-ip = its quota", async () => {
    await c.agentsReady();
    await waitFor(
      "the controller's two replicas Ready",
      async () => {
        const d = await c.get(`/apis/apps/v1/namespaces/${AGENT_NAMESPACE}/deployments/vpccni-controller`);
        return d.status?.readyReplicas === 2;
      },
      180_000,
    );
    for (const n of c.nodes)
      await waitFor(
        `${n.name}: ENI bound, labelled, eni-ip 6`,
        async () => {
          const nec = await c.get(`${GROUP}/nodeeniconfigs/${n.name}`).catch(() => null);
          const node = await c.get(`/api/v1/nodes/${n.name}`);
          return (
            !!nec?.status?.eniId &&
            node.metadata.labels[ENI_SUBNET_LABEL] === LAYOUT.podSubnets[0] &&
            node.status.allocatable?.[ENI_IP_RESOURCE] === "6"
          );
        },
        120_000,
      );
    // one ENI per node, no secondary IP bound ahead of pods
    for (const n of c.nodes) expect((await n.node.cloud()).enis).toHaveLength(1);
  }, 400_000);

  test("a StatefulSet's pods get VPC IPs of the subnet, their claims say so, TCP between them", async () => {
    await kubeCall(c.kube.admin, "POST", "/api/v1/namespaces", { body: { metadata: { name: NS } } });
    await kubeCall(c.kube.admin, "POST", `/apis/apps/v1/namespaces/${NS}/statefulsets`, {
      body: {
        metadata: { name: "db" },
        spec: {
          serviceName: "db",
          replicas: 2,
          selector: { matchLabels: { app: "db" } },
          template: {
            metadata: {
              labels: { app: "db" },
              annotations: { "tke.cloud.tencent.com/vpc-ip-claim-delete-policy": "Never" },
            },
            spec: {
              terminationGracePeriodSeconds: 1,
              // one a node, so that both nodes serve fixed IPs
              affinity: {
                podAntiAffinity: {
                  requiredDuringSchedulingIgnoredDuringExecution: [
                    { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: { app: "db" } } },
                  ],
                },
              },
              containers: [{ name: "pause", image: PAUSE_IMAGE, imagePullPolicy: "Never" }],
            },
          },
        },
      },
    });
    const [db0, db1] = [await runningPod("db-0"), await runningPod("db-1")];
    expect(db0.spec.nodeName).not.toBe(db1.spec.nodeName);
    for (const p of [db0, db1]) {
      expect(inCidr(p.status.podIP as string, subnetCidr())).toBe(true);
      const cl = await claim(p.metadata.name);
      expect([cl.status.phase, cl.status.address, cl.status.node]).toEqual(["Bound", p.status.podIP, p.spec.nodeName]);
      // the webhook: eni-ip on the first container
      expect(p.spec.containers[0]?.resources?.requests?.[ENI_IP_RESOURCE]).toBe("1");
      const n = c.nodes.find((x) => x.name === p.spec.nodeName) as KubeletNode;
      expect((await n.node.cloud()).ips).toContain(p.status.podIP as string);
    }
    const a = await sandboxOf(c.nodes, db0);
    const b = await sandboxOf(c.nodes, db1);
    expect(await podTcpExchange(b.node.runtime, b.sandbox, a.node.runtime, a.sandbox)).toEqual({
      serverSaw: a.sandbox.ip,
      clientGot: `pong from ${b.sandbox.ip}`,
    });
  }, 300_000);

  test("db-0 deleted, its node cordoned: the StatefulSet re-creates it on the other node with the same address", async () => {
    const before = (await pod("db-0")) as ApiPod;
    const oldNode = before.spec.nodeName as string;
    const ip = before.status.podIP as string;
    // db-1 goes too, so that the anti-affinity lets db-0 onto db-1's node; it keeps its address as well
    const db1 = (await pod("db-1")) as ApiPod;
    await kubeCall(c.kube.admin, "PATCH", `/api/v1/nodes/${oldNode}`, {
      contentType: "application/merge-patch+json",
      body: { spec: { unschedulable: true } },
    });
    try {
      await kubeCall(c.kube.admin, "PATCH", `/apis/apps/v1/namespaces/${NS}/statefulsets/db/scale`, {
        contentType: "application/merge-patch+json",
        body: { spec: { replicas: 1 } },
      });
      await waitFor("db-1 gone", async () => (await pod("db-1")) === null, 120_000);
      await kubeCall(c.kube.admin, "DELETE", `/api/v1/namespaces/${NS}/pods/db-0`);
      const after = await runningPod("db-0", before.metadata.uid);
      expect(after.spec.nodeName).not.toBe(oldNode);
      expect(after.status.podIP).toBe(ip);
      // the webhook pinned it to nodes of its address's subnet
      const terms =
        after.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
      expect(JSON.stringify(terms)).toContain(ENI_SUBNET_LABEL);
      const cl = await claim("db-0");
      expect([cl.status.phase, cl.status.node, cl.status.address]).toEqual(["Bound", after.spec.nodeName, ip]);
      const newNode = c.nodes.find((n) => n.name === after.spec.nodeName) as KubeletNode;
      const oldOne = c.nodes.find((n) => n.name === oldNode) as KubeletNode;
      expect((await newNode.node.cloud()).ips).toContain(ip);
      expect((await oldOne.node.cloud()).ips).not.toContain(ip);
      // db-1's address is kept for it
      expect((await claim("db-1")).status.phase).toBe("Kept");
      expect((await claim("db-1")).status.address).toBe(db1.status.podIP);
      // TCP reaches db-0 at its address on its new node, from a pod of the old one (db-1 back there)
      await kubeCall(c.kube.admin, "PATCH", `/api/v1/nodes/${oldNode}`, {
        contentType: "application/merge-patch+json",
        body: { spec: { unschedulable: false } },
      });
      await kubeCall(c.kube.admin, "PATCH", `/apis/apps/v1/namespaces/${NS}/statefulsets/db/scale`, {
        contentType: "application/merge-patch+json",
        body: { spec: { replicas: 2 } },
      });
      const back = await runningPod("db-1", db1.metadata.uid);
      expect(back.status.podIP).toBe(db1.status.podIP);
      const s0 = await sandboxOf(c.nodes, after);
      const s1 = await sandboxOf(c.nodes, back);
      expect(await podTcpExchange(s0.node.runtime, s0.sandbox, s1.node.runtime, s1.sandbox)).toEqual({
        serverSaw: s1.sandbox.ip,
        clientGot: `pong from ${s0.sandbox.ip}`,
      });
    } finally {
      await kubeCall(c.kube.admin, "PATCH", `/api/v1/nodes/${oldNode}`, {
        contentType: "application/merge-patch+json",
        body: { spec: { unschedulable: false } },
      }).catch(() => {});
    }
  }, 400_000);
});
