// One `vpccni simulate` run: the policy's strategy (and AWS-style if asked) over one trace, the
// chart files and the report. The CLI only parses argv and prints what this returns.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { PolicySpec } from "../schema/policy.ts";
import { chartSpec, renderSvg, svgToPng } from "./chart.ts";
import { LATENCY_PROFILES, type LatencyProfile } from "./cloud-model.ts";
import { renderReports, REPORT_VERSION, type SimReport } from "./report.ts";
import { simulate } from "./run.ts";
import { type AwsTargets, awsSettings, type StrategyName, vpccniSettings } from "./strategies.ts";
import { parseTrace } from "./trace.ts";

export interface SessionInput {
  spec: PolicySpec;
  traceText: string;
  traceName: string;
  /** A profile name (fast, typical, slow) or a profile read from a file. */
  latency: string | LatencyProfile;
  seed: number;
  /** Replay the trace under AWS VPC CNI-style warm targets too. */
  aws?: AwsTargets;
  /** Try other prebind settings without editing the policy. */
  prebind?: { min: number; max: number };
  outDir: string;
  progress?: (line: string) => void;
}

export interface SessionOutput {
  version: typeof REPORT_VERSION;
  trace: string;
  reports: Partial<Record<StrategyName, SimReport>>;
  files: { svg: string; png: string; report: string };
}

export async function runSession(input: SessionInput): Promise<{ output: SessionOutput; text: string }> {
  const latency = typeof input.latency === "string" ? LATENCY_PROFILES[input.latency] : input.latency;
  if (latency === undefined) {
    throw new Error(
      `--latency is ${JSON.stringify(input.latency)}; allowed: ${Object.keys(LATENCY_PROFILES).join(", ")}, or a .json profile file`,
    );
  }
  const trace = parseTrace(input.traceText, input.traceName);
  const base = input.prebind === undefined ? input.spec : { ...input.spec, prebind: input.prebind };
  const runs: [StrategyName, ReturnType<typeof vpccniSettings>][] = [["vpccni", vpccniSettings(base)]];
  if (input.aws !== undefined) runs.push(["aws", awsSettings(base, input.aws)]);
  const reports: Partial<Record<StrategyName, SimReport>> = {};
  const series = [];
  for (const [strategy, settings] of runs) {
    const progress = input.progress;
    const result = simulate({
      trace,
      settings,
      strategy,
      latency,
      seed: input.seed,
      ...(progress
        ? {
            onProgress: (done: number, total: number) =>
              progress(
                `simulate ${strategy}: ${Math.floor((100 * done) / Math.max(1, total))}% (${done}/${total} events)`,
              ),
          }
        : {}),
    });
    reports[strategy] = result.report;
    series.push({ strategy, samples: result.series });
  }
  await mkdir(input.outDir, { recursive: true });
  const files = {
    svg: join(input.outDir, "chart.svg"),
    png: join(input.outDir, "chart.png"),
    report: join(input.outDir, "report.json"),
  };
  const svg = await renderSvg(
    chartSpec(series, `${input.traceName}: pods, bound and idle IPs (latency ${latency.name}, seed ${input.seed})`),
  );
  await writeFile(files.svg, svg);
  await writeFile(files.png, svgToPng(svg));
  const output: SessionOutput = { version: REPORT_VERSION, trace: input.traceName, reports, files };
  await writeFile(files.report, `${JSON.stringify(output, null, 2)}\n`);
  const text = `${renderReports(Object.values(reports), input.traceName)}\nchart: ${files.svg}, ${files.png}\nreport: ${files.report}\n`;
  return { output, text };
}
