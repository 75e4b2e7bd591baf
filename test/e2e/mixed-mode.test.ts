// Mixed mode end to end: a node whose existing CNI is the reference bridge + host-local, the
// real install-cni script run against its CNI folder (it keeps bridge's conflist and puts
// 00-vpccni.conflist in front), the real agent with spec.mode: mixed, and the compiled CNI binary
// called by cnitool in the node namespace with the pod's annotations in runtimeConfig, as
// containerd's CRI passes them (cnitool's CAP_ARGS). No Pod object exists in the API server:
// the agent reads none. An un-annotated pod gets a bridge IP, an annotated one a VPC IP.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FILES, installCniScript, PATHS } from "../../compiler/agent-contract.ts";
import { conflist } from "../../compiler/conflist.ts";
import { run } from "../../sandbox/exec.ts";
import { makeTempDir } from "../../sandbox/janitor.ts";
import { kubeCall } from "../../sandbox/kube-api.ts";
import type { PodNs } from "../../sandbox/test-bed.ts";
import { EmulatedCluster, type EmulatedNode, NETWORK, policyYaml, waitFor } from "../../sandbox/emulated-cluster.ts";
import { POD_ANNOTATIONS_CAPABILITY } from "../../schema/cni.ts";
import { NETWORKS_ANNOTATION, NETWORKS_VPC_CNI } from "../../schema/names.ts";
import { useSharedCluster } from "../harness/shared-apiserver-kit.ts";

const NS = `mixed-${Date.now().toString(36)}`;
const BRIDGE_SUBNET = "10.244.7.0/24";

/** The node's existing CNI: what a cluster ran before vpccni came. */
function bridgeConflist(ipamDir: string) {
  return {
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
          dataDir: ipamDir,
          ranges: [[{ subnet: BRIDGE_SUBNET }]],
          routes: [{ dst: "0.0.0.0/0" }],
        },
      },
    ],
  };
}

/**
 * The DaemonSet's init container, for real, with the node's CNI folder as its /host/etc/cni/net.d
 * and the compiled mixed conflist as its ConfigMap (pointed at this node's agent socket and a
 * cache folder of the test: the only two differences from a real node).
 */
async function installMixed(node: EmulatedNode): Promise<{ stdout: string }> {
  const root = makeTempDir("install");
  for (const d of ["opt/vpccni/bin", "host/opt/cni/bin", "host/etc/cni", PATHS.cniConfigDir.slice(1)])
    mkdirSync(join(root, d), { recursive: true });
  symlinkSync(node.netconf, join(root, PATHS.cniConfMount.slice(1)));
  writeFileSync(join(root, PATHS.cniBinaryInImage), "the world's binary is on CNI_PATH already");
  writeFileSync(join(root, PATHS.portmapInImage), "portmap");
  const list = JSON.parse(conflist({ mode: "mixed", cniConfDir: node.netconf }));
  list.plugins[0].socket = node.socket;
  list.plugins[0].delegate.cacheDir = join(node.dir, "cni-vpccni");
  writeFileSync(join(root, PATHS.cniConfigDir, FILES.mixedConflist), JSON.stringify(list));
  const res = await run(["sh", "-c", installCniScript("mixed").replaceAll(" /", ` ${root}/`)]);
  if (res.code !== 0) throw new Error(`install-cni failed (${res.code}): ${res.stderr}`);
  return { stdout: res.stdout };
}

describe("mixed mode: bridge stays the default, annotated pods get VPC IPs", () => {
  const cluster = useSharedCluster();
  let world: EmulatedCluster;
  let node: EmulatedNode;
  let install: { stdout: string };
  const ipamDir = () => join(node.dir, "ipam");

  beforeAll(async () => {
    world = await EmulatedCluster.start({
      nodes: 1,
      cluster: cluster(),
      spec: { mode: "mixed", prebind: { min: 2, max: 4 }, ipCooldown: "0s" },
    });
    node = world.nodes[0]!;
    // The node as it was: bridge's conflist in its CNI folder (the world wrote vpccni's default
    // one too, as a default-mode node would have; the mixed install replaces it).
    writeFileSync(join(node.netconf, "10-bridge.conflist"), JSON.stringify(bridgeConflist(ipamDir())));
    install = await installMixed(node);
    await node.startAgent();
  }, 120_000);
  afterAll(async () => {
    await world?.stop();
  }, 60_000);

  const pods = new Map<string, { pod: PodNs; ip: string; result: { ips: { address: string }[] } }>();
  /** The pods' annotations, as kubelet hands them to the runtime; none for "bare". */
  const annotations: Record<string, Record<string, string> | null | undefined> = {
    plain: null, // containerd passes null for a pod without annotations
    plain2: { "kubernetes.io/config.seen": "2026-01-01T00:00:00Z" },
    vpc: { [NETWORKS_ANNOTATION]: NETWORKS_VPC_CNI, "kubernetes.io/config.source": "api" },
    bare: undefined,
  };
  const tool = (cmd: string, name: string) =>
    node.cnitool(cmd, pods.get(name)?.pod.path ?? "", {
      CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${NS};K8S_POD_NAME=${name}`,
      ...(annotations[name] !== undefined
        ? { CAP_ARGS: JSON.stringify({ [POD_ANNOTATIONS_CAPABILITY]: annotations[name] }) }
        : {}),
    });
  const add = async (name: string) => {
    const pod = await node.newPodNamespace(name);
    pods.set(name, { pod, ip: "", result: { ips: [] } });
    const r = await tool("add", name);
    if (r.code !== 0) throw new Error(`ADD ${name} failed (${r.code}): ${r.stdout}${r.stderr}\n${node.agentLog()}`);
    const result = JSON.parse(r.stdout);
    const ip = result.ips[0].address.split("/")[0];
    pods.set(name, { pod, ip, result });
    return pods.get(name)!;
  };

  test("install kept bridge's conflist and put vpccni's first", () => {
    expect(install.stdout).toContain("kept 10-bridge.conflist as vpccni/delegate.conflist");
    expect(readdirSync(node.netconf).sort()).toEqual([FILES.mixedConflist, "10-bridge.conflist", FILES.delegateDir]);
    expect(JSON.parse(readFileSync(join(node.netconf, "vpccni", "delegate.conflist"), "utf8")).name).toBe("cbr0");
  });

  test("the un-annotated pod gets a bridge IP from host-local; the agent holds nothing for it", async () => {
    const { pod, ip, result } = await add("plain");
    expect(`${ip}/24`).toBe(result.ips[0]!.address);
    expect(ip.startsWith("10.244.7.")).toBe(true);
    // bridge's own result, with its bridge and veth: not vpccni's shape (169.254.1.1, /32)
    expect(JSON.stringify(result)).toContain('"name":"cni0"');
    expect(await world.bed.ip(pod.ns, "-4", "-o", "addr", "show", "dev", "eth0")).toContain(`${ip}/24`);
    expect(await world.bed.ip(node.ns.ns, "-o", "link", "show", "cni0")).toContain("cni0");
    const gw = await world.bed.exec(pod.ns, ["ping", "-n", "-q", "-c", "1", "-W", "2", "10.244.7.1"]);
    expect(gw.code, gw.stdout + gw.stderr).toBe(0);
    expect((await node.view()).summary.pods).toBe(0);
  });

  test("the annotated pod on the same node gets a VPC IP of the policy's subnets, and reaches the VPC", async () => {
    const { pod, ip, result } = await add("vpc");
    expect(result.ips[0]!.address).toBe(`${ip}/32`);
    expect(ip).toMatch(/^10\.231\.(8|9|12)\./);
    const view = await node.view();
    expect(view.summary.pods).toBe(1);
    const vpcGateway = world.bed.gateway;
    const r = await world.bed.exec(pod.ns, ["ping", "-n", "-q", "-c", "1", "-W", "2", vpcGateway]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // The agent decided from the annotations the runtime passed (no Pod object exists).
    expect(node.agentLog()).toContain(`pod ${NS}/vpc has ${NETWORKS_ANNOTATION}: ${NETWORKS_VPC_CNI}`);
    expect(node.agentLog()).toContain(`pod ${NS}/plain does not opt in`);
    const object = await kubeCall(cluster().admin, "GET", `/api/v1/namespaces/${NS}/pods/vpc`, { allow: [404] });
    expect(object.status).toBe(404);
  });

  test("a runtime that passes no annotations: the pod is the delegate's, and a Warning on the Node says why", async () => {
    const { ip } = await add("bare");
    expect(ip.startsWith("10.244.7.")).toBe(true);
    expect((await node.view()).summary.pods).toBe(1);
    await waitFor("the NoPodAnnotations Event", async () => {
      const events = await kubeCall(
        cluster().admin,
        "GET",
        `/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3D${node.name}`,
      );
      return events.json.items.some(
        (e: { reason: string; message: string }) =>
          e.reason === "NoPodAnnotations" && e.message.includes(`pod ${NS}/bare`),
      );
    });
    const r = await tool("del", "bare");
    expect({ code: r.code, out: r.stdout + r.stderr }).toEqual({ code: 0, out: "" });
  });

  test("CHECK passes for both", async () => {
    for (const name of ["plain", "vpc"]) {
      const r = await tool("check", name);
      expect({ name, code: r.code, out: r.stdout + r.stderr }).toEqual({ name, code: 0, out: "" });
    }
  });

  test("DEL of both cleans both sides: bridge's veth and host-local's address, the agent's IP back in the pool", async () => {
    const plain = pods.get("plain")!;
    for (const name of ["plain", "vpc"]) {
      const r = await tool("del", name);
      expect({ name, code: r.code, out: r.stdout + r.stderr }).toEqual({ name, code: 0, out: "" });
    }
    expect(await world.bed.ip(plain.pod.ns, "-o", "link", "show")).not.toContain("eth0");
    expect(readdirSync(join(ipamDir(), "cbr0")).filter((f) => f.startsWith("10."))).toEqual([]);
    const records = join(node.dir, "cni-vpccni", "delegated", NETWORK);
    expect(existsSync(records) ? readdirSync(records) : []).toEqual([]);
    await waitFor("the agent to release the VPC pod", async () => (await node.view()).summary.pods === 0);
  });

  test("switching off: delegated pods keep their network; once drained, 00-vpccni.conflist goes and bridge's applies again", async () => {
    const { pod, ip } = await add("plain2"); // annotations without the networks one: delegated
    node.writePolicy(
      policyYaml("e2e", { mode: "mixed", prebind: { min: 2, max: 4 }, ipCooldown: "0s", enabled: false }),
    );
    await waitFor("the node to be drained", async () => (await node.view()).switchOff === "drained", 60_000);
    expect(await node.cloud()).toEqual({ enis: [], ips: [], unattachedTagged: [] });
    // The node's configuration is bridge's again; vpccni's and the copy it kept are gone.
    expect(readdirSync(node.netconf)).toEqual(["10-bridge.conflist"]);
    expect(node.agentLog()).toContain("switched off: the node holds nothing of vpccni's");
    // The pod bridge wired through vpccni still has its address and its gateway.
    expect(await world.bed.ip(pod.ns, "-4", "-o", "addr", "show", "dev", "eth0")).toContain(`${ip}/24`);
    const gw = await world.bed.exec(pod.ns, ["ping", "-n", "-q", "-c", "1", "-W", "2", "10.244.7.1"]);
    expect(gw.code, gw.stdout + gw.stderr).toBe(0);
  }, 90_000);
});
