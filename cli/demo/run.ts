// `vpccni demo`: the whole product on one machine, on the embedded default world. The
// emulated cloud mirrors ENIs into network namespaces, a real agent runs per node, pods are
// wired by the real CNI binary, and a real TCP exchange crosses the VPC between two nodes.
import { ENI_IP_RESOURCE } from "../../schema/names.ts";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { compileToDir } from "../../compiler/index.ts";
import { hasErrors, renderDiagnostics } from "../../schema/index.ts";
import type { Cluster } from "../../sandbox/apiserver.ts";
import { EXAMPLE_POLICY } from "../../sandbox/emulated-cloud.ts";
import { ensureOsTools, SANDBOX_TOOLS } from "../../sandbox/os-packages.ts";
import { kubeCall } from "../../sandbox/kube-api.ts";
import { paths } from "../../sandbox/paths.ts";
import { EmulatedCluster, waitFor } from "../../sandbox/emulated-cluster.ts";
import { bedPod, tcpEcho } from "./connectivity.ts";
import { apiCalls, poolLine, Progress } from "./progress.ts";

const ROOT = resolve(import.meta.dir, "../..");
const POLICY = EXAMPLE_POLICY;

export interface DemoOptions {
  nodes: number;
  pods: number;
  kube: "auto" | "off";
  /** Why the nodes are emulated rather than real (sandbox/real-cluster.ts): a flag, or what is missing. */
  emulatedBecause?: { flag: string } | { missing: string };
}

const say = (line: string) => process.stdout.write(`${line}\n`);

export async function compileStep(): Promise<boolean> {
  const out = mkdtempSync(join(tmpdir(), "vpccni-demo-deploy-"));
  try {
    const outcome = await compileToDir({ paths: [join(ROOT, "examples/policies")], outDir: out, cwd: ROOT });
    if (hasErrors(outcome.diagnostics)) {
      say(renderDiagnostics(outcome.diagnostics, outcome.sources));
      return false;
    }
    const files = new Bun.Glob("*.yaml").scanSync(out);
    say(
      `    ${outcome.policies} policies in examples/policies -> ${[...files].length} manifests (kustomization.yaml, sync waves) for Argo CD or Flux`,
    );
    return true;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export async function runDemo(opts: DemoOptions): Promise<number> {
  const started = Date.now();
  say("vpccni demo: pods get real VPC IPs from shared ENIs, on an emulated Tencent Cloud VPC\n");
  const missing = await ensureOsTools(SANDBOX_TOOLS, say);
  if (missing) {
    process.stderr.write(`vpccni demo: ${missing}\n`);
    return 1;
  }
  say("1/6 compile the example policies");
  if (!(await compileStep())) return 1;

  let cluster: Cluster | undefined;
  const kubeBuilt = existsSync(paths.kubeApiserver) && existsSync(paths.etcd);
  if (opts.kube === "auto" && kubeBuilt) {
    const { startCluster } = await import("../../sandbox/apiserver.ts");
    cluster = await startCluster();
    say(`    Kubernetes: a local kube-apiserver at ${cluster.server} holds the Node objects`);
  } else {
    say(
      `    Kubernetes: ${opts.kube === "off" ? "off (--no-kube)" : "no local kube-apiserver is built (bash scripts/prereqs.sh builds one)"}; running without it`,
    );
  }

  const because = opts.emulatedBecause;
  if (because)
    say(
      `    Nodes: emulated, agents as processes${"flag" in because ? ` (${because.flag})` : `; real nodes need ${because.missing}`}`,
    );

  say("2/6 start the emulated cloud and the network test bed");
  const world = await EmulatedCluster.start({ nodes: opts.nodes, cluster, caller: "direct", spec: {} });
  try {
    const w = world.emulator.inventory();
    say(
      `    emulator at ${world.emulator.url}: ${w.vpcs[0]?.vpcId}, pod subnets ${w.subnets
        .filter((s) => s.subnetId.includes("pods"))
        .map((s) => `${s.subnetId} ${s.cidrBlock}`)
        .join(", ")}`,
    );
    say(
      `    ${world.nodes.length} nodes (network namespaces) behind a VPC router namespace; attaching an ENI in the cloud plugs a link into its node`,
    );

    say("3/6 start one vpccni agent per node with examples/policies/general.yaml");
    for (const node of world.nodes) node.writePolicy(await Bun.file(POLICY).text());
    await Promise.all(world.nodes.map((n) => n.startAgent()));
    const progress = new Progress();
    const line = async () => {
      const views = await Promise.all(world.nodes.map((n) => n.view()));
      return `${world.nodes.map((n, i) => poolLine(n.name, views[i]!)).join(" | ")} | API calls ${apiCalls(world.emulator.admin.stats()).total}`;
    };
    await waitFor(
      "the first ENI of every node",
      async () =>
        (await Promise.all(world.nodes.map((n) => n.view()))).every(
          (v) => v.summary.inflight === 0 && v.summary.bound >= 5,
        ),
      60_000,
    );
    progress.done(await line());

    say(`4/6 a burst of ${opts.pods} pods, then churn`);
    const burstStart = Date.now();
    const ticker = setInterval(() => void line().then((l) => progress.update(l)), 250);
    const perNode = world.nodes.map(
      (_, i) => Math.floor(opts.pods / world.nodes.length) + (i < opts.pods % world.nodes.length ? 1 : 0),
    );
    await Promise.all(
      world.nodes.map((n, i) => Promise.all(Array.from({ length: perNode[i]! }, (_, k) => n.addPod(`web-${k}`)))),
    );
    const burstMs = Date.now() - burstStart;
    for (const n of world.nodes)
      for (let k = 0; k < Math.floor(perNode[world.nodes.indexOf(n)]! / 3); k++) await n.delPod(`web-${k}`);
    for (const n of world.nodes) for (let k = 0; k < 3; k++) await n.addPod(`api-${k}`);
    await waitFor(
      "the pools to settle",
      async () => (await Promise.all(world.nodes.map((n) => n.view()))).every((v) => v.summary.inflight === 0),
      60_000,
    );
    clearInterval(ticker);
    progress.done(await line());
    say(`    ${opts.pods} pods had their IPs ${(burstMs / 1000).toFixed(1)} s after the burst began`);

    say("5/6 pod-to-pod connectivity across nodes, through the VPC");
    const [a, b] = [
      [...world.nodes[0]!.pods.values()][0]!,
      [...world.nodes[world.nodes.length - 1]!.pods.values()][0]!,
    ];
    const echo = await tcpEcho(bedPod(world.bed, a.pod.ns, a.ip), bedPod(world.bed, b.pod.ns, b.ip));
    say(
      `    TCP ${a.ip} (${world.nodes[0]!.name}) -> ${b.ip} (${world.nodes.at(-1)!.name}): ${echo.ok ? `ok, echoed "${echo.detail}"` : `FAILED: ${echo.detail}`}`,
    );

    say("6/6 summary");
    for (const n of world.nodes) {
      const v = await n.view();
      say(`    ${poolLine(n.name, v)}; route tables ${v.enis.map((e) => `${e.link}=${e.routeTable}`).join(", ")}`);
      if (cluster) {
        const node = (await kubeCall(cluster.admin, "GET", `/api/v1/nodes/${n.name}`)).json;
        say(
          `      Node ${n.name}: ${ENI_IP_RESOURCE} allocatable ${node.status?.allocatable?.[ENI_IP_RESOURCE]}, capacity ${node.status?.capacity?.[ENI_IP_RESOURCE]}`,
        );
      }
    }
    const calls = apiCalls(world.emulator.admin.stats());
    say(`    cloud API calls: ${calls.total} (${calls.byAction.map(([a, n]) => `${a} ${n}`).join(", ")})`);
    say(`\ndone in ${((Date.now() - started) / 1000).toFixed(1)} s; cleaning up namespaces, agents and the emulator`);
    return echo.ok ? 0 : 1;
  } finally {
    await world.stop();
    await cluster?.stop();
  }
}

/** Without root: what can run anywhere, the compiler and the pool simulator. */
export async function runWithoutRoot(): Promise<number> {
  say("vpccni demo needs root to create network namespaces (the emulated nodes and pods).");
  say("Running what needs no root instead: the compiler and the pool simulator.\n");
  say("1/2 compile the example policies");
  if (!(await compileStep())) return 1;
  say("2/2 simulate a burst of 100 pods, vpccni against AWS VPC CNI-style warm targets");
  const out = mkdtempSync(join(tmpdir(), "vpccni-demo-sim-"));
  const simulate = await import("../commands/simulate.ts");
  const code = await simulate.run([
    "--policy",
    POLICY,
    "--trace",
    join(ROOT, "examples/traces/burst.jsonl"),
    "--compare",
    "aws",
    "--out",
    out,
  ]);
  say(`\ncharts in ${out}`);
  return code;
}
