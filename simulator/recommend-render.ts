// `vpccni simulate --recommend` as text: the front as a table, the policy's own setting for
// comparison, the pick with its rule, and the snippet to paste.
import { formatDuration } from "../schema/duration.ts";
import { PICK_RULE, policySnippet, type Recommendation } from "./recommend.ts";
import type { SweepPoint } from "./sweep.ts";

export interface RecommendHeader {
  traceName: string;
  nodes: number;
  events: number;
  latency: string;
  seed: number;
  runs: number;
  seconds: number;
}

const HEAD = ["min", "max", "releaseInterval", "API calls", "pods waited", "wait p99", "idle mean", "idle peak"];

function row(p: SweepPoint): string[] {
  return [
    String(p.min),
    String(p.max),
    formatDuration(p.releaseIntervalMs),
    String(p.calls),
    String(p.waited),
    p.waitP99Ms === null ? "-" : `${(p.waitP99Ms / 1000).toFixed(1)}s`,
    p.idleMean.toFixed(1),
    String(p.idlePeak),
  ];
}

export function renderRecommendation(h: RecommendHeader, r: Recommendation, current: SweepPoint): string {
  const rows = r.front.map((p) => [p === r.pick ? "*" : "", ...row(p)]);
  const all = [["", ...HEAD], ...rows, ["", ...row(current)]];
  const widths = all[0]!.map((_, i) => Math.max(...all.map((cells) => cells[i]!.length)));
  // numbers right-aligned, the marker column left
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  const out = [
    `trace ${h.traceName}: ${h.nodes} node(s), ${h.events} events; latency ${h.latency}, seed ${h.seed} for every run`,
    `${h.runs} runs of the pool engine in ${h.seconds.toFixed(1)}s; API calls are mutating VPC calls, idle IPs are summed over nodes`,
    "",
    `Pareto front (no other run has fewer calls, waiting pods and idle IPs at once), ${r.front.length} of ${h.runs} runs:`,
    line(all[0]!),
    ...rows.map(line),
    "",
    "the policy's own setting:",
    line(["", ...row(current)]),
    "",
  ];
  if (r.pick === null) return `${out.join("\n")}no run to recommend\n`;
  out.push(
    `recommended (*): prebind ${r.pick.min}/${r.pick.max}, releaseInterval ${formatDuration(r.pick.releaseIntervalMs)}`,
    `  rule: ${PICK_RULE}`,
    "",
    "paste into the policy:",
    "",
    policySnippet(r.pick),
  );
  return out.join("\n");
}
