// The simulator's report: one object per strategy (documented field by field in docs/pool.md),
// and its text rendering. Rendering is separate so that the JSON stays the contract.
import type { ErrorKind, Limits } from "../runtime/pool/index.ts";
import type { ApiAction } from "./cloud-model.ts";
import { lowerBound } from "./lower-bound.ts";
import type { Metrics } from "./metrics.ts";
import type { SimOptions } from "./run.ts";
import type { StrategyName } from "./strategies.ts";

export const REPORT_VERSION = "vpccni-simulate/1";

export interface SimReport {
  version: typeof REPORT_VERSION;
  strategy: StrategyName;
  seed: number;
  latency: string;
  settings: {
    minPrebind: number;
    maxPrebind: number;
    floor: number;
    releaseIntervalMs: number;
    cooldownMs: number;
    maxBindable: number;
    ipsPerEni: number;
    maxEnis: number;
  };
  trace: { nodes: number; events: number; durationS: number };
  apiCalls: {
    total: number;
    byAction: Record<ApiAction, number>;
    failed: number;
    failedByKind: Partial<Record<ErrorKind, number>>;
  };
  lowerBound: { apiCalls: number; ratio: number | null };
  idleIps: { peak: number; mean: number };
  boundIps: { peak: number; mean: number };
  pods: {
    added: number;
    servedAtOnce: number;
    waited: number;
    abandoned: number;
    waitP50Ms: number | null;
    waitP99Ms: number | null;
    waitMaxMs: number | null;
  };
  enis: { peak: number; created: number; deleted: number };
  checks: { doubleAssigned: number; overMaxBindable: number };
}

export function buildReport(opts: SimOptions, m: Metrics, limits: Limits, end: number): SimReport {
  const { settings, trace } = opts;
  const total = Object.values(m.byAction).reduce((a, b) => a + b, 0);
  const bound = lowerBound(trace.events, {
    cooldownMs: settings.cooldownMs,
    ipsPerEni: limits.ipsPerEni,
    ipsPerCall: limits.ipsPerCall,
    maxBindable: limits.maxBindable,
  });
  const means = m.means(end);
  const waits = [...m.waits].sort((a, b) => a - b);
  return {
    version: REPORT_VERSION,
    strategy: opts.strategy,
    seed: opts.seed,
    latency: opts.latency.name,
    settings: {
      minPrebind: settings.minPrebind,
      maxPrebind: settings.maxPrebind,
      floor: settings.floor,
      releaseIntervalMs: settings.releaseIntervalMs,
      cooldownMs: settings.cooldownMs,
      maxBindable: limits.maxBindable,
      ipsPerEni: limits.ipsPerEni,
      maxEnis: limits.maxEnis,
    },
    trace: {
      nodes: trace.nodes.length,
      events: trace.events.length,
      durationS: round((trace.events.at(-1)?.t ?? 0) / 1000),
    },
    apiCalls: { total, byAction: { ...m.byAction }, failed: m.failedCalls, failedByKind: { ...m.failedByKind } },
    lowerBound: { apiCalls: bound.calls, ratio: bound.calls > 0 ? round(total / bound.calls) : null },
    idleIps: { peak: m.peak.idle, mean: round(means.idle) },
    boundIps: { peak: m.peak.bound, mean: round(means.bound) },
    pods: {
      added: m.podsAdded,
      servedAtOnce: m.servedAtOnce,
      waited: waits.length,
      abandoned: m.abandonedCount,
      waitP50Ms: percentile(waits, 0.5),
      waitP99Ms: percentile(waits, 0.99),
      waitMaxMs: waits.at(-1) ?? null,
    },
    enis: { peak: m.peak.enis, created: m.enisCreated, deleted: m.enisDeleted },
    checks: { doubleAssigned: m.doubleAssigned, overMaxBindable: m.overMaxBindable },
  };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Side-by-side text for one or more strategies over the same trace. */
export function renderReports(reports: readonly SimReport[], traceName: string): string {
  const first = reports[0];
  if (first === undefined) return "";
  const ms = (x: number | null) => (x === null ? "-" : x >= 1000 ? `${(x / 1000).toFixed(1)}s` : `${x}ms`);
  const rows: [string, (r: SimReport) => string][] = [
    [
      "prebind min/max (floor)",
      (r) => `${r.settings.minPrebind}/${r.settings.maxPrebind}${r.settings.floor ? ` (${r.settings.floor})` : ""}`,
    ],
    [
      "release interval / cooldown",
      (r) => `${r.settings.releaseIntervalMs / 1000}s / ${r.settings.cooldownMs / 1000}s`,
    ],
    ["API calls (total)", (r) => String(r.apiCalls.total)],
    ...(Object.keys(first.apiCalls.byAction) as ApiAction[]).map((a): [string, (r: SimReport) => string] => [
      `  ${a}`,
      (r) => String(r.apiCalls.byAction[a]),
    ]),
    ["  failed (kinds in --json)", (r) => String(r.apiCalls.failed)],
    ["lower bound of API calls", (r) => String(r.lowerBound.apiCalls)],
    ["calls / lower bound", (r) => (r.lowerBound.ratio === null ? "-" : `${r.lowerBound.ratio}x`)],
    ["idle IPs peak / mean", (r) => `${r.idleIps.peak} / ${r.idleIps.mean}`],
    ["bound IPs peak / mean", (r) => `${r.boundIps.peak} / ${r.boundIps.mean}`],
    ["pods added", (r) => String(r.pods.added)],
    ["pods that waited for an IP", (r) => String(r.pods.waited)],
    ["wait p50 / p99 / max", (r) => `${ms(r.pods.waitP50Ms)} / ${ms(r.pods.waitP99Ms)} / ${ms(r.pods.waitMaxMs)}`],
    ["pods deleted while waiting", (r) => String(r.pods.abandoned)],
    ["ENIs peak / created / deleted", (r) => `${r.enis.peak} / ${r.enis.created} / ${r.enis.deleted}`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  // Each column as wide as its widest cell, two spaces apart, so long values never touch.
  const cols = reports.map((r) => Math.max(r.strategy.length, ...rows.map(([, f]) => f(r).length)));
  const line = (label: string, cells: string[]) =>
    `${label.padEnd(width)}${cells.map((c, i) => `  ${c.padStart(cols[i] ?? 0)}`).join("")}`;
  const head = line(
    "",
    reports.map((r) => r.strategy),
  );
  const body = rows.map(([label, f]) =>
    line(
      label,
      reports.map((r) => f(r)),
    ),
  );
  const t = first.trace;
  return [
    `trace ${traceName}: ${t.nodes} node(s), ${t.events} events over ${t.durationS}s; latency ${first.latency}, seed ${first.seed}; maxBindable ${first.settings.maxBindable} per node`,
    "",
    head,
    ...body,
    "",
  ].join("\n");
}
