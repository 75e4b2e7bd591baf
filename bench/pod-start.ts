// Pod start: creation to Running for 30 pods on one real node (sandbox/real-cluster.ts:
// kube-apiserver, kube-scheduler, kube-controller-manager, containerd and kubelet), vpccni
// against the reference ptp + host-local, on the same kubelet and containerd in the same run.
// The peer runs first: its conflist is written into the node's CNI folder, and removed once
// its pods are gone. Then the policy is applied as Flux does, kubelet starts the agent from
// the locally built image, and the same pods run again, now requesting one eni-ip each, as
// every pod of a vpccni node does. The agent publishes eni-ip as a device plugin whose
// allocatable is the IPs bound on the node (pods + prebind), so the scheduler places pods in
// waves as the pool grows: that is the product's behaviour, and part of what is measured.
// Each pod's time is taken from just before its POST to the watch event that first shows it
// Running (creationTimestamp has 1 s resolution). Each run starts with one untimed pod, so
// first-use costs (runc, the plugins' page cache) stay out. Prints figures; never fails on time.
//
//   node_modules/.bin/bun bench/pod-start.ts [--pods 30] [--prebind-min N --prebind-max N]
//   root; NODE_EXTRA_CA_CERTS=<test CA>; the image from `bash scripts/build-image.sh`
//   last line: ratio pod-start=<x> pod-start-p99=<y>   (vpccni / ptp, p50 (goal <= 1.05) and p99)
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parse } from "yaml";
import { PAUSE_IMAGE, requireContainerd } from "../sandbox/containerd.ts";
import { NETWORK, policyYaml, waitFor } from "../sandbox/emulated-cloud.ts";
import { makeTempDir } from "../sandbox/janitor.ts";
import { kubeCall } from "../sandbox/kube-api.ts";
import type { Kubeconfig } from "../sandbox/kubeconfig.ts";
import { type KubeletNode, requireKubelet } from "../sandbox/kubelet.ts";
import { paths, versions } from "../sandbox/paths.ts";
import { AGENT_NAMESPACE, RealCluster } from "../sandbox/real-cluster.ts";
import { VpcCniPolicy } from "../schema/index.ts";
import { ENI_IP_RESOURCE } from "../schema/names.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    pods: { type: "string", default: "30" },
    "prebind-min": { type: "string" },
    "prebind-max": { type: "string" },
  },
});
const PODS = Math.min(90, Math.max(1, Number(values.pods) || 30));
// The policy's defaults unless asked: what a user who writes no prebind gets.
const PREBIND =
  values["prebind-min"] === undefined && values["prebind-max"] === undefined
    ? {}
    : { prebind: { min: Number(values["prebind-min"] ?? 5), max: Number(values["prebind-max"] ?? 5) } };
// The emulator's default task times (docs/emulator.md), not the sandbox's faster ones.
const ASYNC = { create: 50, attach: 500, detach: 300, delete: 50, assign: 50, unassign: 50 };
// S5.2XLARGE16 of docs/emulator.md: 5 pod ENIs x 19 secondary IPs, so 30 pods fit with room.
const QUOTA = { eniQuota: 6, ipsPerEni: 20 };
const NS = "pod-start";
const PEER = { name: "ptp-bench", file: "05-ptp-bench.conflist", subnet: "10.240.0.0/24" };
const RUN_DEADLINE_MS = 150_000;

interface PodTimes {
  created: number;
  scheduled?: number;
  running?: number;
}
interface RunResult {
  times: PodTimes[];
  failedScheduling: { events: number; pods: number; sample: string };
  /** eni-ip allocatable as the agent has it and as the Node shows it: each change, ms after the first POST. */
  allocatable: { agent: Step[]; node: Step[] };
}
interface Step {
  at: number;
  value: number;
}

const api = (c: RealCluster) => c.kube.admin;

/** ptp + host-local, then portmap with the capability vpccni's conflist declares: the same chain. */
function peerConflist(ipamDir: string): Record<string, unknown> {
  return {
    cniVersion: "1.0.0",
    name: PEER.name,
    plugins: [
      {
        type: "ptp",
        ipMasq: false,
        ipam: {
          type: "host-local",
          dataDir: ipamDir,
          ranges: [[{ subnet: PEER.subnet }]],
          routes: [{ dst: "0.0.0.0/0" }],
        },
      },
      { type: "portmap", capabilities: { portMappings: true } },
    ],
  };
}

function podManifest(name: string, eniIp: boolean): Record<string, unknown> {
  const resources = eniIp ? { requests: { [ENI_IP_RESOURCE]: "1" }, limits: { [ENI_IP_RESOURCE]: "1" } } : {};
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { app: NS } },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: "pause", image: PAUSE_IMAGE, imagePullPolicy: "Never", resources }],
    },
  };
}

/** Streams pod watch events of NS from `resourceVersion` to `seen` until stopped. */
function watchPods(kc: Kubeconfig, resourceVersion: string, seen: (pod: any, at: number) => void) {
  const abort = new AbortController();
  const done = (async () => {
    const url = `${kc.server}/api/v1/namespaces/${NS}/pods?watch=1&resourceVersion=${resourceVersion}&timeoutSeconds=600`;
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${kc.token}`, accept: "application/json" },
      tls: { ca: kc.ca },
      signal: abort.signal,
    });
    if (!res.ok || !res.body) throw new Error(`watch of pods in ${NS}: HTTP ${res.status}`);
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.trim()) seen(JSON.parse(line).object, performance.now());
      }
    }
  })().catch((e: Error) => {
    if (!abort.signal.aborted) throw e;
  });
  return { stop: () => abort.abort(), done };
}

/** The node is Ready and schedulable, and its runtime's CNI config is `network`. */
async function networkReady(c: RealCluster, node: KubeletNode, network: string): Promise<void> {
  await waitFor(
    `${node.name} Ready with CNI network ${network}`,
    async () => {
      const info = JSON.parse(await node.runtime.crictl(["info"]));
      const nets = (info.cniconfig?.Networks ?? []).map((n: any) => n.Config?.Name);
      if (!nets.includes(network)) return false;
      const n = await c.get(`/api/v1/nodes/${node.name}`);
      const ready = n.status?.conditions?.some((x: any) => x.type === "Ready" && x.status === "True");
      return ready && !(n.spec?.taints ?? []).some((t: any) => t.effect === "NoSchedule");
    },
    120_000,
  );
}

const podReady = (p: any) => p.status?.conditions?.some((x: any) => x.type === "Ready" && x.status === "True");

/**
 * Every pod of the product's namespace is Ready (the agent, and whatever else the policy
 * deploys, such as a controller serving an admission webhook), and a pod passes admission: a
 * dry-run create goes through the webhooks as the measured pods will. Returns the names of the
 * mutating webhook configurations, to print.
 */
async function productReady(c: RealCluster): Promise<string[]> {
  let last = "";
  await waitFor(
    `every pod in ${AGENT_NAMESPACE} Ready and a pod admitted`,
    async () => {
      const pods = (await c.get(`/api/v1/namespaces/${AGENT_NAMESPACE}/pods`)).items as any[];
      const waiting = pods.filter((p) => p.metadata.deletionTimestamp === undefined && !podReady(p));
      last = waiting.map((p) => `${p.metadata.name}: ${JSON.stringify(p.status?.containerStatuses)}`).join("\n");
      if (waiting.length > 0) return false;
      const dry = await kubeCall(api(c), "POST", `/api/v1/namespaces/${NS}/pods?dryRun=All`, {
        body: podManifest("dry-run", true),
        allow: [400, 403, 500, 502, 503, 504],
      });
      last = `dry-run create: HTTP ${dry.status} ${JSON.stringify(dry.json?.message ?? "")}`;
      return dry.status === 201;
    },
    180_000,
  ).catch((e: Error) => {
    throw new Error(`${e.message}\n${last}`);
  });
  const hooks = await c.get("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations");
  return (hooks.items as any[]).map((h) => h.metadata.name);
}

/** The pool has nothing in flight and the Node's eni-ip allocatable is the agent's. */
async function poolSettled(c: RealCluster, node: KubeletNode): Promise<number> {
  let allocatable = 0;
  await waitFor(
    "the pool to settle and the Node to show it",
    async () => {
      const v = await node.node.view();
      const n = await c.get(`/api/v1/nodes/${node.name}`);
      allocatable = v.extendedResource.allocatable;
      return v.inflight.length === 0 && n.status?.allocatable?.[ENI_IP_RESOURCE] === String(allocatable);
    },
    120_000,
  );
  return allocatable;
}

async function deletePods(c: RealCluster, node: KubeletNode): Promise<void> {
  await kubeCall(api(c), "DELETE", `/api/v1/namespaces/${NS}/pods?labelSelector=app%3D${NS}`);
  await waitFor(
    "the pods to be gone, sandboxes and all",
    async () =>
      (await c.get(`/api/v1/namespaces/${NS}/pods`)).items.length === 0 &&
      (await node.runtime.crictl(["pods", "--namespace", NS, "--state", "ready", "-q"])).trim() === "",
    120_000,
  );
}

/** Creates `count` pods at once and times each to Running; with eni-ip, also samples its allocatable. */
async function runPods(
  c: RealCluster,
  node: KubeletNode,
  prefix: string,
  count: number,
  eniIp: boolean,
): Promise<RunResult> {
  const list = await c.get(`/api/v1/namespaces/${NS}/pods`);
  const times = new Map<string, PodTimes>();
  const watch = watchPods(api(c), list.metadata.resourceVersion, (pod, at) => {
    const t = times.get(pod.metadata?.name);
    if (!t) return;
    if (t.scheduled === undefined && pod.spec?.nodeName) t.scheduled = at;
    if (t.running === undefined && pod.status?.phase === "Running") t.running = at;
  });
  const allocatable: RunResult["allocatable"] = { agent: [], node: [] };
  const step = (steps: Step[], at: number, value: number) => {
    if (steps.at(-1)?.value !== value) steps.push({ at, value });
  };
  let sampling = eniIp;
  const t0 = performance.now();
  const sampler = (async () => {
    while (sampling) {
      const [v, n] = await Promise.all([node.node.view(), c.get(`/api/v1/nodes/${node.name}`)]);
      const at = performance.now() - t0;
      step(allocatable.agent, at, v.extendedResource.allocatable);
      step(allocatable.node, at, Number(n.status?.allocatable?.[ENI_IP_RESOURCE] ?? Number.NaN));
      await Bun.sleep(100);
    }
  })();
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  await Promise.all(
    names.map(async (name) => {
      times.set(name, { created: performance.now() });
      await kubeCall(api(c), "POST", `/api/v1/namespaces/${NS}/pods`, { body: podManifest(name, eniIp) });
    }),
  );
  await Promise.race([
    waitFor(
      `${count} ${prefix} pods Running`,
      () => [...times.values()].every((t) => t.running !== undefined),
      RUN_DEADLINE_MS,
    ).catch(() => {}),
    watch.done.then(() => {
      throw new Error("the pod watch ended early");
    }),
  ]);
  watch.stop();
  sampling = false;
  await sampler;
  const events = (await c.get(`/apis/events.k8s.io/v1/namespaces/${NS}/events`)).items as any[];
  const failed = events.filter((e) => e.reason === "FailedScheduling" && names.includes(e.regarding?.name));
  return {
    times: names.map((n) => times.get(n)!),
    failedScheduling: {
      events: failed.reduce((s, e) => s + (e.series?.count ?? 1), 0),
      pods: new Set(failed.map((e) => e.regarding.name)).size,
      sample: failed[0]?.note ?? "",
    },
    allocatable,
  };
}

function pct(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)] ?? Number.NaN;
}
const sortedMs = (xs: (number | undefined)[]) => xs.map((x) => x ?? Number.POSITIVE_INFINITY).sort((a, b) => a - b);
const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : "-").padStart(8);

function row(name: string, xs: (number | undefined)[]): string {
  const s = sortedMs(xs);
  const missing = xs.filter((x) => x === undefined).length;
  return `${name.padEnd(36)}${String(s.length - missing).padStart(4)}${ms(pct(s, 50))}${ms(pct(s, 99))}${ms(s[0] ?? Number.NaN)}${ms(s.at(-1) ?? Number.NaN)}`;
}

/** Scheduling waves: binds (ms after the first POST) more than a second apart start a new one. */
function waves(times: PodTimes[]): { at: number; pods: number }[] {
  const t0 = Math.min(...times.map((t) => t.created));
  const out: { at: number; pods: number }[] = [];
  let prev = Number.NEGATIVE_INFINITY;
  for (const at of sortedMs(times.map((t) => t.scheduled)).filter(Number.isFinite)) {
    if (at - prev > 1000) out.push({ at: at - t0, pods: 0 });
    out.at(-1)!.pods++;
    prev = at;
  }
  return out;
}

function report(name: string, r: RunResult): [number, number] {
  const total = r.times.map((t) => (t.running === undefined ? undefined : t.running - t.created));
  const sched = r.times.map((t) => (t.scheduled === undefined ? undefined : t.scheduled - t.created));
  const start = r.times.map((t) =>
    t.running === undefined || t.scheduled === undefined ? undefined : t.running - t.scheduled,
  );
  console.log(row(`${name}: creation -> Running`, total));
  console.log(row("  creation -> scheduled", sched));
  console.log(row("  scheduled -> Running (kubelet, CNI)", start));
  const w = waves(r.times);
  console.log(
    `  scheduling waves: ${w.length} (${w.map((x) => `${x.pods} at ${(x.at / 1000).toFixed(1)} s`).join(", ")}); ` +
      `FailedScheduling: ${r.failedScheduling.events} on ${r.failedScheduling.pods} pods`,
  );
  const s = sortedMs(total);
  return [pct(s, 50), pct(s, 99)];
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("bench/pod-start.ts needs root (network namespaces, containerd)");
  requireContainerd();
  requireKubelet();
  const effective = VpcCniPolicy.parse(parse(policyYaml("pod-start", PREBIND))).spec;
  const started = performance.now();
  const c = await RealCluster.start({
    nodes: 1,
    deploy: false,
    policy: "pod-start",
    quota: QUOTA,
    emulator: { settings: { asyncMs: ASYNC } },
    plugins: ["ptp", "host-local"].map((p) => join(paths.cniPluginDir, p)),
  });
  const ipam = makeTempDir("pod-start-ipam");
  try {
    const node = c.nodes[0]!;
    await kubeCall(api(c), "POST", "/api/v1/namespaces", { body: { metadata: { name: NS } } });
    await waitFor(`the default ServiceAccount of ${NS}`, async () => {
      const r = await kubeCall(api(c), "GET", `/api/v1/namespaces/${NS}/serviceaccounts/default`, { allow: [404] });
      return r.status === 200;
    });
    const clusterMs = performance.now() - started;

    const peerFile = join(node.cniConfDir, PEER.file);
    writeFileSync(peerFile, JSON.stringify(peerConflist(ipam), null, 2));
    await networkReady(c, node, PEER.name);
    await runPods(c, node, "warm-ptp", 1, false);
    await deletePods(c, node);
    const peer = await runPods(c, node, "ptp", PODS, false);
    await deletePods(c, node);
    rmSync(peerFile);

    await c.deploy(PREBIND);
    await c.agentsReady();
    const webhooks = await productReady(c);
    await networkReady(c, node, NETWORK);
    await poolSettled(c, node);
    await runPods(c, node, "warm-vpccni", 1, true);
    await deletePods(c, node);
    const before = await poolSettled(c, node);
    const ours = await runPods(c, node, "vpccni", PODS, true);
    const after = await node.node.view();

    console.log(
      `pod start on one real node (kubelet ${versions.kubernetes}, containerd, ${navigator.hardwareConcurrency} cores): ${PODS} pause pods POSTed at once, ms from just before each POST to the watch event showing it Running (of ${PODS} pods, p99 is the slowest)`,
    );
    console.log(
      `vpccni: prebind min ${effective.prebind.min} max ${effective.prebind.max}${PREBIND.prebind ? "" : " (policy defaults)"}, ipCooldown ${effective.ipCooldown}; ` +
        `quota ${QUOTA.eniQuota - 1} pod ENIs x ${QUOTA.ipsPerEni - 1} IPs; cloud tasks create ${ASYNC.create}, attach ${ASYNC.attach}, assign ${ASYNC.assign} ms; ` +
        `eni-ip allocatable ${before} at the start, ${after.extendedResource.allocatable} at the end (${after.summary.enis} ENIs)`,
    );
    console.log(
      `vpccni pods request ${ENI_IP_RESOURCE}: 1 themselves; mutating webhooks on their way in: ${webhooks.join(", ") || "none"}`,
    );
    console.log(`peer: ${PEER.name} (ptp + host-local ${PEER.subnet}, portmap), no eni-ip request`);
    console.log(
      `${"".padEnd(36)}${"n".padStart(4)}${"p50".padStart(8)}${"p99".padStart(8)}${"min".padStart(8)}${"max".padStart(8)}`,
    );
    const [p50, p99] = report("ptp + host-local", peer);
    const [o50, o99] = report("vpccni", ours);
    const sec = (x: number) => `${(x / 1000).toFixed(1)} s`;
    const steps = ours.allocatable.agent.map((a) => {
      const shown = ours.allocatable.node.find((n) => n.value >= a.value && n.at >= a.at);
      return `${a.value} at ${sec(a.at)} (Node ${shown ? sec(shown.at) : "-"})`;
    });
    console.log(`  eni-ip allocatable, agent (on the Node): ${steps.join(", ")}`);
    if (ours.failedScheduling.sample) console.log(`  e.g. "${ours.failedScheduling.sample}"`);
    console.log(
      `set-up ${(clusterMs / 1000).toFixed(0)} s, whole run ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
    console.log(`ratio pod-start=${(o50 / p50).toFixed(2)} pod-start-p99=${(o99 / p99).toFixed(2)}`);
    await deletePods(c, node).catch((e: Error) => console.error(`deleting the vpccni pods: ${e.message}`));
  } finally {
    await c.stop();
    rmSync(ipam, { recursive: true, force: true });
  }
}

await main();
