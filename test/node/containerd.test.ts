// The node install path under a real container runtime: Debian's containerd 1.6 (CRI built in)
// + runc on each test-bed node, its CRI creating pod sandboxes (`crictl runp`) and so calling
// the compiled vpccni plugin exactly as on a real node: loopback first, the node's conflist from
// its conf dir, CNI_ARGS with the pod's namespace and name, a netns the runtime made.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import {
  type Containerd,
  type PodStatus,
  cniBinFolder,
  requireContainerd,
  startContainerd,
} from "../../sandbox/containerd.ts";
import { EmulatedCluster, NETWORK, SUBNETS, waitFor } from "../../sandbox/emulated-cluster.ts";
import { run } from "../../sandbox/exec.ts";
import { makeTempDir } from "../../sandbox/janitor.ts";
import { paths } from "../../sandbox/paths.ts";
import { requirePrereq } from "../../sandbox/prereq.ts";
import { createTestBed, type TestBed } from "../../sandbox/test-bed.ts";
import { POD_GATEWAY } from "../../runtime/net/types.ts";
import { criContainer } from "./daemonset-kit.ts";
import { podTcpExchange } from "./pod-tcp-kit.ts";

const ROOT = resolve(import.meta.dir, "../..");
const DEPLOY = join(ROOT, "examples", "deploy");
const VERSION = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;
const DAEMONSET_IMAGE = parse(readFileSync(join(DEPLOY, "40-daemonset-vpccni-agent-general.yaml"), "utf8")).spec
  .template.spec.containers[0].image as string;

describe("containerd's CRI wires pod sandboxes through vpccni, two nodes", () => {
  let world: EmulatedCluster;
  const runtimes: Containerd[] = [];
  const pods: PodStatus[] = [];

  beforeAll(async () => {
    requireContainerd();
    // ipCooldown 0: a freed IP is ready again at once, so the test can see it back in the pool
    world = await EmulatedCluster.start({ nodes: 2, spec: { prebind: { min: 2, max: 4 }, ipCooldown: "0s" } });
    await Promise.all(world.nodes.map((n) => n.startAgent()));
    const started = world.nodes.map((n) => {
      // containerd 1.6 takes one bin folder: the plugin, the conflist's portmap and CRI's loopback
      const plugins = [
        join(world.cniBin, "vpccni"),
        ...["portmap", "loopback"].map((p) => join(paths.cniPluginDir, p)),
      ];
      const bin = cniBinFolder(join(n.dir, "cni-bin"), plugins);
      return startContainerd({ bed: world.bed, node: n.ns, cniBinDir: bin, cniConfDir: n.netconf, dir: n.criDir });
    });
    // keep every runtime that started, so that afterAll stops it even if another failed
    const settled = await Promise.allSettled(started);
    for (const r of settled) if (r.status === "fulfilled") runtimes.push(r.value);
    for (const r of settled) if (r.status === "rejected") throw r.reason;
  }, 120_000);

  afterAll(async () => {
    // runtimes first: their CNI DELs need the agents
    const errors: unknown[] = [];
    for (const r of runtimes) await r.stop().catch((e) => errors.push(e));
    await world?.stop();
    if (errors.length > 0) throw errors[0];
  }, 60_000);

  test("a sandbox on each node gets a VPC IP the cloud bound to that node, from the policy's subnets", async () => {
    for (const [i, c] of runtimes.entries()) {
      const node = world.nodes[i]!;
      const pod = await c.runPod({ name: `web-${i}`, namespace: "shop" });
      pods.push(pod);
      expect(pod.state).toBe("SANDBOX_READY");
      expect(pod.netns).not.toBeNull();
      const view = await node.view();
      const mine = view.pods.find((p) => p.key === `${NETWORK}/${pod.id}/eth0`);
      expect(mine?.ip, JSON.stringify(view.pods)).toBe(pod.ip);
      const eni = view.enis.find((e) => e.id === mine!.eni);
      expect([SUBNETS.large, SUBNETS.small]).toContain(eni!.subnet);
      expect((await node.cloud()).ips).toContain(pod.ip);
      // the pod's side as the runtime sees it: eth0 holds the IP, the default route is the agent's
      const addr = await c.execInPod(pod, ["ip", "-4", "-o", "addr", "show", "dev", "eth0"]);
      expect(addr.stdout).toContain(`${pod.ip}/32`);
      const route = await c.execInPod(pod, ["ip", "-4", "route", "show", "default"]);
      expect(route.stdout).toContain(`default via ${POD_GATEWAY} dev eth0`);
    }
    expect(pods[0]!.ip).not.toBe(pods[1]!.ip);
  });

  test("containerd passed the pod's namespace and name in CNI_ARGS", () => {
    for (const [i, pod] of pods.entries()) {
      const wired = world.nodes[i]!.agentLog()
        .split("\n")
        .filter((l) => l.includes('"pod wired"'))
        .map((l) => JSON.parse(l));
      expect(wired.map((w) => [w.pod, w.key])).toContainEqual([`shop/web-${i}`, `${NETWORK}/${pod.id}/eth0`]);
    }
  });

  test("the two pods talk TCP across the nodes, each seeing the other's VPC IP", async () => {
    const [a, b] = pods;
    const seen = await podTcpExchange(runtimes[1]!, b!, runtimes[0]!, a!);
    expect(seen).toEqual({ serverSaw: a!.ip, clientGot: `pong from ${b!.ip}` });
  });

  test("stopp gives each IP back to its node's pool as idle, rmp leaves no sandbox", async () => {
    for (const [i, c] of runtimes.entries()) {
      const node = world.nodes[i]!;
      const pod = pods[i]!;
      // the pool grows to pods + min after each ADD: let it settle, so that only the DEL moves idle
      await waitFor(`${node.name}'s pool to settle`, async () => (await node.view()).summary.inflight === 0);
      const before = (await node.view()).summary;
      await c.stopPod(pod.id);
      const view = await node.view();
      expect(view.pods).toEqual([]);
      expect(view.summary.idle).toBe(before.idle + 1);
      expect(view.enis.reduce((n, e) => n + e.assigned, 0)).toBe(0);
      // still bound to the node in the cloud: idle in the pool, not released
      expect((await node.cloud()).ips).toContain(pod.ip);
      expect(existsSync(pod.netns!)).toBe(false);
      await c.removePod(pod.id);
      expect(await c.podIds()).toEqual([]);
    }
  });
});

describe("the DaemonSet's install-cni step, run by containerd's CRI from the vpccni image", () => {
  const archive = join(ROOT, "dist", "image", `vpccni-${VERSION}.oci.tar`);
  let bed: TestBed;
  let hostRoot: string;
  let runtime: Containerd | undefined;
  let imported: string[] = [];

  beforeAll(async () => {
    requireContainerd();
    requirePrereq(
      "vpccni image",
      () => existsSync(archive) || `${archive} does not exist`,
      "build it with `bash scripts/build-image.sh`",
    );
    bed = await createTestBed();
    // a node's root: the runtime's CNI folders are its /opt/cni/bin and /etc/cni/net.d, as on a real node
    hostRoot = makeTempDir("cri-host");
    const cniBinDir = join(hostRoot, "opt", "cni", "bin");
    const cniConfDir = join(hostRoot, "etc", "cni", "net.d");
    for (const d of [cniBinDir, cniConfDir]) mkdirSync(d, { recursive: true });
    // containerd 1.6 needs loopback in its bin folder (a node's runtime ships it); the step adds the rest
    cniBinFolder(cniBinDir, [join(paths.cniPluginDir, "loopback")]);
    runtime = await startContainerd({ bed, node: await bed.addNode(), cniBinDir, cniConfDir });
    imported = await runtime.importImage(archive);
  }, 120_000);

  afterAll(async () => {
    await runtime?.stop();
    await bed?.destroy();
    if (hostRoot) rmSync(hostRoot, { recursive: true, force: true });
  }, 60_000);

  test("the archive, loaded with ctr as on a node, carries the image name the DaemonSet asks for", () => {
    expect(imported).toContain(DAEMONSET_IMAGE);
  });

  test("install-cni, as the compiled DaemonSet runs it, puts the plugin, portmap and the conflist into the runtime's CNI folders", async () => {
    const c = runtime!;
    const step = criContainer(DEPLOY, "vpccni-agent-general", "install-cni", hostRoot);
    const pod = await c.runPod({ name: "vpccni-agent-general-test", namespace: "vpccni-system", hostNetwork: true });
    const r = await c.runToCompletion(pod, step.config);
    expect(r.exitCode, r.logs).toBe(0);
    // the DaemonSet's securityContext reached runc: read-only root, no capabilities, seccomp
    expect(r.spec.root.readonly).toBe(true);
    expect(r.spec.process.capabilities.bounding ?? []).toEqual([]);
    expect(r.spec.process.noNewPrivileges).toBe(true);
    expect(r.spec.linux.seccomp?.defaultAction).toBe("SCMP_ACT_ERRNO");
    const bin = join(hostRoot, "opt", "cni", "bin");
    expect(readdirSync(bin).sort()).toEqual(["loopback", "portmap", "vpccni"]);
    const version = await run([join(bin, "vpccni")], {
      env: { CNI_COMMAND: "VERSION" },
      input: '{"cniVersion":"1.0.0"}',
    });
    expect(JSON.parse(version.stdout).supportedVersions).toContain("1.0.0");
    const conflist = readFileSync(join(hostRoot, "etc", "cni", "net.d", "10-vpccni.conflist"), "utf8");
    const configMap = parse(readFileSync(join(DEPLOY, "30-configmap-vpccni-cni-config.yaml"), "utf8"));
    expect(conflist).toBe(configMap.data["10-vpccni.conflist"]);
    // the runtime found the network the step installed
    await waitFor(
      "containerd to report NetworkReady",
      async () => {
        const info = JSON.parse(await c.crictl(["info"]));
        return info.status.conditions.some(
          (x: { type: string; status: boolean }) => x.type === "NetworkReady" && x.status,
        );
      },
      10_000,
    );
  });
});
