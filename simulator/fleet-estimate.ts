// How long a planned scale-out takes under the account's default API limits, for `vpccni plan`.
// Above ESTIMATE_MAX_NODES the fleet is simulated at that size and the time scaled by the
// node count: past a few hundred nodes the account's limits, not the nodes, set the pace, so
// the time grows about linearly (docs/fleet.md).
import type { PoolSettings, Quota } from "../runtime/pool/index.ts";
import { simulateFleet } from "./fleet.ts";

export const ESTIMATE_MAX_NODES = 500;
/** `vpccni plan` warns above this, seconds. */
export const SLOW_SCALE_OUT_S = 5 * 60;

export interface ScaleOutEstimate {
  nodes: number;
  lastPodS: number;
  extrapolated: boolean;
}

export function estimateScaleOut(settings: PoolSettings, quota: Quota, nodes: number, pods: number): ScaleOutEstimate {
  const simulated = Math.min(nodes, ESTIMATE_MAX_NODES);
  const r = simulateFleet({
    scenario: {
      kind: "scale-out",
      nodes: simulated,
      podsPerNode: pods,
      joinOverMs: 60_000,
      podDelayMs: 30_000,
      podSpreadMs: 10_000,
    },
    settings,
    quota,
    strategy: "jitter",
    seed: 1,
  });
  return { nodes, lastPodS: Math.round((r.lastPodS * nodes) / simulated), extrapolated: simulated < nodes };
}

/** The plan's warning, or null when the scale-out is quick enough. */
export function slowScaleOutWarning(e: ScaleOutEstimate): string | null {
  if (e.lastPodS <= SLOW_SCALE_OUT_S) return null;
  return `${e.nodes} new nodes: the last pod gets its IP after ~${Math.round(e.lastPodS / 60)} min at the default API limits${e.extrapolated ? ` (simulated at ${ESTIMATE_MAX_NODES} nodes and scaled)` : ""}; see vpccni simulate --fleet`;
}
