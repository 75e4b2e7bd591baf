// The node agent's resident memory: idle after start, with 100 pods, and across CNI ADD/DEL
// cycles, against the DaemonSet's memory request (128 MiB). Real parts throughout: the
// `vpccni agent` process as the test bed starts it (its own SQLite store, the real SDK against
// the cloud emulator, a real kube-apiserver unless --no-kube), and the compiled CNI plugin
// executed per call with CNI_* variables (sandbox/emulated-cluster.ts, "direct" caller). A cycle
// is a fresh pod netns, one ADD and one DEL through the plugin, and the netns removed, as a
// container runtime does; `--parallel` cycles run at a time, on top of the 100 pods, which stay.
// RSS comes from outside, /proc/<pid>/status of the agent (VmRSS; VmHWM for the peak).
// Needs root. Prints figures; never fails on time or on the goal.
//
//   node_modules/.bin/bun bench/agent-memory.ts [--cycles 10000] [--parallel 4] [--no-kube] [--ftl]
// The agent runs with the DaemonSet's runtime environment, as every test bed agent does
// (AGENT_RUNTIME_ENV: JavaScriptCore's DFG and FTL tiers off); --ftl leaves JavaScriptCore's
// defaults, for comparison.
//   last line: agent-memory idle_mb=<a> pods100_mb=<b> cycles_mb=<c> growth_mb=<d>
import { readdirSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { type Cluster, startCluster } from "../sandbox/apiserver.ts";
import { type EmulatedNode, EmulatedCluster, waitFor } from "../sandbox/emulated-cluster.ts";
import { run } from "../sandbox/exec.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    cycles: { type: "string", default: "10000" },
    parallel: { type: "string", default: "4" },
    "no-kube": { type: "boolean", default: false },
    ftl: { type: "boolean", default: false },
  },
});
const CYCLES = Math.max(1, Number(values.cycles) || 10_000);
const PARALLEL = Math.max(1, Number(values.parallel) || 4);
const PODS = 100;
const STEP = Math.min(1000, CYCLES);
const GOAL_MIB = 128; // the agent container's memory request (compiler/daemonset.ts)
// 7 pod ENIs x 20 IPs = 140 >= 100 pods + the cycling ones + prebind. No cooldown and a long
// release interval: an IP a DEL gives back serves the next ADD, so no cycle waits for the cloud.
const QUOTA = { eniQuota: 8, ipsPerEni: 21 };
const SPEC = { prebind: { min: 10, max: 20 }, ipCooldown: "0s", releaseInterval: "10m" };

/** Memory figures of one process from /proc/<pid>/status, in KiB. */
function status(pid: number): { rss: number; hwm: number; anon: number; file: number; fds: number } {
  const text = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? Number.NaN);
  return {
    rss: kb("VmRSS"),
    hwm: kb("VmHWM"),
    anon: kb("RssAnon"),
    file: kb("RssFile"),
    fds: readdirSync(`/proc/${pid}/fd`).length,
  };
}

/** CPU time of one process so far (user + system), in seconds. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  // utime and stime are fields 14 and 15 of stat(5); the split leaves out the first two
  return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ, 100 on Linux
}

const children = (pid: number): number[] =>
  readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
const cmdline = (pid: number): string => readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");

/**
 * The agent's pid, found as the harness knows it: spawnManaged's process group leader is the
 * leash, whose child is `bun cli/main.ts agent ...`. With a kubeconfig and no
 * NODE_EXTRA_CA_CERTS that process re-executes itself once with the cluster CA (cli/commands/
 * agent.ts) and waits; the serving agent is then its child. The DaemonSet sets the variable, so
 * there the agent is one process. Returns the serving agent and the waiting parent, if any.
 */
function agentPids(node: EmulatedNode): { pid: number; wrapper: number | null } {
  const leash = node.agent?.pgid;
  if (leash === undefined) throw new Error("the agent is not running");
  const isAgent = (p: number) => / agent /.test(cmdline(p));
  let pid = children(leash).find(isAgent);
  if (pid === undefined) throw new Error(`no agent process under the leash ${leash}`);
  let wrapper: number | null = null;
  for (let child = children(pid).find(isAgent); child !== undefined; child = children(child).find(isAgent)) {
    wrapper = pid;
    pid = child;
  }
  return { pid, wrapper };
}

const mib = (kb: number) => kb / 1024;

/** Least-squares slope of RSS against cycles, in MiB per 1,000 cycles (NaN under 2 points). */
function slopePer1000(points: [number, number][]): number {
  if (points.length < 2) return Number.NaN;
  const mx = points.reduce((a, [x]) => a + x, 0) / points.length;
  const my = points.reduce((a, [, y]) => a + y, 0) / points.length;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return mib(num / den) * 1000;
}
const f1 = (kb: number) => mib(kb).toFixed(1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** RSS of a bare Bun process that loaded nothing: the floor under any Bun daemon. */
async function bareBunKb(): Promise<number> {
  const script =
    "await Bun.sleep(300); console.log(/VmRSS:\\s+(\\d+)/.exec(await Bun.file('/proc/self/status').text())[1])";
  const r = await run([process.execPath, "-e", script]);
  return Number(r.stdout.trim());
}

if (process.getuid?.() !== 0) {
  console.error("bench/agent-memory.ts needs root (network namespaces)");
  process.exit(1);
}

// the agent inherits this process's environment (sandbox/process.ts): the DaemonSet's settings
// sandbox/emulated-cluster.ts gives the agent AGENT_RUNTIME_ENV unless told to leave the defaults
if (values.ftl) process.env.VPCCNI_AGENT_JSC = "defaults";

let cluster: Cluster | undefined;
let world: EmulatedCluster | undefined;
try {
  cluster = values["no-kube"] ? undefined : await startCluster();
  world = await EmulatedCluster.start({
    nodes: 1,
    caller: "direct",
    quota: QUOTA,
    spec: SPEC,
    ...(cluster ? { cluster } : {}),
  });
  const node = world.nodes[0]!;
  await node.startAgent();
  await waitFor(
    "the agent's first pool",
    async () => {
      const v = await node.view();
      return v.summary.inflight === 0 && v.summary.ready >= SPEC.prebind.min;
    },
    120_000,
  );
  const { pid, wrapper } = agentPids(node);
  // Let start-up garbage be collected as it would be on an idle node.
  await sleep(10_000);
  const idle = status(pid);
  const bare = await bareBunKb();
  console.log(
    `agent                     pid ${pid} (${values["no-kube"] ? "no Kubernetes" : "with a kube-apiserver"}; ${navigator.hardwareConcurrency} cores shared with other work: figures are noisy)`,
  );
  console.log(
    `goal                      <= ${GOAL_MIB} MiB RSS (the DaemonSet's memory request), no growth across cycles`,
  );
  console.log(
    `idle after start          ${f1(idle.rss)} MiB RSS (anon ${f1(idle.anon)}, file ${f1(idle.file)}), ${idle.fds} fds; a bare Bun process: ${f1(bare)} MiB`,
  );
  if (wrapper !== null)
    console.log(
      `  (test bed only)         ${f1(status(wrapper).rss)} MiB in the parent that re-executed the agent with the cluster CA; the DaemonSet sets NODE_EXTRA_CA_CERTS, so it has none`,
    );

  // 100 pods, added 4 at a time (a kubelet starts pods in parallel), then the pool settles.
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < PODS) await node.addPod(`p${next++}`);
    }),
  );
  await waitFor("the pool to settle", async () => (await node.view()).summary.inflight === 0, 120_000);
  await sleep(5_000);
  const pods100 = status(pid);
  const v100 = await node.view();
  console.log(
    `at ${PODS} pods               ${f1(pods100.rss)} MiB RSS (anon ${f1(pods100.anon)}, file ${f1(pods100.file)}), ${pods100.fds} fds; ${v100.summary.enis} ENIs, ${v100.summary.bound} IPs bound`,
  );

  // Cycles, PARALLEL at a time, on top of the 100 pods.
  console.log(
    `cycles                    ${CYCLES}, ${PARALLEL} at a time (fresh netns, plugin ADD, plugin DEL, netns removed)`,
  );
  let started = 0;
  let done = 0;
  let failed = 0;
  let firstStep = Number.NaN;
  let lastRss = Number.NaN;
  const samples: [number, number][] = []; // [cycles, RSS KiB] at every step
  let firstError = "";
  const t0 = performance.now();
  const cpu0 = cpuSeconds(pid);
  let tStep = t0;
  const cycle = async (k: number) => {
    const name = `c${k}`;
    try {
      const { pod } = await node.addPod(name);
      await node.delPod(name);
      await world!.bed.removePod(pod);
    } catch (error) {
      failed++;
      firstError ||= (error as Error).message;
      const pod = node.pods.get(name)?.pod;
      if (pod) await node.del(name, pod).catch(() => {});
      node.pods.delete(name);
    }
    done++;
    if (done % STEP === 0 || done === CYCLES) {
      const s = status(pid);
      const now = performance.now();
      if (Number.isNaN(firstStep)) firstStep = s.rss;
      lastRss = s.rss;
      samples.push([done, s.rss]);
      console.log(
        `  after ${String(done).padStart(6)} cycles  ${f1(s.rss).padStart(6)} MiB RSS (anon ${f1(s.anon)}, file ${f1(s.file)}), peak ${f1(s.hwm)}, ${s.fds} fds, growth since the first ${STEP}: ${(mib(s.rss - firstStep)).toFixed(1)} MiB; ${(((done % STEP || STEP) * 1000) / (now - tStep)).toFixed(1)} cycles/s`,
      );
      tStep = now;
    }
  };
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (started < CYCLES) await cycle(started++);
    }),
  );
  const wallS = (performance.now() - t0) / 1000;
  const end = status(pid);
  const cpu = cpuSeconds(pid) - cpu0;
  const view = await node.view();
  console.log(
    `cycles done               ${done} in ${wallS.toFixed(0)} s (${(done / wallS).toFixed(1)} cycles/s), agent CPU ${cpu.toFixed(1)} s (${((cpu * 1000) / done).toFixed(1)} ms a cycle), ${failed} failed${firstError ? ` (first: ${firstError.slice(0, 200)})` : ""}; ${view.summary.pods} pods, ${view.summary.bound} IPs bound at the end`,
  );
  console.log(`peak                      ${f1(end.hwm)} MiB (VmHWM over the whole run)`);
  console.log(
    "peer                      none measured: the reference ptp + host-local IPAM keeps no daemon (one process per call, nothing resident); no other VPC CNI daemon runs here",
  );
  // A leak climbs steadily; a garbage collector's sawtooth does not: the least-squares slope
  // over the steps tells them apart better than the end minus the first step alone.
  console.log(
    `trend                     ${slopePer1000(samples).toFixed(2)} MiB per 1,000 cycles (least squares over ${samples.length} steps)`,
  );
  const growth = mib(lastRss - firstStep);
  console.log(
    `agent-memory idle_mb=${f1(idle.rss)} pods100_mb=${f1(pods100.rss)} cycles_mb=${f1(end.rss)} growth_mb=${growth.toFixed(1)}`,
  );
} finally {
  await world?.stop();
  await cluster?.stop();
}
