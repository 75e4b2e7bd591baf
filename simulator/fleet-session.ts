// One `vpccni simulate --fleet` run: the scenario under each asked retry strategy, the chart of
// calls per action per second, and the report. The CLI only parses argv and prints the text.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { TopLevelSpec } from "vega-lite";
import { type Quota, settingsFromPolicy } from "../runtime/pool/index.ts";
import type { PolicySpec } from "../schema/policy.ts";
import { renderSvg, svgToPng } from "./chart.ts";
import { simulateFleet } from "./fleet.ts";
import { FLEET_REPORT_VERSION, type FleetReport } from "./fleet-metrics.ts";
import type { RetryStrategyName } from "./fleet-retry.ts";
import type { FleetScenario } from "./fleet-scenario.ts";

export interface FleetSessionInput {
  spec: PolicySpec;
  scenario: FleetScenario;
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
  const svg = await renderSvg(
    fleetChartSpec(reports, `${scenarioTitle(input.scenario)}: API calls per second (seed ${input.seed})`),
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

export function scenarioTitle(sc: FleetScenario): string {
  switch (sc.kind) {
    case "scale-out":
      return `scale-out of ${sc.nodes} nodes x ${sc.podsPerNode} pods`;
    case "rolling-restart":
      return `rolling restart of ${sc.nodes} nodes x ${sc.podsPerNode} pods, ${sc.maxUnavailable} at a time`;
    case "diurnal":
      return `a day of ${sc.nodes} nodes, ${sc.troughPods} to ${sc.podsPerNode} pods per node`;
  }
}

/**
 * Accepted calls per action and refused calls, per second, one facet per strategy; below, the
 * idle IPs across the fleet. Hours on the x axis when the run is longer than 3 hours.
 */
export function fleetChartSpec(reports: readonly FleetReport[], title: string): TopLevelSpec {
  const longest = Math.max(0, ...reports.map((r) => r.timeline.throttledPerS.length * r.timeline.windowS));
  const unit = longest > 3 * 3600 ? { s: 3600, title: "hours" } : { s: 60, title: "minutes" };
  const x = { field: "t", type: "quantitative", title: unit.title } as const;
  const calls = reports.flatMap((r) => {
    const w = r.timeline.windowS;
    const lines = Object.entries(r.timeline.perAction).map(([action, xs]) => [action, xs] as const);
    lines.push(["RequestLimitExceeded", r.timeline.throttledPerS]);
    return lines.flatMap(([series, xs]) =>
      xs.map((value, i) => ({ strategy: r.strategy, t: (i * w) / unit.s, series, value })),
    );
  });
  const idle = reports.flatMap((r) =>
    r.timeline.idle.map((value, i) => ({ strategy: r.strategy, t: (i * r.timeline.windowS) / unit.s, value })),
  );
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    background: "white",
    vconcat: [
      {
        data: { values: calls },
        facet: { row: { field: "strategy", type: "nominal", title: "retry strategy" } },
        spec: {
          width: 900,
          height: 200,
          mark: { type: "line", interpolate: "step-after", strokeWidth: 1.2 },
          encoding: {
            x,
            y: { field: "value", type: "quantitative", title: "calls per second (account)" },
            color: { field: "series", type: "nominal", title: "action", legend: { labelLimit: 320 } },
          },
        },
      },
      {
        data: { values: idle },
        width: 900,
        height: 150,
        mark: { type: "line", interpolate: "step-after", strokeWidth: 1.2 },
        encoding: {
          x,
          y: { field: "value", type: "quantitative", title: "idle IPs (fleet)" },
          strokeDash: { field: "strategy", type: "nominal", title: "retry strategy" },
        },
      },
    ],
    resolve: { scale: { color: "independent" } },
  };
}

export function renderFleetReports(reports: readonly FleetReport[]): string {
  const lines: string[] = [];
  for (const r of reports) {
    const sc = r.scenario;
    const waiting = `${r.pods.unserved > 0 ? ` (${r.pods.unserved} still waiting)` : ""}`;
    const wait = `  per pod wait: p50 ${r.podWaitS.p50} s, p99 ${r.podWaitS.p99} s`;
    const idle = `idle IPs across the fleet: ${r.idleIps.atLastPod}`;
    if (sc.kind === "rolling-restart") {
      const restart = r.restartS ?? { count: 0, p50: 0, p99: 0, max: 0 };
      lines.push(
        `fleet rolling-restart: ${sc.nodes} nodes x ${sc.podsPerNode} pods, ${sc.maxUnavailable} agent(s) at a time, ${sc.pauseMs / 1000} s apart, retry ${r.strategy}, seed ${r.seed}`,
        `  agents restarted: ${restart.count}/${sc.nodes}, the last ready after ${r.endS ?? "-"} s`,
        `  per agent, stop to pool restored: p50 ${restart.p50} s, p99 ${restart.p99} s, max ${restart.max} s`,
        `  pods created during the rollout with an IP: ${r.pods.served}/${r.pods.asked}${waiting}`,
        `${wait}, max ${r.podWaitS.max} s; the last pod got its IP after ${r.lastPodS} s`,
      );
    } else if (sc.kind === "diurnal") {
      lines.push(
        `fleet diurnal: ${sc.nodes} nodes, ${sc.troughPods} to ${sc.podsPerNode} pods per node over ${sc.dayMs / 3600_000} h, retry ${r.strategy}, seed ${r.seed}`,
        `  pods with an IP: ${r.pods.served}/${r.pods.asked}${waiting}`,
        `${wait}, max ${r.podWaitS.max} s`,
      );
    } else {
      lines.push(
        `fleet ${sc.kind}: ${sc.nodes} nodes x ${sc.podsPerNode} pods, retry ${r.strategy}, seed ${r.seed}`,
        `  pods with an IP: ${r.pods.served}/${r.pods.asked}${waiting}`,
        `  last pod got its IP after ${r.lastPodS} s`,
        `  per node, first pod to last pod with an IP: p50 ${r.nodeReadyS.p50} s, p99 ${r.nodeReadyS.p99} s, max ${r.nodeReadyS.max} s`,
        wait,
      );
    }
    lines.push(
      `  throttled calls (RequestLimitExceeded): ${r.throttled}`,
      sc.kind === "scale-out"
        ? `  ${idle} when the last pod got its IP, peak ${r.idleIps.peak}`
        : `  ${idle} at the end, peak ${r.idleIps.peak}, mean over time ${r.idleIps.mean}`,
      "  calls by action (accepted / throttled):",
      ...Object.entries(r.calls).map(
        ([a, c]) => `    ${a.padEnd(30)} ${String(c.accepted).padStart(8)} / ${c.throttled}`,
      ),
    );
  }
  return lines.join("\n");
}
