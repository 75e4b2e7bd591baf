// The events of the fleets that start from running nodes: their warm start, a diurnal node's
// controller tick and a rolling restart's pod churn (fleet-scenario.ts holds the scenarios'
// data and pure rules; fleet.ts owns the event loop).
import { createState } from "../runtime/pool/index.ts";
import { type FleetNode, type FleetRun, newNode, type Pod } from "./fleet-node.ts";
import { type Diurnal, expMs, type NodeCurve, nodeCurve, podsWanted, type RollingRestart } from "./fleet-scenario.ts";
import { warmState } from "./fleet-warm.ts";

/** Running nodes: each pool where the engine leaves it with the node's first pods. */
export function warmNodes(run: FleetRun, sc: RollingRestart | Diurnal): void {
  const { rng, origin } = run;
  const life = sc.podLifeMs;
  for (let i = 0; i < sc.nodes; i++) {
    const n = newNode(run.newBudget(), run.strategy.retryQuota?.capacity ?? 0);
    run.nodes.push(n);
    n.curve = sc.kind === "diurnal" ? nodeCurve(sc, rng) : null;
    const count =
      n.curve !== null && sc.kind === "diurnal" ? podsWanted(sc, n.curve, 0, run.maxBindable) : sc.podsPerNode;
    const pods: Pod[] = Array.from({ length: count }, () => ({
      key: run.podKey(i, n),
      since: 0,
      until: origin + (life > 0 ? expMs(rng, life) : Infinity),
    }));
    const fresh = createState({ settings: run.settings, quota: run.quota, subnets: run.subnets });
    const upAt = Math.floor(rng() * Math.min(run.settings.releaseIntervalMs, origin / 2));
    n.state = warmState(
      fresh,
      pods.map((p) => p.key),
      upAt,
      origin,
      run.succeed,
      run.allocRng,
    );
    for (const p of pods) run.hold((n.state.pods[p.key] as { ip: string }).ip, p.key, i);
    n.live = pods;
    n.up = true;
    run.settle(i, n, origin);
    if (sc.kind === "diurnal") run.push(origin + Math.floor(rng() * sc.tickMs), "tick", i);
    else if (life > 0 && count > 0) run.push(origin + expMs(rng, life / count), "churn", i);
  }
  if (run.rollout !== null && sc.kind === "rolling-restart")
    for (const s of run.rollout.begin(origin + sc.leadMs)) run.push(s.at, "stop", s.node);
}

/** A diurnal node's controller: pods past their lifetime go, then the count follows the curve. */
export function tick(run: FleetRun, i: number, n: FleetNode, t: number): void {
  const d = run.sc as Diurnal;
  const before = n.live.length;
  for (let k = n.live.length - 1; k >= 0; k--) if ((n.live[k] as Pod).until <= t) run.deletePod(n, k, t);
  const want = podsWanted(d, n.curve as NodeCurve, t - run.origin, run.maxBindable);
  let have = n.live.length + n.waiting.length + n.arriving;
  while (have > want && n.live.length > 0) {
    run.deletePod(n, Math.floor(run.rng() * n.live.length), t);
    have--;
  }
  for (; have < want; have++) {
    n.arriving++;
    run.push(t + Math.floor(run.rng() * d.tickMs), "pod", i);
  }
  // New pods plan on arrival; only a deletion changes the pool now.
  if (n.live.length < before) run.settle(i, n, t);
  if (t + d.tickMs < run.origin + d.dayMs) run.push(t + d.tickMs, "tick", i);
}

/** Rolling restart: a pod goes (its workload replaces it a few seconds later, on the same node). */
export function churn(run: FleetRun, i: number, n: FleetNode, t: number): void {
  const r = run.sc as RollingRestart;
  if (run.rollout?.finishedAt != null) return;
  if (n.live.length > 0) run.deletePod(n, Math.floor(run.rng() * n.live.length), t);
  run.push(t + Math.floor(run.rng() * 5_000), "pod", i);
  run.settle(i, n, t);
  run.push(t + expMs(run.rng, r.podLifeMs / r.podsPerNode), "churn", i);
}
