// `vpccni demo` on real nodes: the same story as run.ts, told by Kubernetes itself. A control
// plane and, per emulated instance, containerd + kubelet (sandbox/real-cluster.ts); the example
// policy applied as Flux applies it, so kubelet runs the agents from the locally built image;
// a Deployment whose pods the scheduler places by the eni-ip the agents publish, wired through
// containerd's CRI; TCP between pods of two nodes; a scale-down whose IPs return to the pools.
import { relative, resolve } from "node:path";
import { parse } from "yaml";
import { EXAMPLE_POLICY, waitFor } from "../../sandbox/emulated-cloud.ts";
import { ipToInt } from "../../sandbox/ipv4.ts";
import { versions } from "../../sandbox/paths.ts";
import { AGENT_NAMESPACE, IMAGE_ARCHIVE, RealCluster } from "../../sandbox/real-cluster.ts";
import { ENI_IP_RESOURCE } from "../../schema/names.ts";
import { runtimePod, tcpEcho } from "./connectivity.ts";
import { apiCalls, poolLine, Progress } from "./progress.ts";
import { APP, type ApiPod, agentsOnNodes, appPods, deployment, isReady, kubectl, sandboxOf } from "./real-kube.ts";
import { compileStep } from "./run.ts";

const ROOT = resolve(import.meta.dir, "../..");
const say = (line: string) => process.stdout.write(`${line}\n`);

export interface RealDemoOptions {
  nodes: number;
  pods: number;
}

export async function runRealDemo(opts: RealDemoOptions): Promise<number> {
  const started = Date.now();
  say("vpccni demo: pods get real VPC IPs from shared ENIs, on real nodes (kubelet + containerd)\n");
  say("1/7 compile the example policies");
  if (!(await compileStep())) return 1;

  say(`2/7 start a control plane, the emulated cloud and ${opts.nodes} nodes with containerd and kubelet`);
  const policy = parse(await Bun.file(EXAMPLE_POLICY).text()) as {
    metadata: { name: string };
    spec: { nodeSelector?: Record<string, string> } & Record<string, unknown>;
  };
  const c = await RealCluster.start({
    nodes: opts.nodes,
    policy: policy.metadata.name,
    spec: policy.spec,
    labels: policy.spec.nodeSelector ?? {},
  });
  try {
    const pools = async () => Promise.all(c.nodes.map((n) => n.node.view()));
    const line = async () => {
      const views = await pools();
      return `${c.nodes.map((n, i) => poolLine(n.name, views[i]!)).join(" | ")} | API calls ${apiCalls(c.world.emulator.admin.stats()).total}`;
    };
    const inv = c.world.emulator.inventory();
    say(
      `    Kubernetes ${versions.kubernetes}: etcd, kube-apiserver, kube-controller-manager and kube-scheduler at ${c.kube.server}`,
    );
    say(
      `    emulator at ${c.world.emulator.url}: ${inv.vpcs[0]?.vpcId}, pod subnets ${inv.subnets
        .filter((s) => s.subnetId.includes("pods"))
        .map((s) => `${s.subnetId} ${s.cidrBlock}`)
        .join(", ")}`,
    );
    say(
      `    ${c.nodes.length} nodes (network namespaces behind a VPC router namespace), each with containerd and a kubelet in its own mount and PID namespace`,
    );

    const image = relative(ROOT, IMAGE_ARCHIVE);
    say(`3/7 ${relative(ROOT, EXAMPLE_POLICY)} applied as Flux applies it; kubelet runs the agents from ${image}`);
    say("    (its cloud endpoint is the emulator, its credentials the emulated CVM role's)");
    await agentsReady(c);
    await waitFor(
      `${ENI_IP_RESOURCE} on every Node and the first ENI of every node`,
      async () => {
        const views = await pools();
        const nodes = await Promise.all(c.nodes.map((n) => c.get(`/api/v1/nodes/${n.name}`)));
        return (
          views.every((v) => v.summary.inflight === 0 && v.summary.bound >= 1) &&
          nodes.every((n) => Number(n.status?.allocatable?.[ENI_IP_RESOURCE] ?? 0) > 0)
        );
      },
      90_000,
    );
    say(await kubectl(c, ["get", "nodes"]));
    say(await kubectl(c, ["get", "pods", "-n", AGENT_NAMESPACE, "-o", "wide"]));
    new Progress().done(await line());

    say(`4/7 a Deployment of ${opts.pods} pods, each asking for one ${ENI_IP_RESOURCE}, spread over the nodes`);
    const deployStart = Date.now();
    say(await kubectl(c, ["apply", "-f", "-"], JSON.stringify(deployment(opts.pods))));
    const progress = new Progress();
    const status = async () => {
      const ready = (await appPods(c)).filter(isReady).length;
      return `Running ${ready}/${opts.pods} | ${await line()}`;
    };
    const ticker = setInterval(() => void status().then((l) => progress.update(l)), 500);
    try {
      await waitFor(
        `${opts.pods} pods Running with an IP`,
        async () => (await appPods(c)).filter(isReady).length === opts.pods,
        240_000,
      );
    } finally {
      clearInterval(ticker);
    }
    progress.done(await status());
    say(
      `    ${opts.pods} pods Running with VPC IPs ${((Date.now() - deployStart) / 1000).toFixed(1)} s after the apply`,
    );
    say(await kubectl(c, ["get", "pods", "-o", "wide"]));

    say("5/7 pod-to-pod connectivity across nodes, through the VPC");
    const pods = (await appPods(c)).filter(isReady);
    const first = c.nodes[0]!.name;
    const last = c.nodes.at(-1)!.name;
    const a = await sandboxOf(c, pods.find((p) => p.spec.nodeName === first)!);
    const b = await sandboxOf(c, pods.find((p) => p.spec.nodeName === last)!);
    const echo = await tcpEcho(runtimePod(a.node.runtime, a.sandbox), runtimePod(b.node.runtime, b.sandbox));
    say(
      `    TCP ${a.sandbox.ip} (${first}) -> ${b.sandbox.ip} (${last}): ${echo.ok ? `ok, echoed "${echo.detail}"` : `FAILED: ${echo.detail}`}`,
    );

    const keep = c.nodes.length;
    say(`6/7 scale the Deployment down to ${keep} pods: their IPs return to the nodes' pools`);
    say(await kubectl(c, ["scale", "deployment", APP, `--replicas=${keep}`]));
    await waitFor(
      `${keep} pods left, and the agents told`,
      async () => {
        const left = await appPods(c);
        if (left.length !== keep || !left.every(isReady)) return false;
        // every pod with a VPC IP, the controller's included (not hostNetwork, not going)
        const all = ((await c.get("/api/v1/pods")).items as (ApiPod & { spec: { hostNetwork?: boolean } })[]).filter(
          (p) => !p.spec.hostNetwork && p.metadata.deletionTimestamp === undefined && p.status.phase === "Running",
        );
        const views = await pools();
        return c.nodes.every((n, i) => views[i]!.pods.length === all.filter((p) => p.spec.nodeName === n.name).length);
      },
      120_000,
    );
    const leftIps = new Set((await appPods(c)).map((p) => p.status.podIP));
    const freed = pods.filter((p) => !leftIps.has(p.status.podIP));
    const returned = await Promise.all(
      freed.map(async (p) => {
        const node = c.nodes.find((n) => n.name === p.spec.nodeName)!;
        const [view, cloud] = [await node.node.view(), await node.node.cloud()];
        const back = !view.pods.some((x) => x.ip === p.status.podIP) && cloud.ips.includes(p.status.podIP!);
        return { ip: p.status.podIP!, node: node.name, back };
      }),
    );
    const back = returned
      .filter((r) => r.back)
      .sort((x, y) => x.node.localeCompare(y.node) || ipToInt(x.ip) - ipToInt(y.ip));
    say(
      `    ${back.length} of ${freed.length} pod IPs are idle in their node's pool again, still bound to its ENIs: ${back.map((r) => `${r.ip} (${r.node})`).join(", ")}`,
    );
    say(
      "    (a new pod gets one after ipCooldown, 30 s; idle IPs above pods + prebind.max go back to the VPC every releaseInterval, 2 min)",
    );
    new Progress().done(await line());
    say(await kubectl(c, ["get", "pods", "-o", "wide"]));

    say("7/7 summary");
    for (const [i, v] of (await pools()).entries()) {
      const n = c.nodes[i]!;
      say(`    ${poolLine(n.name, v)}; route tables ${v.enis.map((e) => `${e.link}=${e.routeTable}`).join(", ")}`);
      const node = await c.get(`/api/v1/nodes/${n.name}`);
      say(
        `      Node ${n.name}: ${ENI_IP_RESOURCE} allocatable ${node.status?.allocatable?.[ENI_IP_RESOURCE]}, capacity ${node.status?.capacity?.[ENI_IP_RESOURCE]} (the agent's device plugin)`,
      );
    }
    const calls = apiCalls(c.world.emulator.admin.stats());
    say(`    cloud API calls: ${calls.total} (${calls.byAction.map(([x, k]) => `${x} ${k}`).join(", ")})`);
    say(
      `\ndone in ${((Date.now() - started) / 1000).toFixed(1)} s; cleaning up kubelets, containerd, the control plane, namespaces and the emulator`,
    );
    return echo.ok && back.length === freed.length ? 0 : 1;
  } finally {
    await c.stop();
  }
}

/**
 * The agents ready on every node. One that keeps exiting fails at once, naming its error, rather
 * than after the 3-minute wait (an image older than the checkout is the usual cause).
 */
async function agentsReady(c: RealCluster, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const agents = await agentsOnNodes(c);
    if (agents.ready === c.nodes.length) return;
    if (agents.crashLoop)
      throw new Error(
        `${agents.crashLoop} (if ${relative(ROOT, IMAGE_ARCHIVE)} is older than this checkout, \`bash scripts/build-image.sh\` rebuilds it)`,
      );
    if (Date.now() > deadline)
      throw new Error(`the agents are ready on ${agents.ready} of ${c.nodes.length} nodes after ${timeoutMs / 1000} s`);
    await Bun.sleep(500);
  }
}
