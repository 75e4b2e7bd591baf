// From the sweep's runs to advice: the Pareto front on calls, waiting pods and idle IPs, one
// recommended setting by a stated rule, and the policy snippet to paste. Pure; the text
// rendering is in recommend-render.ts.
import { formatDuration } from "../schema/duration.ts";
import { paretoFront, type Scores } from "./pareto.ts";
import type { SweepPoint, SweepSetting } from "./sweep.ts";

export const RECOMMEND_VERSION = "vpccni-recommend/1";

/** The three objectives, all minimised: API calls, pods that waited, mean idle IPs. */
export function scores(p: SweepPoint): Scores {
  return [p.calls, p.waited, p.idleMean];
}

/** Calls within this share of the fewest still count as "fewest" for the pick. */
export const CALLS_SLACK = 0.1;

export const PICK_RULE =
  "among the front points with the fewest waiting pods, those within 10% of the fewest API calls; of these, the fewest idle IPs (mean); ties: smaller min, smaller max, longer releaseInterval";

/** Front order: fewest waiting pods first, then fewest calls, then fewest idle IPs. */
export function byWaitsThenCalls(a: SweepPoint, b: SweepPoint): number {
  return a.waited - b.waited || a.calls - b.calls || a.idleMean - b.idleMean || bySetting(a, b);
}

function bySetting(a: SweepSetting, b: SweepSetting): number {
  return a.min - b.min || a.max - b.max || b.releaseIntervalMs - a.releaseIntervalMs;
}

export interface Recommendation {
  front: SweepPoint[];
  pick: SweepPoint | null;
}

/**
 * The rule (PICK_RULE): waiting pods first, because a pod that waits is a failed start; then
 * calls, but a few more calls (CALLS_SLACK) are worth fewer idle IPs held by every node.
 */
export function recommend(points: readonly SweepPoint[]): Recommendation {
  const front = paretoFront(points, scores).sort(byWaitsThenCalls);
  const first = front[0];
  if (first === undefined) return { front, pick: null };
  const leastWaits = front.filter((p) => p.waited === first.waited);
  const fewestCalls = Math.min(...leastWaits.map((p) => p.calls));
  const near = leastWaits.filter((p) => p.calls <= fewestCalls * (1 + CALLS_SLACK));
  const pick = near.sort((a, b) => a.idleMean - b.idleMean || bySetting(a, b))[0] ?? null;
  return { front, pick };
}

/** The lines to paste into the policy's spec. */
export function policySnippet(s: SweepSetting): string {
  return [
    "spec:",
    "  prebind:",
    `    min: ${s.min}`,
    `    max: ${s.max}`,
    `  releaseInterval: ${formatDuration(s.releaseIntervalMs)}`,
    "",
  ].join("\n");
}
