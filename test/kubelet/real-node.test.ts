// Real nodes: a kube-apiserver with kube-controller-manager and kube-scheduler, and two
// test-bed nodes each running containerd + kubelet. The policy is compiled (its cloud endpoint
// the emulator, its image the locally built one) and applied as Flux applies it; kubelet starts
// the DaemonSet from the image, the scheduler places a Deployment's pods, and vpccni gives them
// VPC IPs through containerd's CRI, exactly as on a cluster.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { compileToDir } from "../../compiler/index.ts";
import { type Cluster, startCluster } from "../../sandbox/apiserver.ts";
import { requireContainerd } from "../../sandbox/containerd.ts";
import { EmulatedCluster, waitFor } from "../../sandbox/emulated-cluster.ts";
import { policyYaml } from "../../sandbox/emulated-cloud.ts";
import { makeTempDir } from "../../sandbox/janitor.ts";
import { kubeCall } from "../../sandbox/kube-api.ts";
import {
  type KubeletNode,
  NODE_CNI_BIN_DIR,
  NODE_CNI_CONF_DIR,
  requireKubelet,
  startKubeletNode,
} from "../../sandbox/kubelet.ts";
import { requirePrereq } from "../../sandbox/prereq.ts";
import { ENI_IP_RESOURCE } from "../../schema/names.ts";
import { FLUX_FIELD_MANAGER, fluxApply } from "./flux-apply-kit.ts";

const ROOT = resolve(import.meta.dir, "../..");
const VERSION = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;
const ARCHIVE = join(ROOT, "dist", "image", `vpccni-${VERSION}.oci.tar`);
const POLICY = "kubelet";
const NS = "vpccni-system";
const POOL_LABEL = { "node.vpccni.io/pool": "kubelet" };

describe("real nodes: kubelet + kube-scheduler + containerd run the compiled manifests", () => {
  let kube: Cluster;
  let world: EmulatedCluster;
  const nodes: KubeletNode[] = [];
  const get = async (path: string) => (await kubeCall(kube.admin, "GET", path)).json;

  beforeAll(async () => {
    requireContainerd();
    requireKubelet();
    requirePrereq(
      "vpccni image",
      () => existsSync(ARCHIVE) || `${ARCHIVE} does not exist`,
      "build it with `bash scripts/build-image.sh`",
    );
    kube = await startCluster({ controlPlane: true });
    world = await EmulatedCluster.start({ nodes: 2 });
    const source = makeTempDir("kubelet-repo");
    mkdirSync(join(source, "policies"));
    const spec = {
      prebind: { min: 2, max: 4 },
      ipCooldown: "0s",
      nodeSelector: POOL_LABEL,
      cloud: { endpoint: `http://${world.emulator.endpoint}` },
    };
    writeFileSync(join(source, "policies", `${POLICY}.yaml`), policyYaml(POLICY, spec));
    const out = await compileToDir({
      paths: ["policies"],
      outDir: "deploy",
      cwd: source,
      cniBinDir: NODE_CNI_BIN_DIR,
      cniConfDir: NODE_CNI_CONF_DIR,
    });
    if (out.diff === undefined) throw new Error(`compile failed: ${JSON.stringify(out.diagnostics)}`);
    await fluxApply(kube.admin, join(source, "deploy"));
    for (const node of world.nodes)
      nodes.push(await startKubeletNode({ node, cluster: kube, labels: POOL_LABEL, images: [ARCHIVE] }));
  }, 240_000);

  afterAll(async () => {
    for (const n of nodes) await n.stop().catch((e) => console.error(`stopping ${n.name}: ${e}`));
    await world?.stop();
    await kube?.stop();
  }, 120_000);

  test("the DaemonSet's pods start on both nodes from the image and turn ready; the Nodes turn Ready", async () => {
    await waitFor(
      "agent pods ready on both nodes",
      async () => {
        const pods = (await get(`/api/v1/namespaces/${NS}/pods`)).items as any[];
        const ready = pods.filter((p) =>
          p.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True"),
        );
        return new Set(ready.map((p) => p.spec.nodeName)).size === 2;
      },
      180_000,
    ).catch(async (e) => {
      const pods = (await get(`/api/v1/namespaces/${NS}/pods`)).items as any[];
      throw new Error(
        `${e.message}\n${JSON.stringify(
          pods.map((p) => p.status),
          null,
          1,
        ).slice(0, 4000)}\n${nodes.map((n) => n.logTail(30)).join("\n")}`,
      );
    });
    for (const n of nodes) {
      const node = await get(`/api/v1/nodes/${n.name}`);
      expect(node.status.conditions.find((c: any) => c.type === "Ready")?.status).toBe("True");
      expect(node.metadata.labels["cloud.tencent.com/node-instance-id"]).toBe(n.node.instanceId);
    }
    const ds = (await get(`/apis/apps/v1/namespaces/${NS}/daemonsets`)).items as any[];
    expect(ds.map((d) => d.metadata.managedFields.map((f: any) => f.manager)).flat()).toContain(FLUX_FIELD_MANAGER);
  }, 200_000);

  test("each Node's eni-ip is the agent's device plugin: capacity maxBindable, allocatable the bound IPs", async () => {
    for (const n of nodes)
      await waitFor(
        `${ENI_IP_RESOURCE} on ${n.name} equal to its pool`,
        async () => {
          const node = await get(`/api/v1/nodes/${n.name}`);
          const { extendedResource } = await n.node.view();
          return (
            extendedResource.capacity > 0 &&
            node.status.capacity?.[ENI_IP_RESOURCE] === String(extendedResource.capacity) &&
            node.status.allocatable?.[ENI_IP_RESOURCE] === String(extendedResource.allocatable)
          );
        },
        60_000,
      );
    // kubelet's status updates (every 5 s here) keep it so: allocatable is not rewritten to the capacity
    await Bun.sleep(6_000);
    for (const n of nodes) {
      const node = await get(`/api/v1/nodes/${n.name}`);
      const { extendedResource } = await n.node.view();
      expect(node.status.allocatable?.[ENI_IP_RESOURCE]).toBe(String(extendedResource.allocatable));
      expect(extendedResource.allocatable).toBeLessThan(extendedResource.capacity);
    }
  }, 90_000);
});
