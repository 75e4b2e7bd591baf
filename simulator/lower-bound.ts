// The fewest mutating API calls any pool strategy needs to serve a trace with no pod waiting.
// Derivation (docs/pool.md, "Lower bound"): on a fresh node, the IPs that must exist at once at
// time t are the live pods plus the IPs freed within the last cooldown (they cannot serve a new
// pod yet, and they are distinct addresses). With P the peak of that over the trace, capped at
// maxBindable, a node needs k = ceil(P / ipsPerEni) ENIs, each costing a Create and an Attach,
// and at least ceil(P / ipsPerCall) IP-carrying calls (Create or Assign, each at most ipsPerCall
// IPs), of which the k Creates are some. Releasing is never required (IPs may stay bound), so:
//   calls(node) >= k + max(k, ceil(P / ipsPerCall))       (0 when P = 0)
import type { TraceEvent } from "./trace.ts";

export interface NodeBound {
  node: string;
  peakDemand: number;
  enis: number;
  calls: number;
}

export function lowerBound(
  events: readonly TraceEvent[],
  opts: { cooldownMs: number; ipsPerEni: number; ipsPerCall: number; maxBindable: number },
): { calls: number; nodes: NodeBound[] } {
  const byNode = new Map<string, TraceEvent[]>();
  for (const e of events) {
    const list = byNode.get(e.node) ?? [];
    list.push(e);
    byNode.set(e.node, list);
  }
  const nodes = [...byNode.keys()].sort().map((node) => {
    const peak = Math.min(opts.maxBindable, peakDemand(byNode.get(node) ?? [], opts.cooldownMs));
    if (peak === 0) return { node, peakDemand: 0, enis: 0, calls: 0 };
    const k = Math.ceil(peak / opts.ipsPerEni);
    return { node, peakDemand: peak, enis: k, calls: k + Math.max(k, Math.ceil(peak / opts.ipsPerCall)) };
  });
  return { calls: nodes.reduce((n, x) => n + x.calls, 0), nodes };
}

/** Peak over time of live pods + IPs freed less than `cooldownMs` ago. */
function peakDemand(events: readonly TraceEvent[], cooldownMs: number): number {
  // +1 at add; at delete the IP stays unusable until t + cooldown, so -1 then.
  const steps: [number, number][] = [];
  for (const e of events) steps.push(e.event === "add" ? [e.t, 1] : [e.t + cooldownMs, -1]);
  // At equal times the freed IP becomes usable before the new pod asks (>= coolUntil is ready).
  steps.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let level = 0;
  let peak = 0;
  for (const [, delta] of steps) {
    level += delta;
    peak = Math.max(peak, level);
  }
  return peak;
}
