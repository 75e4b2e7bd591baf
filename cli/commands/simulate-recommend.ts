// `vpccni simulate --recommend`: argv -> runRecommend. Usage errors exit 2 naming the value.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import { parseArgs } from "node:util";
import { parseDuration } from "../../schema/duration.ts";
import { type PolicySpec, VpcCniPolicy } from "../../schema/policy.ts";
import { runRecommend } from "../../simulator/recommend-session.ts";
import { DEFAULT_GRID, defaultWorkers, range } from "../../simulator/sweep.ts";
import { OUTPUT_OPTION, outputFormat } from "../output.ts";
import { latencyOption, onePolicySpec } from "./simulate-fleet.ts";

export const recommendHelp = `Usage: vpccni simulate --recommend [--trace T] [--policy P]
                       [--mins LIST] [--bands LIST] [--intervals LIST]
                       [--latency fast|typical|slow] [--seed N]
                       [--workers N] [--output text|json] [--progress]

Sweeps prebind.min, prebind.max and releaseInterval over a trace, one run of
the pool engine per setting, every run with the same seed, and prints the
Pareto front of API calls (mutating VPC calls), pods that waited for an IP and
idle IPs (time-weighted mean, summed over nodes), a recommended setting and
the policy snippet to paste. See docs/pool.md, "Choosing prebind and
releaseInterval".

  --trace T         a trace file, or steady, burst or diurnal for the ones in
                    examples/traces (default diurnal)
  --policy P        the policy whose other settings (ipCooldown, limits) the
                    runs keep (default: the schema's defaults)
  --mins LIST       prebind.min values: A..B or A,B,C (default 0..6,8,10)
  --bands LIST      prebind.max - prebind.min values (default 0..3,5,8,10,15)
  --intervals LIST  releaseInterval values (default 30s,1m,2m,5m,10m)
  --workers N       threads running the sweep (default: one per CPU, at most 8)
`;

const BUNDLED = ["steady", "burst", "diurnal"];
const TRACES_DIR = join(import.meta.dir, "..", "..", "examples", "traces");

export async function runRecommendCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      recommend: { type: "boolean" },
      policy: { type: "string" },
      name: { type: "string" },
      trace: { type: "string", default: "diurnal" },
      mins: { type: "string" },
      bands: { type: "string" },
      intervals: { type: "string" },
      latency: { type: "string", default: "typical" },
      seed: { type: "string", default: "1" },
      workers: { type: "string" },
      json: { type: "boolean", default: false },
      progress: { type: "boolean", default: false },
      ...OUTPUT_OPTION,
    },
  });
  const fail = (message: string) => {
    process.stderr.write(`vpccni simulate: ${message}\n`);
    return 2;
  };
  const format = outputFormat(values.output, { flag: "--json", format: values.json ? "json" : undefined });
  if (typeof format !== "string") return fail(format.error);
  const mins = values.mins === undefined ? [...DEFAULT_GRID.mins] : counts("--mins", values.mins);
  const bands = values.bands === undefined ? [...DEFAULT_GRID.bands] : counts("--bands", values.bands);
  const intervals = values.intervals === undefined ? [...DEFAULT_GRID.releaseIntervalsMs] : durations(values.intervals);
  const seed = whole("--seed", values.seed, 0);
  const workers = values.workers === undefined ? defaultWorkers() : whole("--workers", values.workers, 0, 64);
  for (const v of [mins, bands, intervals, seed, workers]) if (typeof v === "string") return fail(v);
  const tracePath = BUNDLED.includes(values.trace) ? join(TRACES_DIR, `${values.trace}.jsonl`) : values.trace;
  if (BUNDLED.includes(values.trace) && !existsSync(tracePath))
    return fail(`--trace ${values.trace}: ${tracePath} is not in this install; allowed: a trace file`);

  let spec: PolicySpec | number = defaultSpec();
  if (values.policy !== undefined) spec = await onePolicySpec(values.policy, values.name, fail);
  if (typeof spec === "number") return spec;
  const latency = await latencyOption(values.latency, fail);
  if (typeof latency === "number") return latency;
  const showProgress = values.progress || process.stderr.isTTY === true;
  try {
    const { output, text } = await runRecommend({
      spec,
      traceText: await readFile(tracePath, "utf8"),
      traceName: basename(tracePath, extname(tracePath)),
      latency,
      seed: seed as number,
      grid: { mins: mins as number[], bands: bands as number[], releaseIntervalsMs: intervals as number[] },
      workers: workers as number,
      ...(showProgress ? { progress: (line: string) => process.stderr.write(`\r${line}\x1b[K`) } : {}),
    });
    if (showProgress) process.stderr.write("\n");
    process.stdout.write(format === "json" ? `${JSON.stringify(output, null, 2)}\n` : text);
    return 0;
  } catch (error) {
    // An unreadable or malformed trace, or a failed run: a finding (1), not a usage error.
    process.stderr.write(`vpccni simulate: ${(error as Error).message}\n`);
    return 1;
  }
}

/** The schema's defaults; the ids only name things, the runs never reach a cloud. */
function defaultSpec(): PolicySpec {
  return VpcCniPolicy.parse({
    apiVersion: "vpccni.io/v1alpha1",
    kind: "VpcCniPolicy",
    metadata: { name: "recommend" },
    spec: {
      clusterId: "cls-sim00001",
      region: "ap-guangzhou",
      vpcId: "vpc-sim00001",
      subnets: ["subnet-sim00001", "subnet-sim00002"],
    },
  }).spec;
}

function whole(flag: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number | string {
  const n = Number(text);
  return /^\d+$/.test(text) && n >= min && n <= max
    ? n
    : `${flag} is ${JSON.stringify(text)}; allowed: a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ""}`;
}

/** "0..10", "0,2,5" or a mix ("0..3,5,8"): sorted, without repeats, each 0..256. */
function counts(flag: string, text: string): number[] | string {
  const out = new Set<number>();
  for (const part of text.split(",")) {
    const m = /^(\d+)(?:\.\.(\d+))?$/.exec(part.trim());
    const from = Number(m?.[1]);
    const to = m?.[2] === undefined ? from : Number(m[2]);
    if (m === null || from > to || to > 256)
      return `${flag} is ${JSON.stringify(text)}; allowed: whole numbers 0..256 as A..B or A,B,C, e.g. 0..3,5,8`;
    for (const n of range(from, to)) out.add(n);
  }
  return [...out].sort((a, b) => a - b);
}

function durations(text: string): number[] | string {
  const out = new Set<number>();
  for (const part of text.split(",")) {
    const ms = parseDuration(part.trim());
    if (ms === undefined || ms === 0)
      return `--intervals is ${JSON.stringify(text)}; allowed: durations above 0s, comma-separated, e.g. 30s,2m,10m`;
    out.add(ms);
  }
  return [...out].sort((a, b) => a - b);
}
