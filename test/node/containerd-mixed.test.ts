// Mixed mode under a real container runtime, with an agent that cannot read pods at all: Debian's
// containerd 1.6 (CRI built in) creates the sandboxes (`crictl runp`) with the pods' annotations
// in their config, as kubelet does, and its CRI hands them to the vpccni plugin in runtimeConfig
// "io.kubernetes.cri.pod-annotations" (the compiled mixed conflist declares that capability).
// The agent runs without Kubernetes (--no-kube): the annotated pod gets a VPC IP, the plain one
// the node's previous CNI (bridge + host-local), decided from what containerd passed alone.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { keptDelegatePath } from "../../compiler/agent-contract.ts";
import { conflist } from "../../compiler/conflist.ts";
import {
  type Containerd,
  type PodStatus,
  cniBinFolder,
  requireContainerd,
  startContainerd,
} from "../../sandbox/containerd.ts";
import { EmulatedCluster, type EmulatedNode, NETWORK, SUBNETS } from "../../sandbox/emulated-cluster.ts";
import { paths } from "../../sandbox/paths.ts";
import { CONFLIST_FILES, POD_ANNOTATIONS_CAPABILITY } from "../../schema/cni.ts";
import { NETWORKS_ANNOTATION, NETWORKS_VPC_CNI } from "../../schema/names.ts";

const BRIDGE_SUBNET = "10.244.9.0/24";

describe("mixed mode under containerd's CRI: annotations from the runtime, no pod reads", () => {
  let world: EmulatedCluster;
  let node: EmulatedNode;
  let runtime: Containerd | undefined;
  const pods = new Map<string, PodStatus>();

  beforeAll(async () => {
    requireContainerd();
    // no cluster: the agent runs with --no-kube, so it has no way to read a pod
    world = await EmulatedCluster.start({
      nodes: 1,
      spec: { mode: "mixed", prebind: { min: 2, max: 4 }, ipCooldown: "0s" },
    });
    node = world.nodes[0]!;
    await node.startAgent();
    // The node's CNI folder after install-cni in mixed mode: vpccni's conflist first, the
    // node's previous one (bridge) kept as the delegate.
    const confDir = join(node.dir, "cri-net.d");
    mkdirSync(join(confDir, "vpccni"), { recursive: true });
    const bridge = {
      cniVersion: "1.0.0",
      name: "cbr0",
      plugins: [
        {
          type: "bridge",
          bridge: "cni0",
          isGateway: true,
          ipMasq: false,
          ipam: {
            type: "host-local",
            dataDir: join(node.dir, "ipam"),
            ranges: [[{ subnet: BRIDGE_SUBNET }]],
            routes: [{ dst: "0.0.0.0/0" }],
          },
        },
      ],
    };
    writeFileSync(join(confDir, "10-bridge.conflist"), JSON.stringify(bridge));
    writeFileSync(keptDelegatePath(confDir), JSON.stringify(bridge));
    const list = JSON.parse(conflist({ mode: "mixed", cniConfDir: confDir }));
    list.plugins[0].socket = node.socket;
    list.plugins[0].delegate.cacheDir = join(node.dir, "cni-vpccni");
    writeFileSync(join(confDir, CONFLIST_FILES.mixed), JSON.stringify(list));
    const bin = cniBinFolder(join(node.dir, "cri-bin"), [
      join(world.cniBin, "vpccni"),
      ...["bridge", "host-local", "loopback", "portmap"].map((p) => join(paths.cniPluginDir, p)),
    ]);
    // in the node's CRI folder: the agent admits netns paths under its netns folder (--netns-dir)
    runtime = await startContainerd({
      bed: world.bed,
      node: node.ns,
      cniBinDir: bin,
      cniConfDir: confDir,
      dir: node.criDir,
    });
  }, 120_000);

  afterAll(async () => {
    await runtime?.stop(); // its CNI DELs need the agent
    await world?.stop();
  }, 60_000);

  test("the compiled mixed conflist declares the capability containerd fills", () => {
    const list = JSON.parse(conflist({ mode: "mixed" }));
    expect(list.plugins[0].capabilities[POD_ANNOTATIONS_CAPABILITY]).toBe(true);
  });

  test("an annotated pod gets a VPC IP the agent holds; a plain one bridge's, which the agent does not", async () => {
    const c = runtime!;
    const vpc = await c.runPod({
      name: "vpc",
      namespace: "shop",
      annotations: { [NETWORKS_ANNOTATION]: NETWORKS_VPC_CNI, "kubernetes.io/config.source": "api" },
    });
    const plain = await c.runPod({ name: "plain", namespace: "shop" });
    pods.set("vpc", vpc).set("plain", plain);
    expect([vpc.state, plain.state]).toEqual(["SANDBOX_READY", "SANDBOX_READY"]);
    const view = await node.view();
    const held = view.pods.find((p) => p.key === `${NETWORK}/${vpc.id}/eth0`);
    expect(held?.ip, JSON.stringify(view.pods)).toBe(vpc.ip);
    const eni = view.enis.find((e) => e.id === held!.eni);
    expect([SUBNETS.large, SUBNETS.small]).toContain(eni!.subnet);
    expect(plain.ip.startsWith("10.244.9.")).toBe(true);
    expect(view.pods.map((p) => p.key)).toEqual([`${NETWORK}/${vpc.id}/eth0`]);
    // decided from containerd's runtimeConfig: never "the runtime passed no annotations"
    const log = node.agentLog();
    expect(log).toContain(`pod shop/vpc has ${NETWORKS_ANNOTATION}: ${NETWORKS_VPC_CNI}`);
    expect(log).toContain("pod shop/plain does not opt in");
    expect(log).not.toContain("passed no annotations");
    // the pod's side: eth0 holds each IP
    for (const p of [vpc, plain]) {
      const addr = await c.execInPod(p, ["ip", "-4", "-o", "addr", "show", "dev", "eth0"]);
      expect(addr.stdout).toContain(`${p.ip}/`);
    }
  });

  test("stopp of both: the VPC IP back in the pool, bridge's address back to host-local", async () => {
    const c = runtime!;
    for (const p of pods.values()) await c.stopPod(p.id);
    expect((await node.view()).pods).toEqual([]);
    expect(readdirSync(join(node.dir, "ipam", "cbr0")).filter((f) => f.startsWith("10."))).toEqual([]);
    for (const p of pods.values()) await c.removePod(p.id);
    expect(await c.podIds()).toEqual([]);
  });
});
