// `vpccni simulate --fleet`: argv -> runFleetSession. Usage errors exit 2 naming the value.
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import { hasErrors, loadPolicies, renderDiagnostics, type PolicySpec } from "../../schema/index.ts";
import { ACCOUNT_RATE_LIMITS } from "../../simulator/account-buckets.ts";
import { type LatencyProfile, parseLatencyProfile } from "../../simulator/cloud-model.ts";
import { RETRY_STRATEGIES, type RetryStrategyName } from "../../simulator/fleet-retry.ts";
import { runFleetSession } from "../../simulator/fleet-session.ts";
import { SCENARIO_FLAGS, scenarioOf } from "./simulate-fleet-scenario.ts";
import { OUTPUT_OPTION, outputFormat } from "../output.ts";

export const fleetHelp = `Usage: vpccni simulate --fleet --policy P
                       [--scenario scale-out|rolling-restart|diurnal]
                       [--nodes N] [--pods P] [--node-quota ENIS:IPS]
                       [--join-over S] [--max-unavailable K] [--restart-pause S]
                       [--pod-life M] [--trough T] [--node-jitter F]
                       [--retry naive|previous|jitter|aws|coordinator|all]
                       [--rate ACTION=N]... [--no-task-poll]
                       [--seed N] [--output text|json] [--out DIR]

N nodes, every node the pool engine with the policy's prebind settings, all
spending one account's per-action API limits (token buckets at the documented
rates, RequestLimitExceeded beyond them). Reports how long pods wait for an
IP (p50/p99, the last pod), throttled calls, calls per action per second and
idle IPs over time (fleet.svg, fleet.png). See docs/fleet.md.

  --scenario S       scale-out (default): N new nodes join, P pods each;
                     rolling-restart: N running nodes with P pods each, their
                     agents restart one batch after another (a DaemonSet
                     update) while pods come and go;
                     diurnal: 24 h of N nodes whose pods follow a day curve
                     from --trough to P pods per node
  --nodes N          nodes (default 100)
  --pods P           pods per node (diurnal: at the peak) (default 50);
                     scale-out: scheduled 30 s after the node joins
  --join-over S      scale-out: the nodes join over S seconds (default 60)
  --max-unavailable K
                     rolling-restart: agents down at once (default 1)
  --restart-pause S  rolling-restart: seconds between an agent ready and the
                     next stop (minReadySeconds, default 0)
  --pod-life M       rolling-restart, diurnal: mean pod lifetime in minutes;
                     a pod that goes is replaced (default 45; rolling-restart
                     0: no pod comes or goes)
  --trough T         diurnal: pods per node at the trough, 04:00 (default 5)
  --node-jitter F    diurnal: each node's curve scaled by 1 +- F and shifted
                     by up to F hours (default 0.2)
  --node-quota E:I   ENIs per node for pods and IPs per ENI (default 3:20)
  --retry R          the agent's retry of RequestLimitExceeded (default
                     jitter, what the agent does, with the policy's
                     spec.cloud.rateLimits); all compares every strategy
  --rate ACTION=N    an account limit in calls/s (0 lifts it), repeatable,
                     e.g. --rate AttachNetworkInterface=100
  --no-task-poll     agents confirm tasks without DescribeVpcTaskResult
`;

export async function runFleet(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      fleet: { type: "boolean" },
      policy: { type: "string" },
      name: { type: "string" },
      nodes: { type: "string", default: "100" },
      pods: { type: "string", default: "50" },
      scenario: { type: "string", default: "scale-out" },
      ...Object.fromEntries(SCENARIO_FLAGS.map((flag) => [flag, { type: "string" } as const])),
      "node-quota": { type: "string", default: "3:20" },
      retry: { type: "string", default: "jitter" },
      rate: { type: "string", multiple: true, default: [] },
      "no-task-poll": { type: "boolean", default: false },
      seed: { type: "string", default: "1" },
      json: { type: "boolean", default: false },
      out: { type: "string" },
      ...OUTPUT_OPTION,
    },
  });
  const fail = (message: string) => {
    process.stderr.write(`vpccni simulate: ${message}\n`);
    return 2;
  };
  if (values.policy === undefined) return fail(`--fleet needs --policy\n\n${fleetHelp}`);
  const format = outputFormat(values.output, { flag: "--json", format: values.json ? "json" : undefined });
  if (typeof format !== "string") return fail(format.error);
  const nodes = count("--nodes", values.nodes, 1, 100_000);
  const pods = count("--pods", values.pods, 0, 10_000);
  const seed = count("--seed", values.seed, 0, 2 ** 31);
  for (const v of [nodes, pods, seed]) if (typeof v === "string") return fail(v);
  const scenario = scenarioOf(
    values.scenario,
    nodes as number,
    pods as number,
    Object.fromEntries(SCENARIO_FLAGS.map((flag) => [flag, (values as Record<string, unknown>)[flag] as string])),
  );
  if (typeof scenario === "string") return fail(scenario);
  const quota = /^(\d+):(\d+)$/.exec(values["node-quota"]);
  if (quota === null || Number(quota[1]) < 1 || Number(quota[2]) < 1)
    return fail(`--node-quota is ${JSON.stringify(values["node-quota"])}; allowed: ENIS:IPS, both >= 1, e.g. 3:20`);
  const retry = values.retry;
  if (retry !== "all" && !RETRY_STRATEGIES.includes(retry as RetryStrategyName))
    return fail(`--retry is ${JSON.stringify(retry)}; allowed: ${RETRY_STRATEGIES.join(", ")}, all`);
  const rates: Record<string, number> = {};
  for (const r of values.rate) {
    const m = /^([A-Za-z]+)=(\d+(?:\.\d+)?)$/.exec(r);
    if (m === null || ACCOUNT_RATE_LIMITS[m[1] as string] === undefined)
      return fail(
        `--rate is ${JSON.stringify(r)}; allowed: ACTION=N with ACTION one of ${Object.keys(ACCOUNT_RATE_LIMITS).join(", ")}`,
      );
    rates[m[1] as string] = Number(m[2]);
  }

  const spec = await onePolicySpec(values.policy, values.name, fail);
  if (typeof spec === "number") return spec;
  try {
    const { output, text } = await runFleetSession({
      spec,
      scenario,
      quota: { enis: Number(quota[1]), ipsPerEni: Number(quota[2]), ipsPerCall: 10 },
      strategies: retry === "all" ? [...RETRY_STRATEGIES] : [retry as RetryStrategyName],
      seed: seed as number,
      rates,
      pollTasks: !values["no-task-poll"],
      outDir:
        values.out ??
        join("out", "simulate", `fleet-${scenario.kind === "scale-out" ? "" : `${scenario.kind}-`}${nodes}x${pods}`),
    });
    process.stdout.write(format === "json" ? `${JSON.stringify(output, null, 2)}\n` : text);
    return 0;
  } catch (error) {
    process.stderr.write(`vpccni simulate: ${(error as Error).message}\n`);
    return 1;
  }
}

function count(flag: string, text: string, min: number, max: number): number | string {
  const n = Number(text);
  return Number.isInteger(n) && n >= min && n <= max
    ? n
    : `${flag} is ${JSON.stringify(text)}; allowed: a whole number from ${min} to ${max}`;
}

/**
 * `--latency`: a profile name as it is, or a JSON profile file read and checked; the exit code
 * after saying why not (through `fail`).
 */
export async function latencyOption(
  value: string,
  fail: (message: string) => number,
): Promise<string | LatencyProfile | number> {
  if (!value.endsWith(".json")) return value;
  try {
    return parseLatencyProfile(JSON.parse(await readFile(value, "utf8")), basename(value, ".json"));
  } catch (error) {
    return fail(`--latency ${value}: ${(error as Error).message}`);
  }
}

/**
 * The spec of the one policy in `file` (the one named `name` when it holds several), or the
 * exit code after saying why not: the diagnostics (1) or a usage error through `fail`.
 */
export async function onePolicySpec(
  file: string,
  name: string | undefined,
  fail: (message: string) => number,
): Promise<PolicySpec | number> {
  const loaded = await loadPolicies([file]);
  if (hasErrors(loaded.diagnostics)) {
    process.stderr.write(`${renderDiagnostics(loaded.diagnostics, loaded.sources)}\n`);
    return 1;
  }
  const matching = loaded.policies.filter((p) => name === undefined || p.policy.metadata.name === name);
  if (matching.length !== 1) {
    const names = loaded.policies.map((p) => p.policy.metadata.name).join(", ") || "none";
    return fail(
      `--policy ${file} holds ${matching.length} matching policies (${names}); allowed: exactly one, pick it with --name`,
    );
  }
  return (matching[0] as (typeof matching)[number]).policy.spec;
}
