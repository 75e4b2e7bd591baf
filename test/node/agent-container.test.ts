// The whole node side from the image: on each of two test-bed nodes, containerd's CRI runs the
// compiled DaemonSet's agent container from dist/image/vpccni-<version>.oci.tar as a
// hostNetwork pod (no agent process of the harness), in-cluster config as kubelet gives it,
// and then pod sandboxes get VPC IPs from those agents, talk TCP across nodes and free them.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parse } from "yaml";
import { HEALTH_PATHS, PATHS, PORT } from "../../compiler/agent-contract.ts";
import type { Cluster } from "../../sandbox/apiserver.ts";
import {
  type Containerd,
  type PodStatus,
  cniBinFolder,
  requireContainerd,
  startContainerd,
} from "../../sandbox/containerd.ts";
import { EmulatedCluster, NETWORK, waitFor } from "../../sandbox/emulated-cluster.ts";
import { runOk } from "../../sandbox/exec.ts";
import { kubeCall } from "../../sandbox/kube-api.ts";
import { paths } from "../../sandbox/paths.ts";
import { requirePrereq } from "../../sandbox/prereq.ts";
import { ENI_IP_RESOURCE } from "../../schema/names.ts";
import { acquireSharedCluster, releaseSharedCluster } from "../harness/shared-apiserver-kit.ts";
import { type AgentPod, agentAnswers, compileAndApply, getInNode, startAgentPod } from "./agent-pod-kit.ts";
import { podTcpExchange } from "./pod-tcp-kit.ts";

const ROOT = resolve(import.meta.dir, "../..");
const VERSION = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;
const ARCHIVE = join(ROOT, "dist", "image", `vpccni-${VERSION}.oci.tar`);
const POLICY = "ctr";
/** The inode of a namespace file, which names the namespace across mount and PID namespaces. */
const inode = async (prefix: string[], file: string) =>
  (await runOk([...prefix, "stat", "-L", "-c", "%i", file])).trim();
// a namespace of its own: the shared cluster never deletes one (no controller-manager)
const NS = `vpccni-ac-${Date.now().toString(36)}`;

describe("the agent container from the image, run by containerd's CRI on two nodes", () => {
  let kube: Cluster | undefined;
  let world: EmulatedCluster;
  let deployDir: string;
  const runtimes: Containerd[] = [];
  const agents: AgentPod[] = [];
  const pods: PodStatus[] = [];
  const hostForwarding = readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8");
  const clearEniIp = async () => {
    const gone = { [ENI_IP_RESOURCE]: null };
    for (const n of world?.nodes ?? [])
      await kubeCall(kube!.admin, "PATCH", `/api/v1/nodes/${n.name}/status`, {
        contentType: "application/merge-patch+json",
        body: { status: { capacity: gone, allocatable: gone } },
      });
  };

  beforeAll(async () => {
    requireContainerd();
    requirePrereq(
      "vpccni image",
      () => existsSync(ARCHIVE) || `${ARCHIVE} does not exist`,
      "build it with `bash scripts/build-image.sh`",
    );
    // acquired here and released at the end of afterAll, which still talks to it
    kube = await acquireSharedCluster();
    const c = kube;
    // Node objects named as the world names them; an eni-ip another suite left is cleared
    world = await EmulatedCluster.start({ nodes: 2, cluster: c });
    await clearEniIp();
    // The policy the agents get through its ConfigMap: the emulator as its cloud endpoint, no
    // credentials Secret (the CVM role from the instance's metadata). ipCooldown 0: a freed IP
    // is ready again at once, so the test can see it back in the pool. The emulator serves
    // plain http on a VPC address: insecureEndpoint, as a test bed's network is one we trust.
    const spec = {
      prebind: { min: 2, max: 4 },
      ipCooldown: "0s",
      cloud: { endpoint: `http://${world.emulator.endpoint}`, insecureEndpoint: true },
    };
    deployDir = await compileAndApply(c, { policy: POLICY, spec, namespace: NS });
    const started = world.nodes.map(async (n) => {
      // forwarding off, so that only the agent can have turned it on (in the node's namespace)
      await world.bed.sysctl(n.ns.ns, "net.ipv4.ip_forward", "0");
      const plugins = [
        join(world.cniBin, "vpccni"),
        ...["portmap", "loopback"].map((p) => join(paths.cniPluginDir, p)),
      ];
      const bin = cniBinFolder(join(n.dir, "cni-bin"), plugins);
      const rt = await startContainerd({
        bed: world.bed,
        node: n.ns,
        cniBinDir: bin,
        cniConfDir: n.netconf,
        netnsAt: "run",
      });
      runtimes.push(rt);
      await rt.importImage(ARCHIVE);
      return rt;
    });
    const settled = await Promise.allSettled(started);
    for (const r of settled) if (r.status === "rejected") throw r.reason;
    // runtimes[] is in start order; keep it in node order
    runtimes.sort((a, b) => a.node.name.localeCompare(b.node.name));
    for (const [i, n] of world.nodes.entries()) {
      const rt = runtimes[i]!;
      agents.push(await startAgentPod({ runtime: rt, node: n, cluster: c, deployDir, namespace: NS, policy: POLICY }));
    }
    await Promise.all(world.nodes.map((n, i) => agentAnswers(runtimes[i]!, agents[i]!, n)));
  }, 120_000);

  afterAll(async () => {
    const errors: unknown[] = [];
    // app pods first (their CNI DEL needs the agent), then the agent with SIGTERM, then the rest
    for (const [i, rt] of runtimes.entries()) {
      const agent = agents[i];
      for (const id of await rt.podIds().catch(() => [])) {
        if (id === agent?.pod.id) continue;
        await rt.stopPod(id).catch((e) => errors.push(e));
      }
      if (agent) await rt.stopContainer(agent.containerId).catch((e) => errors.push(e));
    }
    for (const rt of runtimes) await rt.stop().catch((e) => errors.push(e));
    for (const a of agents) for (const f of a.forwards) await f.stop();
    await world?.stop();
    // the Nodes outlive the suite in the shared cluster: leave them as they came
    if (kube) {
      await clearEniIp().catch((e) => errors.push(e));
      await releaseSharedCluster();
    }
    if (deployDir) rmSync(dirname(deployDir), { recursive: true, force: true });
    if (errors.length > 0) throw errors[0];
  }, 60_000);

  test("the container runs the image with the DaemonSet's command, read-only root, two capabilities and the netns mount as HostToContainer", async () => {
    for (const [i, rt] of runtimes.entries()) {
      const c = await rt.inspectContainer(agents[i]!.containerId);
      expect(c.state).toBe("CONTAINER_RUNNING");
      expect(c.image).toBe(agents[i]!.config.image.image);
      expect(c.spec.process.args).toEqual([...agents[i]!.config.command, ...agents[i]!.config.args]);
      expect(c.spec.root.readonly).toBe(true);
      expect(c.spec.process.capabilities.bounding.sort()).toEqual(["CAP_NET_ADMIN", "CAP_SYS_ADMIN"]);
      expect(c.spec.process.noNewPrivileges).toBe(true);
      expect(c.spec.linux.seccomp?.defaultAction).toBe("SCMP_ACT_ERRNO");
      expect(c.spec.linux.resources.memory.limit).toBe(agents[i]!.config.linux.resources.memory_limit_in_bytes);
      // hostNetwork: the agent's process is in the node's network namespace (the same nsfs inode)
      // (its pid is one of containerd's PID namespace, whose /proc is in containerd's mount namespace)
      const inDaemon = ["nsenter", "-t", String(rt.initPid), "-m", "-p", "--"];
      expect(await inode(inDaemon, `/proc/${c.pid}/ns/net`)).toBe(
        await inode([], `/run/netns/${world.nodes[i]!.ns.ns}`),
      );
      const netns = c.spec.mounts.find((m: { destination: string }) => m.destination === PATHS.netnsDir);
      expect(netns.options).toContain("rslave");
      expect(netns.options).toContain("ro");
    }
  });

  test("the agent answers /healthz and /readyz on the DaemonSet's port inside each node's namespace", async () => {
    for (const n of world.nodes) {
      await waitFor(
        `${n.name}'s agent to be ready`,
        async () => (await getInNode(n, PORT, HEALTH_PATHS.readiness)).status === 200,
      );
      expect(await getInNode(n, PORT, HEALTH_PATHS.liveness)).toMatchObject({ status: 200 });
    }
  });

  test("the CNI socket is in each node's run folder (the hostPath /run/vpccni), a socket of mode 0600", () => {
    for (const n of world.nodes) {
      const st = statSync(n.socket);
      expect(st.isSocket()).toBe(true);
      expect(st.mode & 0o777).toBe(0o600);
    }
  });

  test("the agent turned forwarding on in its node's namespace through /host/proc/sys/net, not on the host", async () => {
    for (const n of world.nodes)
      expect((await world.bed.execOk(n.ns.ns, ["cat", "/proc/sys/net/ipv4/ip_forward"])).trim()).toBe("1");
    expect(readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8")).toBe(hostForwarding);
  });

  test("with its pod-bound ServiceAccount token, each agent publishes eni-ip on its own Node", async () => {
    const c = kube!;
    for (const n of world.nodes) {
      await waitFor(`${ENI_IP_RESOURCE} on Node ${n.name}`, async () => {
        const view = await n.view();
        const node = (await kubeCall(c.admin, "GET", `/api/v1/nodes/${n.name}`)).json;
        return (
          view.extendedResource.capacity > 0 &&
          node.status?.capacity?.[ENI_IP_RESOURCE] === String(view.extendedResource.capacity) &&
          node.status?.allocatable?.[ENI_IP_RESOURCE] === String(view.extendedResource.allocatable)
        );
      });
    }
    // metadata, the VPC API and the API server were all reached through the node's loopback
    for (const a of agents) for (const f of a.forwards) expect(f.connections).toBeGreaterThan(0);
  });

  test("a sandbox on each node gets a VPC IP from that node's agent container", async () => {
    for (const [i, rt] of runtimes.entries()) {
      const n = world.nodes[i]!;
      const pod = await rt.runPod({ name: `web-${i}`, namespace: "shop" });
      pods.push(pod);
      expect(pod.state).toBe("SANDBOX_READY");
      const view = await n.view();
      expect(view.pods.find((p) => p.key === `${NETWORK}/${pod.id}/eth0`)?.ip, JSON.stringify(view.pods)).toBe(pod.ip);
      expect((await n.cloud()).ips).toContain(pod.ip);
      const addr = await rt.execInPod(pod, ["ip", "-4", "-o", "addr", "show", "dev", "eth0"]);
      expect(addr.stdout).toContain(`${pod.ip}/32`);
      // CNI_NETNS was containerd's default path, which the agent opens only through the
      // DaemonSet's /run/netns mount (HostToContainer: made after the agent started)
      expect(pod.runtimeNetns).toStartWith("/var/run/netns/cni-");
      const logs = await rt.containerLogs(agents[i]!.containerId);
      const wired = logs
        .split("\n")
        .filter((l) => l.includes('"pod wired"'))
        .map((l) => JSON.parse(l.slice(l.indexOf("{"))));
      expect(wired.map((w) => [w.pod, w.key])).toContainEqual([`shop/web-${i}`, `${NETWORK}/${pod.id}/eth0`]);
    }
    expect(pods[0]!.ip).not.toBe(pods[1]!.ip);
  });

  test("the two pods talk TCP across the nodes, each seeing the other's VPC IP", async () => {
    const [a, b] = pods;
    const seen = await podTcpExchange(runtimes[1]!, b!, runtimes[0]!, a!);
    expect(seen).toEqual({ serverSaw: a!.ip, clientGot: `pong from ${b!.ip}` });
  });

  test("stopp gives each IP back to its node's pool as idle", async () => {
    for (const [i, rt] of runtimes.entries()) {
      const n = world.nodes[i]!;
      const pod = pods[i]!;
      await waitFor(`${n.name}'s pool to settle`, async () => (await n.view()).summary.inflight === 0);
      const before = (await n.view()).summary;
      await rt.stopPod(pod.id);
      const view = await n.view();
      expect(view.pods).toEqual([]);
      expect(view.summary.idle).toBe(before.idle + 1);
      expect((await n.cloud()).ips).toContain(pod.ip);
      expect(existsSync(pod.netns!)).toBe(false);
      await rt.removePod(pod.id);
    }
  });

  test("crictl stop (SIGTERM, as kubelet stops the pod) ends each agent cleanly within its grace period", async () => {
    const ds = parse(readFileSync(join(deployDir, `40-daemonset-vpccni-agent-${POLICY}.yaml`), "utf8"));
    const grace = ds.spec.template.spec.terminationGracePeriodSeconds as number;
    for (const [i, rt] of runtimes.entries()) {
      const id = agents[i]!.containerId;
      await rt.stopContainer(id, grace);
      const c = await rt.inspectContainer(id);
      // 137 would be the SIGKILL at the end of the grace period
      expect({ state: c.state, exitCode: c.exitCode }).toEqual({ state: "CONTAINER_EXITED", exitCode: 0 });
      expect(await rt.containerLogs(id)).toContain('"msg":"stopped"');
    }
  });
});
