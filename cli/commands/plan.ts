import { parseArgs } from "node:util";
import { hasErrors, loadPolicies, renderDiagnostics, summary } from "../../schema/index.ts";
import { planCapacity } from "../../compiler/plan/capacity.ts";
import type { SubnetFigures } from "../../compiler/plan/capacity.ts";
import { readSubnetsFile } from "../../compiler/plan/subnets-file.ts";
import type { VpcCniPolicy } from "../../schema/index.ts";
import { renderPlan } from "../../compiler/plan/table.ts";

export const help = `Usage: vpccni plan --nodes N [--pods-per-node P] [--subnets FILE | --cloud]
                   [--enis-per-node E] [--ips-per-eni I] <file-or-folder>...

Checks that the policies' subnets and ENI quotas can carry the expected nodes and pods.
A node binds at most pods + prebind.max IPs (never more than ENIs x IPs per ENI), and each
secondary ENI takes one more subnet IP for its primary address. ENIs go into the policy's
subnet with the most free IPs. Prints a table per policy and per subnet; exits 1 when a
policy cannot be met.

Options:
  --nodes N | NAME=N,...       nodes per policy (one number for every policy)
  --pods-per-node P | NAME=P   expected pods per node (default: full nodes, ENIs x IPs)
  --subnets FILE               JSON or YAML list of {subnetId, availableIpAddressCount, cidr}
                               (DescribeSubnets figures); without it only quotas are checked
  --cloud                      read the subnets' free IPs from the VPC API instead (each policy's
                               region and spec.cloud.endpoint; credentials from
                               TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY)
  --enis-per-node E            the instance type's secondary ENIs (spec.limits may lower it)
  --ips-per-eni I              the instance type's secondary IPs per ENI (spec.limits may lower it)
`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      nodes: { type: "string" },
      "pods-per-node": { type: "string" },
      subnets: { type: "string" },
      "enis-per-node": { type: "string" },
      "ips-per-eni": { type: "string" },
      cloud: { type: "boolean", default: false },
    },
  });
  if (positionals.length === 0 || values.nodes === undefined) {
    process.stderr.write(`vpccni plan: name at least one policy file or folder, and --nodes\n\n${help}`);
    return 2;
  }
  const loaded = await loadPolicies(positionals);
  if (hasErrors(loaded.diagnostics)) {
    process.stderr.write(
      `${renderDiagnostics(loaded.diagnostics, loaded.sources)}\n\n${summary(loaded.diagnostics, loaded.policies.length, loaded.sources.size)}\n`,
    );
    return 1;
  }
  const names = loaded.policies.map((p) => p.policy.metadata.name);
  const errors: string[] = [];
  const nodes = perPolicy("--nodes", values.nodes, names, errors);
  const pods =
    values["pods-per-node"] === undefined
      ? new Map<string, number>()
      : perPolicy("--pods-per-node", values["pods-per-node"], names, errors);
  const enisPerNode = count("--enis-per-node", values["enis-per-node"], errors);
  const ipsPerEni = count("--ips-per-eni", values["ips-per-eni"], errors);
  if (values.cloud && values.subnets !== undefined)
    errors.push("--cloud and --subnets both give subnet figures; allowed: one of them");
  const file =
    values.subnets !== undefined
      ? await readSubnetsFile(values.subnets)
      : values.cloud && errors.length === 0
        ? await cloudSubnets(loaded.policies.map((p) => p.policy))
        : undefined;
  errors.push(...(file?.errors ?? []));
  if (errors.length > 0) {
    process.stderr.write(`${errors.map((e) => `vpccni plan: ${e}`).join("\n")}\n`);
    return 2;
  }
  const plan = planCapacity({
    policies: loaded.policies.map((p) => p.policy),
    nodes,
    podsPerNode: pods,
    quota: { enisPerNode, ipsPerEni },
    subnets: file?.subnets,
  });
  process.stdout.write(renderPlan(plan));
  return plan.ok ? 0 : 1;
}

/** "12" for every policy, or "general=12,batch=4" naming each. */
export function perPolicy(flag: string, text: string, names: readonly string[], errors: string[]): Map<string, number> {
  const out = new Map<string, number>();
  if (/^\d+$/.test(text)) {
    for (const n of names) out.set(n, Number(text));
    return out;
  }
  for (const part of text.split(",")) {
    const m = /^([a-z0-9-]+)=(\d+)$/.exec(part.trim());
    if (!m)
      errors.push(
        `${flag} part ${JSON.stringify(part)} is not NAME=COUNT; allowed: a count, or NAME=COUNT,... for policies ${names.join(", ")}`,
      );
    else if (!names.includes(m[1]!))
      errors.push(`${flag} names ${JSON.stringify(m[1])}, which is no loaded policy; allowed: ${names.join(", ")}`);
    else out.set(m[1]!, Number(m[2]));
  }
  return out;
}

function count(flag: string, text: string | undefined, errors: string[]): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(text))
    errors.push(`${flag} is ${JSON.stringify(text)}; allowed: a whole number of at least 1`);
  return Number(text);
}

/** DescribeSubnets for every policy's subnets, one client per region, endpoint and VPC. */
async function cloudSubnets(
  policies: readonly VpcCniPolicy[],
): Promise<{ subnets?: SubnetFigures[]; errors: string[] }> {
  // Loaded only here: `vpccni plan` without --cloud does not pay for the SDK.
  const { envCredentials, TencentVpcApi } = await import("../../runtime/cloud/index.ts");
  const credentials = envCredentials();
  if (credentials === undefined)
    return { errors: ["--cloud needs TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY in the environment"] };
  const groups = new Map<string, { policy: VpcCniPolicy; ids: Set<string> }>();
  for (const p of policies) {
    const key = [p.spec.region, p.spec.cloud.endpoint, p.spec.vpcId].join(" ");
    const group = groups.get(key) ?? { policy: p, ids: new Set<string>() };
    for (const id of p.spec.subnets) group.ids.add(id);
    groups.set(key, group);
  }
  const subnets: SubnetFigures[] = [];
  const errors: string[] = [];
  for (const { policy, ids } of groups.values()) {
    const { region, vpcId, clusterId, cloud } = policy.spec;
    const api = new TencentVpcApi({
      region,
      endpoint: cloud.endpoint,
      credentials,
      vpcId,
      clusterId,
      retry: { attempts: 3 },
    });
    try {
      for (const s of await api.describeSubnets([...ids].sort()))
        subnets.push({ subnetId: s.id, availableIpAddressCount: s.availableIps, cidr: s.cidr });
    } catch (error) {
      errors.push(`DescribeSubnets in ${region} at ${cloud.endpoint} failed: ${(error as Error).message}`);
    }
  }
  return errors.length ? { errors } : { subnets, errors };
}
