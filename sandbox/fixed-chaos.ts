// Chaos for fixed IP mode on real parts: two `vpccni controller` replicas on a Lease of a real
// kube-apiserver, agents on two netns nodes, the cloud emulator through the SDK. Pods come and
// go by name, as a StatefulSet's do (reclaim Never: a name keeps its address, on either node),
// through the API server and the real CNI binary, while the leader is killed with -9 at random
// moments (and started again, as the Deployment does) and 20% of cloud calls fail. After a
// settle it counts, against the API server, the emulator and the kernel: addresses held by two
// pods, leaks (cloud vs claims vs pods) and pods that do not answer a ping.
// bench/chaos.ts --fixed runs it long; test/e2e/fixed-chaos.test.ts runs a short variant.
import { chaosFaults, Rng } from "./chaos.ts";
import { LAYOUT } from "./emulated-cloud.ts";
import { EmulatedCluster, type EmulatedNode, waitFor } from "./emulated-cluster.ts";
import type { Cluster } from "./apiserver.ts";
import { type ClaimJson, FixedControllers, GROUP } from "./fixed-controllers.ts";
import { kubeCall } from "./kube-api.ts";
import type { PodNs } from "./test-bed.ts";

/** Churn workers; each works on one pod name at a time. */
const WORKERS = 6;

export interface FixedChaosOptions {
  /** A running kube-apiserver (the suites share one); the run works in namespaces of its own. */
  cluster: Cluster;
  /** kill -9 of the leader this many times in all. */
  kills: number;
  /** Pod names the churn uses (web-0 ..). */
  names?: number;
  faultRate?: number;
  seed?: number;
  /** Wall-clock budget, ms: past it the run stops retrying and reports what is left. */
  budgetMs?: number;
  log?: (line: string) => void;
}

export interface FixedChaosReport {
  kills: number;
  faults: number;
  /** Longest time without a leader after a kill, ms. */
  longestTakeoverMs: number;
  duplicates: number;
  leaks: number;
  unreachable: number;
  pods: number;
  cnis: number;
  problems: string[];
  seconds: number;
}

interface Pod {
  name: string;
  node: EmulatedNode;
  ns: PodNs;
  added: boolean;
}

export async function runFixedChaos(opts: FixedChaosOptions): Promise<FixedChaosReport> {
  const started = Date.now();
  const deadline = started + (opts.budgetMs ?? 60 * 60_000);
  const left = () => deadline - Date.now();
  const r = new Rng(opts.seed ?? 7);
  const progress: string[] = [];
  const log = (line: string) => {
    progress.push(`${((Date.now() - started) / 1000).toFixed(1)}s ${line}`);
    opts.log?.(line);
  };
  const run = Date.now().toString(36).slice(-5);
  const suite = { "vpccni-test/suite": `fxc-${run}` };
  const ctl = new FixedControllers(
    { namespace: `fixed-chaos-${run}`, webhook: `vpccni-chaos-${run}`, interval: "2s" },
    () => opts.cluster.admin,
  );
  const problems: string[] = [];
  let world: EmulatedCluster | undefined;
  let cnis = 0;
  let gen = 0;
  try {
    await ctl.setUp();
    world = await EmulatedCluster.start({
      nodes: 2,
      cluster: opts.cluster,
      nodePrefix: `fxc${run}-`,
      nodeLabels: suite,
      // room on each node's ENI for every name: a kept address may sit on either node
      quota: { eniQuota: 4, ipsPerEni: 30 },
      spec: {
        ipMode: "fixed",
        subnets: [LAYOUT.podSubnets[0]],
        fixedIp: { reclaim: "Never" },
        nodeSelector: suite,
      },
      // the ADD waits for the controller: long enough for the standby to take over
      agentArgs: ["--add-timeout", "40s"],
    });
    const w = world;
    ctl.world = w;
    const running = new Set(["ctl-a", "ctl-b"]);
    let replicas = 0;
    for (const id of running) ctl.startController(id);
    await Promise.all(w.nodes.map((n) => n.startAgent()));
    await waitFor("a leader", async () => (await ctl.leader()) !== "", 60_000);
    const rate = opts.faultRate ?? 0.2;
    w.emulator.admin.setFaults({ "*": chaosFaults(rate) });

    const names = Array.from({ length: opts.names ?? 12 }, (_, i) => `web-${run}-${i}`);
    const live = new Map<string, Pod>();
    const busy = new Set<string>();
    let stop = false;
    const admin = () => opts.cluster.admin;

    // the kubelet: the pod object is there; ADD until one succeeds (a failed one is DELed)
    const add = async (p: Pod) => {
      cnis++;
      try {
        await p.node.addPod(p.name, p.ns);
        p.added = true;
      } catch {
        cnis++;
        await p.node.del(p.name, p.ns).catch(() => {});
        p.added = false;
      }
    };
    const create = async (name: string) => {
      const node = w.nodes[r.int(w.nodes.length)]!;
      const ns = await node.newPodNamespace(`${name.slice(-4)}g${++gen}`);
      await ctl.apiPod(node, name);
      const p: Pod = { name, node, ns, added: false };
      live.set(name, p);
      await add(p);
    };
    // a graceful delete: the DEL (tried again until it succeeds), then the object and the netns
    const remove = async (p: Pod) => {
      for (;;) {
        cnis++;
        const ok = await p.node
          .del(p.name, p.ns)
          .then(() => true)
          .catch(() => false);
        if (ok || stop) break;
        await Bun.sleep(500);
      }
      p.node.pods.delete(p.name);
      await ctl.deletePodObject(p.name);
      live.delete(p.name);
      await w.bed.removePod(p.ns).catch(() => {});
    };

    // workers side by side, each on a name no other worker holds: a slow ADD (waiting for a
    // new leader) holds up only its own worker
    const worker = async () => {
      while (!stop) {
        const free = names.filter((n) => !busy.has(n));
        const name = free[r.int(free.length)];
        if (name === undefined) {
          await Bun.sleep(100);
          continue;
        }
        busy.add(name);
        try {
          const p = live.get(name);
          if (p === undefined) await create(name);
          else if (!p.added) await add(p);
          else await remove(p);
        } finally {
          busy.delete(name);
        }
        await Bun.sleep(r.int(300));
      }
    };
    const churn = Promise.all(Array.from({ length: WORKERS }, worker));

    let kills = 0;
    let longestTakeoverMs = 0;
    try {
      while (kills < opts.kills && left() > 120_000) {
        await Bun.sleep(1000 + r.int(4000));
        const leader = await ctl.leader();
        if (!running.has(leader)) continue;
        const killedAt = Date.now();
        await ctl.stopController(leader, "SIGKILL");
        running.delete(leader);
        kills++;
        // the Deployment starts a new replica (a new pod: a new identity); it joins as a standby
        await Bun.sleep(r.int(1000));
        const replica = `ctl-${++replicas}`;
        ctl.startController(replica);
        running.add(replica);
        await waitFor(
          `a new leader after the kill of ${leader}`,
          async () => {
            const now = await ctl.leader();
            return now !== leader && running.has(now);
          },
          60_000,
        );
        longestTakeoverMs = Math.max(longestTakeoverMs, Date.now() - killedAt);
        if (kills % 5 === 0 || kills === opts.kills)
          log(`kills ${kills}/${opts.kills}, live pods ${live.size}, CNI calls ${cnis}`);
      }
    } finally {
      stop = true;
      log("kills done; waiting for the churn's last batch");
      await churn;
    }
    const stats = w.emulator.admin.stats();
    w.emulator.admin.setFaults({});
    for (let round = 0; round < 10 && [...live.values()].some((p) => !p.added) && left() > 60_000; round++)
      await Promise.all([...live.values()].filter((p) => !p.added).map(add));
    for (const p of live.values()) if (!p.added) problems.push(`${p.name} on ${p.node.name}: no ADD succeeded`);

    // settle: every live pod's claim Bound at its address, nothing pending, on every claim
    const claimsOf = async (): Promise<(ClaimJson & { metadata: { name: string } })[]> =>
      (await kubeCall(admin(), "GET", `${GROUP}/namespaces/default/vpcipclaims`)).json.items;
    await waitFor(
      "every claim settled: the live pods' Bound at their address, none pending",
      async () => {
        const claims = await claimsOf();
        const byName = new Map(claims.map((c) => [c.metadata.name, c]));
        return (
          claims.every((c) => c.status?.pending === undefined) &&
          [...live.values()].every((p) => {
            const c = byName.get(p.name);
            return c?.status?.phase === "Bound" && c.status.address === p.node.pods.get(p.name)?.ip;
          })
        );
      },
      Math.max(1000, Math.min(120_000, left() - 30_000)),
    ).catch((e: Error) => problems.push(e.message));

    let duplicates = 0;
    let leaks = 0;
    const owner = new Map<string, string>();
    for (const p of [...live.values()].filter((x) => x.added)) {
      const ip = p.node.pods.get(p.name)?.ip ?? "";
      const other = owner.get(ip);
      if (other) {
        duplicates++;
        problems.push(`${ip} held by ${other} and ${p.name}`);
      }
      owner.set(ip, p.name);
      if (!(await p.node.cloud()).ips.includes(ip)) {
        leaks++;
        problems.push(`${p.name} has ${ip}, which the cloud does not list on ${p.node.name}'s ENI`);
      }
    }
    // the cloud holds on the nodes' ENIs exactly the addresses the claims hold, each once
    const claims = await claimsOf();
    const claimed = new Set(claims.map((c) => c.status?.address).filter((a): a is string => a !== undefined));
    const onEnis: string[] = [];
    for (const n of w.nodes) {
      const cloud = await n.cloud();
      onEnis.push(...cloud.ips);
      if (cloud.enis.length !== 1) {
        leaks++;
        problems.push(`${n.name} has ${cloud.enis.length} ENIs in the cloud, not 1: ${cloud.enis.join(", ")}`);
      }
      for (const e of cloud.unattachedTagged) {
        leaks++;
        problems.push(`${n.name}: ENI ${e} leaked (tagged, attached nowhere)`);
      }
    }
    for (const ip of onEnis.filter((ip) => !claimed.has(ip))) {
      leaks++;
      problems.push(`${ip} is on a node ENI in the cloud but no claim holds it`);
    }
    if (onEnis.length !== new Set(onEnis).size) {
      duplicates++;
      problems.push(`an address is on two ENIs: ${onEnis.sort().join(", ")}`);
    }

    let unreachable = 0;
    const wired = [...live.values()].filter((p) => p.added);
    const from = wired[0];
    if (from)
      for (const to of wired.slice(1)) {
        const ip = to.node.pods.get(to.name)?.ip ?? "";
        const res = await w.bed.exec(from.ns.ns, ["ping", "-n", "-q", "-c", "1", "-W", "2", ip]);
        if (res.code !== 0) {
          unreachable++;
          problems.push(`${to.name} (${ip}) on ${to.node.name} does not answer`);
        }
      }
    const all = Object.values(stats).flatMap((byCode) => Object.entries(byCode));
    const faults = all
      .filter(([code]) => code === "InternalError" || code === "RequestLimitExceeded")
      .reduce((n, [, c]) => n + c, 0);
    if (problems.length > 0) {
      for (const id of running) problems.push(`controller ${id}'s log ends with:\n${ctl.controllerLog(id, 15)}`);
      problems.push(`the run's progress: ${progress.join(" | ")}`);
    }
    return {
      kills,
      faults,
      longestTakeoverMs,
      duplicates,
      leaks,
      unreachable,
      pods: live.size,
      cnis,
      problems,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    for (const name of ctl.apiPods) await ctl.deletePodObject(name).catch(() => {});
    await ctl.tearDown(opts.cluster.admin).catch(() => {});
    await world?.stop();
  }
}
