// Chaos on real parts: agents of an emulated cluster under continuous pod churn (ADD and DEL
// through the real CNI binary, up to `maxParallel` at once), kill -9 of a random agent at random
// moments and a restart, and cloud faults (errors before or after the action took effect,
// throttling, requests never answered, stale Describes, failed and slow asynchronous tasks). Pods are handled as a container runtime does:
// a failed ADD is followed by a DEL, and the pod is added again later. After a final settle the
// run counts, against the emulator and the kernel: IPs held by two pods, leaks (cloud vs agent
// vs pods), pods that do not answer a ping, and pools outside pods + min .. pods + max.
// bench/chaos.ts runs it long; test/e2e/chaos.test.ts runs a short variant in the test command.
import type { PodNs } from "./test-bed.ts";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EmulatedCluster, type EmulatedNode, waitFor } from "./emulated-cluster.ts";

export interface ChaosOptions {
  nodes?: number;
  /** kill -9 of an agent this many times in all. */
  kills: number;
  /** Share of cloud calls answered with an error (each action), default 0.2. */
  faultRate?: number;
  maxParallel?: number;
  seed?: number;
  /** Progress lines (the bench prints them). */
  log?: (line: string) => void;
  /**
   * Wall-clock budget of the whole run, ms: once it is spent the run stops retrying and
   * settling and reports what is left as problems (a hang is a finding, not a test timeout).
   */
  budgetMs?: number;
  /** A folder that receives each node's agent log and the run's progress when problems are found. */
  postMortem?: string;
}

export interface ChaosReport {
  kills: number;
  /** Cloud answers that were injected faults (errors and throttling). */
  faults: number;
  calls: number;
  cnis: number;
  duplicates: number;
  leaks: number;
  unreachable: number;
  outOfBounds: number;
  /** Restarts that found cloud calls in flight (intents replayed): kills between a call and its journal update. */
  replayedRestarts: number;
  pods: number;
  problems: string[];
  seconds: number;
}

const PREBIND = { min: 2, max: 4 };
/** Far above the plugin's own timeout (ADD_TIMEOUT_MS and its margin). */
const CALL_HANG_MS = 90_000;
/** Below the emulated nodes' 30 bindable IPs: a pod that can never get one is not chaos. */
const PODS_PER_NODE = 24;

/**
 * The cloud's faults of a chaos run, on every action: `rate` of the calls fail (before or after
 * the action took effect), throttling at 40 calls/s, a quarter of `rate` of the asynchronous
 * tasks end FAILED, latency up to 150 ms, and Describes answer from the state 300 ms ago
 * (eventual consistency).
 */
export function chaosFaults(rate: number) {
  return {
    errorRate: rate,
    errorCode: "InternalError",
    errorPhase: "either" as const,
    qps: 40,
    taskFailRate: rate / 4,
    latency: { uniformMs: [0, 150] as [number, number] },
    staleMs: 300,
  };
}

/** The runs' own seeded random numbers, so that a seed repeats a run's choices. */
export class Rng {
  constructor(private s: number) {}
  next(): number {
    this.s = (this.s * 1103515245 + 12345) % 2147483648;
    return this.s / 2147483648;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

interface Pod {
  name: string;
  node: EmulatedNode;
  ns: PodNs;
  /** The last ADD succeeded and no DEL came since. */
  added: boolean;
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const deadline = started + (opts.budgetMs ?? 30 * 60_000);
  const left = () => deadline - Date.now();
  const progress: string[] = [];
  const log = (line: string) => {
    progress.push(`${((Date.now() - started) / 1000).toFixed(1)}s ${line}`);
    opts.log?.(line);
  };
  const r = new Rng(opts.seed ?? 7);
  const world = await EmulatedCluster.start({
    nodes: opts.nodes ?? 2,
    spec: { prebind: PREBIND, releaseInterval: "3s", ipCooldown: "0s" },
  });
  const problems: string[] = [];
  let cnis = 0;
  try {
    await Promise.all(world.nodes.map((n) => n.startAgent()));
    const rate = opts.faultRate ?? 0.2;
    world.emulator.admin.setFaults({
      // timeouts too: a request never answered (the adapter's deadline ends it)
      "*": { ...chaosFaults(rate), hangRate: rate / 20 },
    });
    // slow asynchronous tasks: attach and detach take three times their usual time
    world.emulator.admin.setSettings({
      asyncMs: { create: 50, attach: 1500, detach: 900, delete: 50, assign: 150, unassign: 150 },
    });
    const pods: Pod[] = [];
    let seq = 0;
    let kills = 0;
    let stop = false;
    const maxParallel = opts.maxParallel ?? 64;

    // A CNI call has the plugin's own timeout (the agent's ADD timeout and a margin): one that
    // has not returned long after it is a hang, reported as a problem; the run goes on.
    const bounded = async <T>(what: string, call: Promise<T>): Promise<T> => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const hung = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          problems.push(`${what} has not returned after ${CALL_HANG_MS / 1000} s`);
          reject(new Error("hung"));
        }, CALL_HANG_MS);
      });
      try {
        return await Promise.race([call, hung]);
      } finally {
        clearTimeout(timer);
      }
    };
    // a container runtime: ADD; on failure DEL (the agent may have wired it before it died)
    const add = async (p: Pod) => {
      cnis++;
      try {
        await bounded(`CNI ADD of ${p.name} on ${p.node.name}`, p.node.addPod(p.name, p.ns));
        p.added = true;
      } catch {
        cnis++;
        await bounded(`CNI DEL of ${p.name} on ${p.node.name}`, p.node.del(p.name, p.ns)).catch(() => {});
        p.added = false;
      }
    };
    const del = async (p: Pod) => {
      cnis++;
      try {
        await bounded(`CNI DEL of ${p.name} on ${p.node.name}`, p.node.del(p.name, p.ns));
        p.node.pods.delete(p.name);
        p.added = false;
        return true;
      } catch {
        return false;
      }
    };

    /** Pods whose DEL failed: the runtime tries again until one succeeds. */
    let deleting: Pod[] = [];
    const retryDeletes = async () => {
      const now = deleting;
      deleting = [];
      const gone = await Promise.all(now.map(del));
      now.forEach((v, i) => {
        if (!gone[i]) deleting.push(v);
      });
    };

    const churn = (async () => {
      while (!stop) {
        const batch = 1 + r.int(maxParallel);
        const grow = pods.length < 20 || (r.next() < 0.55 && pods.length < PODS_PER_NODE * world.nodes.length);
        if (grow) {
          const fresh: Pod[] = [];
          for (let i = 0; i < Math.min(batch, 16); i++) {
            // room left on a node: its pods stay under its maximum, so every ADD can succeed
            const roomy = world.nodes.filter(
              (n) => pods.filter((p) => p.node === n).length + fresh.filter((p) => p.node === n).length < PODS_PER_NODE,
            );
            if (roomy.length === 0) break;
            const node = roomy[r.int(roomy.length)]!;
            const name = `c${++seq}`;
            fresh.push({ name, node, ns: await node.newPodNamespace(name), added: false });
          }
          pods.push(...fresh);
          await Promise.all(fresh.map(add));
        } else {
          const victims = pods.splice(0, Math.min(batch, pods.length - 10));
          const gone = await Promise.all(victims.map(del));
          // A DEL that failed (agent down, maybe after it released the IP) is tried again
          // until it succeeds, as the kubelet does: the pod is being deleted, not live.
          victims.forEach((v, i) => {
            if (!gone[i]) deleting.push(v);
          });
        }
        // pods whose ADD failed get another try, and DELs that failed too
        await Promise.all([...pods.filter((p) => !p.added).map(add), retryDeletes()]);
      }
    })();

    try {
      while (kills < opts.kills) {
        await Bun.sleep(200 + r.int(1300));
        const node = world.nodes[r.int(world.nodes.length)]!;
        await node.stopAgent("SIGKILL");
        kills++;
        await Bun.sleep(r.int(400));
        await node.startAgent().catch((e: Error) => {
          // An agent that does not come back is the finding: its log's end says why.
          const tail = node.agentLog().trimEnd().split("\n").slice(-15).join("\n");
          throw new Error(`kill ${kills}: ${e.message}\n${node.name}'s agent log ends with:\n${tail}`);
        });
        if (kills % 10 === 0 || kills === opts.kills)
          log(`kills ${kills}/${opts.kills}, pods ${pods.length}, CNI calls ${cnis}`);
      }
    } finally {
      // The churn stops before anything else, also when a restart failed: the world is torn
      // down after it, never under it.
      stop = true;
      log("kills done; waiting for the churn's last batch");
      await churn;
    }
    const stats = world.emulator.admin.stats();
    world.emulator.admin.setFaults({});
    // every pod ends up added, as the runtime keeps trying
    log(`faults off; ${pods.filter((p) => !p.added).length} pods to add again, ${deleting.length} to delete again`);
    for (let round = 0; round < 20 && (pods.some((p) => !p.added) || deleting.length > 0) && left() > 60_000; round++) {
      await Promise.all([...pods.filter((p) => !p.added).map(add), retryDeletes()]);
      const still = pods.filter((p) => !p.added);
      if (still.length > 0) log(`round ${round + 1}: ${still.length} pods still without an ADD that succeeded`);
    }
    log("settling");
    for (const p of pods) if (!p.added) problems.push(`${p.name} on ${p.node.name}: no ADD succeeded`);
    for (const p of deleting) problems.push(`${p.name} on ${p.node.name}: no DEL succeeded`);

    // settle, then count
    for (const n of world.nodes)
      await waitFor(
        `${n.name} to settle within pods + min .. pods + max`,
        async () => {
          const v = await n.view();
          const s = v.summary;
          return (
            s.inflight === 0 &&
            s.bound >= Math.min(s.pods + PREBIND.min, s.maxBindable) &&
            s.bound <= Math.min(s.pods + PREBIND.max, s.maxBindable)
          );
        },
        Math.max(1000, Math.min(120_000, left() - 30_000)),
      ).catch(async (e: Error) => {
        const s = (await n.view().catch(() => null))?.summary;
        problems.push(`${e.message}${s ? ` (last seen: ${JSON.stringify(s)})` : ""}`);
      });
    let duplicates = 0;
    let leaks = 0;
    let outOfBounds = 0;
    const owner = new Map<string, string>();
    for (const n of world.nodes) {
      const [v, cloud] = [await n.view(), await n.cloud()];
      const s = v.summary;
      if (
        s.bound < Math.min(s.pods + PREBIND.min, s.maxBindable) ||
        s.bound > Math.min(s.pods + PREBIND.max, s.maxBindable)
      )
        outOfBounds++;
      for (const p of v.pods) {
        const other = owner.get(p.ip);
        if (other) {
          duplicates++;
          problems.push(`${p.ip} held by ${other} and ${p.key}`);
        }
        owner.set(p.ip, p.key);
        if (!cloud.ips.includes(p.ip)) {
          leaks++;
          problems.push(`${n.name}: pod ${p.key} has ${p.ip}, which the cloud does not list on the node`);
        }
      }
      const mine = pods.filter((p) => p.node === n);
      if (v.pods.length !== mine.length) {
        leaks += Math.abs(v.pods.length - mine.length);
        const held = new Set(v.pods.map((p) => p.ip));
        const missing = mine.filter((p) => !held.has(p.node.pods.get(p.name)?.ip ?? "")).map((p) => p.name);
        problems.push(
          `${n.name}: the agent holds ${v.pods.length} pods, the runtime has ${mine.length} (not held: ${missing.join(", ") || "none"})`,
        );
      }
      if (v.summary.bound !== cloud.ips.length) {
        leaks += Math.abs(v.summary.bound - cloud.ips.length);
        problems.push(`${n.name}: ${v.summary.bound} IPs bound in the agent, ${cloud.ips.length} in the cloud`);
      }
      if (JSON.stringify(v.enis.map((e) => e.id).sort()) !== JSON.stringify(cloud.enis)) {
        leaks++;
        problems.push(`${n.name}: ENIs ${v.enis.map((e) => e.id).sort()} in the agent, ${cloud.enis} in the cloud`);
      }
      leaks += cloud.unattachedTagged.length;
      for (const e of cloud.unattachedTagged) problems.push(`${n.name}: ENI ${e} leaked (tagged, attached nowhere)`);
    }
    // every live pod answers: one ping from a pod of the first node to each other pod
    let unreachable = 0;
    const wired = pods.filter((p) => p.added);
    const from = wired[0];
    if (from) {
      const results = await Promise.all(
        wired.slice(1).map(async (to) => {
          const ip = to.node.pods.get(to.name)?.ip ?? "";
          const res = await world.bed.exec(from.ns.ns, ["ping", "-n", "-q", "-c", "1", "-W", "2", ip]);
          return { to, ip, ok: res.code === 0 };
        }),
      );
      for (const x of results.filter((x) => !x.ok)) {
        unreachable++;
        problems.push(`${x.to.name} (${x.ip}) on ${x.to.node.name} does not answer`);
      }
    }
    const all = Object.values(stats).flatMap((byCode) => Object.entries(byCode));
    const faults = all
      .filter(([code]) => code === "InternalError" || code === "RequestLimitExceeded")
      .reduce((n, [, c]) => n + c, 0);
    const calls = all.reduce((n, [, c]) => n + c, 0);
    // A restart that replays intents was killed with a cloud call in flight.
    const replayedRestarts = world.nodes
      .map((n) => n.agentLog().split("\n"))
      .flatMap((lines) => {
        const starts: boolean[] = [];
        for (const l of lines) {
          if (l.includes('"msg":"state restored"')) starts.push(false);
          else if (l.includes('"msg":"replaying an intent left open') && starts.length > 0)
            starts[starts.length - 1] = true;
        }
        return starts;
      })
      .filter(Boolean).length;
    if (problems.length > 0) {
      if (opts.postMortem) keepPostMortem(opts.postMortem, world, progress, problems);
      problems.push(`the run's progress: ${progress.join(" | ")}`);
    }
    return {
      kills,
      faults,
      calls,
      cnis,
      duplicates,
      leaks,
      unreachable,
      outOfBounds,
      replayedRestarts,
      pods: pods.length,
      problems,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await world.stop();
  }
}

/** Each agent's log and the run's progress, for a look at what went wrong. */
function keepPostMortem(dir: string, world: EmulatedCluster, progress: string[], problems: string[]): void {
  mkdirSync(dir, { recursive: true });
  for (const n of world.nodes) writeFileSync(join(dir, `${n.name}-agent.log`), n.agentLog());
  writeFileSync(join(dir, "progress.log"), `${[...progress, "", ...problems].join("\n")}\n`);
}
