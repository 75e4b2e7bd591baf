import { parseArgs } from "node:util";
import { formatDuration, parseDuration } from "../../schema/duration.ts";
import { TAG_CLUSTER } from "../../schema/names.ts";
import type { CleanupOptions, EniDecision, StepResult } from "../../runtime/cloud/cleanup.ts";
import type { VpcApi } from "../../runtime/cloud/types.ts";

export const help = `Usage: vpccni cleanup --cluster ID --region R --vpc V [--endpoint E]
                      [--credentials-dir D] [--older-than 5m] [--delete]
                      [--force-attached] [--output table|json]

Lists the ENIs tagged ${TAG_CLUSTER}=ID in the VPC, which an uninstall may
have left: node, attachment, secondary IPs, age. A dry run unless --delete.

Options:
  --cluster ID           the cluster ID the agents tagged their ENIs with
  --region R             the VPC's region, e.g. ap-guangzhou
  --vpc V                the VPC to search
  --endpoint E           VPC API endpoint (default vpc.tencentcloudapi.com)
  --credentials-dir D    a directory or KEY=value file with
                         TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY
                         (default: the same names in the environment)
  --older-than DUR       leave ENIs younger than this alone (default 5m):
                         an agent may be creating them right now
  --delete               unassign the secondary IPs of each old, detached
                         ENI, then delete it; prints each action and exits 1
                         if any failed
  --force-attached       also detach and delete attached ENIs (by default
                         they are listed but left: a live agent may own them)
  --output table|json    what to print (default table; text is the same
                         as table)
`;

export interface CleanupArgs {
  clusterId: string;
  region: string;
  vpcId: string;
  olderThanMs: number;
  delete: boolean;
  forceAttached: boolean;
  output: "table" | "json";
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      cluster: { type: "string" },
      region: { type: "string" },
      vpc: { type: "string" },
      endpoint: { type: "string", default: "vpc.tencentcloudapi.com" },
      "credentials-dir": { type: "string" },
      "older-than": { type: "string", default: "5m" },
      delete: { type: "boolean", default: false },
      "force-attached": { type: "boolean", default: false },
      output: { type: "string", default: "table" },
    },
  });
  const errors: string[] = [];
  for (const flag of ["cluster", "region", "vpc"] as const) if (!values[flag]) errors.push(`--${flag} is required`);
  const olderThan = values["older-than"] as string;
  const olderThanMs = parseDuration(olderThan);
  if (olderThanMs === undefined)
    errors.push(`--older-than is ${JSON.stringify(olderThan)}; allowed: a duration such as 30s, 5m or 1h30m`);
  // "text", as every other command says it, is the table.
  const output = values.output === "text" ? "table" : (values.output as string);
  if (output !== "table" && output !== "json")
    errors.push(`--output is ${JSON.stringify(values.output)}; allowed: table (or text), json`);
  // Loaded only here: the SDK is paid for by a run that calls the cloud.
  const cloud = await import("../../runtime/cloud/index.ts");
  const dir = values["credentials-dir"];
  const credentials = dir !== undefined ? cloud.secretCredentials(dir) : cloud.envCredentials();
  if (credentials === undefined)
    errors.push("needs --credentials-dir or TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY in the environment");
  if (errors.length > 0) {
    process.stderr.write(`${errors.map((e) => `vpccni cleanup: ${e}`).join("\n")}\n`);
    return 2;
  }
  const args: CleanupArgs = {
    clusterId: values.cluster as string,
    region: values.region as string,
    vpcId: values.vpc as string,
    olderThanMs: olderThanMs as number,
    delete: values.delete as boolean,
    forceAttached: values["force-attached"] as boolean,
    output: output as "table" | "json",
  };
  let api: VpcApi;
  try {
    api = new cloud.TencentVpcApi({
      region: args.region,
      endpoint: values.endpoint as string,
      credentials: credentials as NonNullable<typeof credentials>,
      vpcId: args.vpcId,
      clusterId: args.clusterId,
      retry: { attempts: 3 },
    });
  } catch (error) {
    process.stderr.write(`vpccni cleanup: --endpoint: ${(error as Error).message}\n`);
    return 2;
  }
  return cleanup(api, args, { now: Date.now, write: (s) => process.stdout.write(s) });
}

/** The command behind the argv: lists, decides, and with --delete acts. Returns the exit code. */
export async function cleanup(
  api: VpcApi,
  args: CleanupArgs,
  io: { now: () => number; write: (text: string) => void },
): Promise<number> {
  const { applyCleanup, findClusterEnis, planCleanup } = await import("../../runtime/cloud/cleanup.ts");
  const opts = (): CleanupOptions => ({
    now: io.now(),
    olderThanMs: args.olderThanMs,
    forceAttached: args.forceAttached,
  });
  let plan: EniDecision[];
  try {
    plan = planCleanup(await findClusterEnis(api, args.clusterId), opts());
  } catch (error) {
    process.stderr.write(`vpccni cleanup: listing the ENIs failed: ${(error as Error).message}\n`);
    return 1;
  }
  const table = args.output === "table";
  if (table) io.write(renderPlan(plan, args));
  let results: StepResult[] | undefined;
  if (args.delete) {
    const print = (r: StepResult) => table && io.write(`${renderStep(r)}\n`);
    results = await applyCleanup(api, plan, opts(), print);
  }
  const failed = (results ?? []).filter((r) => !r.ok);
  if (!table) {
    const doc = {
      cluster: args.clusterId,
      delete: args.delete,
      enis: plan,
      ok: failed.length === 0,
      olderThan: formatDuration(args.olderThanMs),
      region: args.region,
      ...(results ? { results } : {}),
      vpc: args.vpcId,
    };
    io.write(`${JSON.stringify(doc, null, 2)}\n`);
  }
  if (failed.length > 0) {
    const names = failed.map((r) => `${r.action} ${r.eniId} (${r.detail})`);
    process.stderr.write(`vpccni cleanup: ${failed.length} action(s) failed: ${names.join("; ")}\n`);
    return 1;
  }
  return 0;
}

export function renderPlan(plan: readonly EniDecision[], args: CleanupArgs): string {
  const where = `${TAG_CLUSTER}=${args.clusterId} in ${args.vpcId} (${args.region})`;
  if (plan.length === 0) return `No ENIs tagged ${where}.\n`;
  const header = ["ENI", "NODE", "SUBNET", "ATTACHED", "IPS", "AGE", "ACTION"];
  const rows = plan.map((d) => [
    d.id,
    d.node ?? "-",
    d.subnetId,
    d.instanceId ?? "-",
    String(d.secondaryIps.length),
    d.ageMs === undefined ? "?" : formatDuration(Math.floor(d.ageMs / 1000) * 1000),
    d.keep === undefined ? (args.delete ? "delete" : "would delete") : `keep: ${d.keep}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  const removable = plan.filter((d) => d.keep === undefined).length;
  const verdict = args.delete
    ? `${removable} to delete, ${plan.length - removable} kept.`
    : `${removable} would be deleted with --delete, ${plan.length - removable} kept.`;
  return `${[line(header), ...rows.map(line)].join("\n")}\n${plan.length} ENI(s) tagged ${where}: ${verdict}\n`;
}

export function renderStep(r: StepResult): string {
  return `${r.eniId}: ${r.action}${r.ok ? "" : " FAILED"}: ${r.detail}`;
}
