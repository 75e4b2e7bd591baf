import { readFile } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import { parseArgs } from "node:util";
import { runSession } from "../../simulator/session.ts";
import { OUTPUT_OPTION, outputFormat } from "../output.ts";
import { fleetHelp, latencyOption, onePolicySpec, runFleet } from "./simulate-fleet.ts";
import { recommendHelp, runRecommendCommand } from "./simulate-recommend.ts";

export const help = `Usage: vpccni simulate --policy P --trace T [--latency fast|typical|slow]
                       [--compare aws] [--aws-warm-ip-target N]
                       [--aws-minimum-ip-target N] [--prebind MIN:MAX]
                       [--seed N] [--output text|json] [--out DIR]
                       [--progress]

Replays a pod churn trace (JSON lines, see examples/traces/README.md) through
the pool engine with the policy's prebind settings and a seeded cloud latency
and error model, and reports API calls by action against their lower bound,
idle IPs, pods that waited for an IP, and ENIs. Writes chart.svg, chart.png
and report.json into --out (default out/simulate/<trace name>).

  --policy P        a policy file (or folder holding exactly one policy;
                    --name picks one)
  --latency         cloud latency and error profile: fast, typical (default),
                    slow, or a .json file with the same fields (docs/pool.md)
  --compare aws     also replay under AWS VPC CNI-style WARM_IP_TARGET /
                    MINIMUM_IP_TARGET (defaults: the policy's prebind.min
                    and 0)
  --prebind MIN:MAX try other prebind settings without editing the policy
  --output text|json
                    text (default), or the report as JSON (fields documented
                    in docs/pool.md); --json says the same
  --progress        show progress on stderr even when it is not a terminal

${recommendHelp}
${fleetHelp}`;

export async function run(argv: string[]): Promise<number> {
  if (argv.includes("--fleet")) return runFleet(argv);
  if (argv.includes("--recommend")) return runRecommendCommand(argv);
  const { values } = parseArgs({
    args: argv,
    options: {
      policy: { type: "string" },
      name: { type: "string" },
      trace: { type: "string" },
      latency: { type: "string", default: "typical" },
      compare: { type: "string" },
      "aws-warm-ip-target": { type: "string" },
      "aws-minimum-ip-target": { type: "string", default: "0" },
      prebind: { type: "string" },
      seed: { type: "string", default: "1" },
      json: { type: "boolean", default: false },
      out: { type: "string" },
      progress: { type: "boolean", default: false },
      ...OUTPUT_OPTION,
    },
  });
  const fail = (message: string) => {
    process.stderr.write(`vpccni simulate: ${message}\n`);
    return 2;
  };
  if (values.policy === undefined || values.trace === undefined)
    return fail(`--policy and --trace are required\n\n${help}`);
  const format = outputFormat(values.output, { flag: "--json", format: values.json ? "json" : undefined });
  if (typeof format !== "string") return fail(format.error);
  if (values.compare !== undefined && values.compare !== "aws")
    return fail(`--compare is ${JSON.stringify(values.compare)}; allowed: aws`);
  const seed = int("--seed", values.seed);
  const minimum = int("--aws-minimum-ip-target", values["aws-minimum-ip-target"]);
  const prebind = values.prebind === undefined ? undefined : parsePrebind(values.prebind);
  if (typeof seed === "string") return fail(seed);
  if (typeof minimum === "string") return fail(minimum);
  if (typeof prebind === "string") return fail(prebind);

  const spec = await onePolicySpec(values.policy, values.name, fail);
  if (typeof spec === "number") return spec;
  const warm = int("--aws-warm-ip-target", values["aws-warm-ip-target"] ?? String(prebind?.min ?? spec.prebind.min));
  if (typeof warm === "string") return fail(warm);

  const traceName = basename(values.trace, extname(values.trace));
  const latency = await latencyOption(values.latency, fail);
  if (typeof latency === "number") return latency;
  const showProgress = values.progress || process.stderr.isTTY === true;
  try {
    const { output, text } = await runSession({
      spec,
      traceText: await readFile(values.trace, "utf8"),
      traceName,
      latency,
      seed,
      ...(values.compare === "aws" ? { aws: { warmIpTarget: warm, minimumIpTarget: minimum } } : {}),
      ...(prebind !== undefined ? { prebind } : {}),
      outDir: values.out ?? join("out", "simulate", traceName),
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

function int(flag: string, text: string): number | string {
  const n = Number(text);
  return Number.isInteger(n) && n >= 0 ? n : `${flag} is ${JSON.stringify(text)}; allowed: a whole number >= 0`;
}

function parsePrebind(text: string): { min: number; max: number } | string {
  const m = /^(\d+):(\d+)$/.exec(text);
  const min = Number(m?.[1]);
  const max = Number(m?.[2]);
  if (m === null || min > max || max > 256)
    return `--prebind is ${JSON.stringify(text)}; allowed: MIN:MAX with 0 <= MIN <= MAX <= 256, e.g. 5:15`;
  return { min, max };
}
