// One `vpccni simulate --fleet` run: the scenario under each asked retry strategy, the chart of
// calls per action per second, and the report. The CLI only parses argv and prints the text.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { TopLevelSpec } from "vega-lite";
import { type Quota, settingsFromPolicy } from "../runtime/pool/index.ts";
import type { PolicySpec } from "../schema/policy.ts";
import { renderSvg, svgToPng } from "./chart.ts";
import { type ScaleOut, simulateFleet } from "./fleet.ts";
import { FLEET_REPORT_VERSION, type FleetReport } from "./fleet-metrics.ts";
import type { RetryStrategyName } from "./fleet-retry.ts";

export interface FleetSessionInput {
  spec: PolicySpec;
  scenario: ScaleOut;
  quota: Quota;
  strategies: RetryStrategyName[];
  seed: number;
  rates: Record<string, number>;
  pollTasks: boolean;
  outDir: string;
}

export interface FleetSessionOutput {
  version: typeof FLEET_REPORT_VERSION;
  reports: FleetReport[];
  files: { svg: string; png: string; report: string };
}

export async function runFleetSession(input: FleetSessionInput): Promise<{ output: FleetSessionOutput; text: string }> {
  const settings = settingsFromPolicy(input.spec);
  const reports = input.strategies.map((strategy) =>
    simulateFleet({
      scenario: input.scenario,
      settings,
      quota: input.quota,
      strategy,
      nodeBudget: input.spec.cloud.rateLimits,
      seed: input.seed,
      rates: input.rates,
      pollTasks: input.pollTasks,
    }),
  );
  await mkdir(input.outDir, { recursive: true });
  const files = {
    svg: join(input.outDir, "fleet.svg"),
    png: join(input.outDir, "fleet.png"),
    report: join(input.outDir, "fleet-report.json"),
  };
  const sc = input.scenario;
  const svg = await renderSvg(
    fleetChartSpec(
      reports,
      `scale-out of ${sc.nodes} nodes x ${sc.podsPerNode} pods: API calls per second (seed ${input.seed})`,
    ),
  );
  await writeFile(files.svg, svg);
  await writeFile(files.png, svgToPng(svg));
  const output: FleetSessionOutput = { version: FLEET_REPORT_VERSION, reports, files };
  await writeFile(files.report, `${JSON.stringify(output, null, 2)}\n`);
  return {
    output,
    text: `${renderFleetReports(reports)}\nchart: ${files.svg}, ${files.png}\nreport: ${files.report}\n`,
  };
}

/** Accepted calls per action and refused calls, per second, one facet per strategy. */
export function fleetChartSpec(reports: readonly FleetReport[], title: string): TopLevelSpec {
  const values = reports.flatMap((r) => {
    const w = r.timeline.windowS;
    const lines = Object.entries(r.timeline.perAction).map(([action, xs]) => [action, xs] as const);
    lines.push(["RequestLimitExceeded", r.timeline.throttledPerS]);
    return lines.flatMap(([series, xs]) =>
      xs.map((value, i) => ({ strategy: r.strategy, t: (i * w) / 60, series, value })),
    );
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    background: "white",
    data: { values },
    facet: { row: { field: "strategy", type: "nominal", title: "retry strategy" } },
    spec: {
      width: 900,
      height: 200,
      mark: { type: "line", interpolate: "step-after", strokeWidth: 1.2 },
      encoding: {
        x: { field: "t", type: "quantitative", title: "minutes" },
        y: { field: "value", type: "quantitative", title: "calls per second (account)" },
        color: { field: "series", type: "nominal", title: "action", legend: { labelLimit: 320 } },
      },
    },
  };
}

export function renderFleetReports(reports: readonly FleetReport[]): string {
  const lines: string[] = [];
  for (const r of reports) {
    lines.push(
      `fleet ${r.scenario.kind}: ${r.scenario.nodes} nodes x ${r.scenario.podsPerNode} pods, retry ${r.strategy}, seed ${r.seed}`,
      `  pods with an IP: ${r.pods.served}/${r.pods.asked}${r.pods.unserved > 0 ? ` (${r.pods.unserved} still waiting)` : ""}`,
      `  last pod got its IP after ${r.lastPodS} s`,
      `  per node, first pod to last pod with an IP: p50 ${r.nodeReadyS.p50} s, p99 ${r.nodeReadyS.p99} s, max ${r.nodeReadyS.max} s`,
      `  per pod wait: p50 ${r.podWaitS.p50} s, p99 ${r.podWaitS.p99} s`,
      `  throttled calls (RequestLimitExceeded): ${r.throttled}`,
      `  idle IPs across the fleet: ${r.idleIps.atLastPod} when the last pod got its IP, peak ${r.idleIps.peak}`,
      "  calls by action (accepted / throttled):",
      ...Object.entries(r.calls).map(
        ([a, c]) => `    ${a.padEnd(30)} ${String(c.accepted).padStart(8)} / ${c.throttled}`,
      ),
    );
  }
  return lines.join("\n");
}
