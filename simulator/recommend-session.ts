// One `vpccni simulate --recommend`: the grid swept over one trace with the policy's other
// settings, the front, the pick, and the report as JSON and text. The CLI only parses argv.
import type { PolicySpec } from "../schema/policy.ts";
import { formatDuration } from "../schema/duration.ts";
import { LATENCY_PROFILES, type LatencyProfile } from "./cloud-model.ts";
import { policySnippet, PICK_RULE, RECOMMEND_VERSION, recommend } from "./recommend.ts";
import { renderRecommendation } from "./recommend-render.ts";
import { vpccniSettings } from "./strategies.ts";
import { gridSettings, runSweep, type SweepGrid, type SweepPoint, type SweepSetting } from "./sweep.ts";
import { parseTrace } from "./trace.ts";

export interface RecommendInput {
  spec: PolicySpec;
  traceText: string;
  traceName: string;
  latency: string | LatencyProfile;
  seed: number;
  grid: SweepGrid;
  /** Worker threads (default: one per CPU, at most 8); 0 runs in this thread. */
  workers?: number;
  progress?: (line: string) => void;
}

export interface RecommendOutput {
  version: typeof RECOMMEND_VERSION;
  trace: string;
  seed: number;
  latency: string;
  grid: { mins: number[]; bands: number[]; releaseIntervals: string[] };
  objectives: ["apiCalls", "podsWaited", "idleIpsMean"];
  rule: string;
  runs: SweepPoint[];
  front: SweepPoint[];
  current: SweepPoint;
  pick: SweepPoint | null;
  snippet: string | null;
}

export async function runRecommend(input: RecommendInput): Promise<{ output: RecommendOutput; text: string }> {
  const latency = typeof input.latency === "string" ? LATENCY_PROFILES[input.latency] : input.latency;
  if (latency === undefined) {
    throw new Error(
      `--latency is ${JSON.stringify(input.latency)}; allowed: ${Object.keys(LATENCY_PROFILES).join(", ")}, or a .json profile file`,
    );
  }
  const trace = parseTrace(input.traceText, input.traceName);
  const base = vpccniSettings(input.spec);
  const own: SweepSetting = { min: base.minPrebind, max: base.maxPrebind, releaseIntervalMs: base.releaseIntervalMs };
  const grid = gridSettings(input.grid);
  const same = (s: SweepSetting) =>
    s.min === own.min && s.max === own.max && s.releaseIntervalMs === own.releaseIntervalMs;
  // The policy's own setting runs too, for comparison; it joins the front only if it is on the grid.
  const settings = grid.some(same) ? grid : [...grid, own];
  const started = performance.now();
  const progress = input.progress;
  const points = await runSweep({
    trace,
    base,
    latency,
    seed: input.seed,
    settings,
    ...(input.workers !== undefined ? { workers: input.workers } : {}),
    ...(progress ? { onProgress: (done, total) => progress(`recommend: ${done}/${total} runs`) } : {}),
  });
  const seconds = (performance.now() - started) / 1000;
  const current = points.find(same) as SweepPoint;
  const runs = points.slice(0, grid.length);
  const r = recommend(runs);
  const output: RecommendOutput = {
    version: RECOMMEND_VERSION,
    trace: input.traceName,
    seed: input.seed,
    latency: latency.name,
    grid: {
      mins: [...input.grid.mins],
      bands: [...input.grid.bands],
      releaseIntervals: input.grid.releaseIntervalsMs.map(formatDuration),
    },
    objectives: ["apiCalls", "podsWaited", "idleIpsMean"],
    rule: PICK_RULE,
    runs,
    front: r.front,
    current,
    pick: r.pick,
    snippet: r.pick === null ? null : policySnippet(r.pick),
  };
  const header = {
    traceName: input.traceName,
    nodes: trace.nodes.length,
    events: trace.events.length,
    latency: latency.name,
    seed: input.seed,
    runs: runs.length,
    seconds,
  };
  return { output, text: renderRecommendation(header, r, current) };
}
