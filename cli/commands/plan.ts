import { parseArgs } from "node:util";
import { hasErrors, loadPolicies, noPolicyFound, renderDiagnostics, summary } from "../../schema/index.ts";
import { planCapacity } from "../../compiler/plan/capacity.ts";
import type { SubnetFigures } from "../../compiler/plan/capacity.ts";
import { readSubnetsFile } from "../../compiler/plan/subnets-file.ts";
import type { VpcCniPolicy } from "../../schema/index.ts";
import { renderPlan } from "../../compiler/plan/table.ts";
import type { Plan } from "../../compiler/plan/capacity.ts";
import { settingsFromPolicy } from "../../runtime/pool/index.ts";
import { estimateScaleOut, slowScaleOutWarning } from "../../simulator/fleet-estimate.ts";
import { maxEqualsMinNote } from "../../simulator/churn-note.ts";
import { OUTPUT_OPTION, outputFormat, writeJson } from "../output.ts";

export const help = `Usage: vpccni plan --nodes N | --nodes-per-zone ZONE=N,... [--pods-per-node P]
                   [--subnets FILE | --cloud] [--enis-per-node E]
                   [--ips-per-eni I] [--output text|json] <file-or-folder>...

Checks that the policies' subnets and ENI quotas can carry the expected nodes
and pods. A node binds at most pods + prebind.max IPs (never more than ENIs x
IPs per ENI), and each secondary ENI takes one more subnet IP for its primary
address. ENIs go into the policy's subnet with the most free IPs among those
of the node's zone (an ENI attaches only to an instance of its own zone).
When the subnets' zones are known, each zone is planned on its own. Prints a
table per policy, per zone and per subnet; exits 1 when a policy or a zone
cannot be met. Warns when the nodes joining at once would wait over 5 min for
their pods' IPs under the account's API limits (docs/fleet.md).

A policy with ipMode: fixed reserves, per node, one ENI's whole IP quota
(--ips-per-eni) plus the ENI's primary IP in one subnet: the one with the most
room left that holds it, as the controller chooses. A node no subnet holds is
a problem naming the node count, the quota and each subnet's room.

Options:
  --nodes N | NAME=N,...       nodes per policy (one number for every policy)
  --nodes-per-zone ZONE=N,... | NAME:ZONE=N,...
                               where the nodes are (needs the subnets' zones);
                               without it a policy's nodes are spread evenly
                               over the zones of its subnets
  --pods-per-node P | NAME=P   expected pods per node (default: full nodes,
                               ENIs x IPs)
  --subnets FILE               JSON or YAML list of {subnetId,
                               availableIpAddressCount, cidr, zone}
                               (DescribeSubnets figures; zone on every subnet
                               or on none); without it only quotas are checked
  --cloud                      read the subnets' free IPs and zones from the
                               VPC API instead (each policy's region and
                               spec.cloud.endpoint; credentials from
                               TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY)
  --enis-per-node E            the instance type's secondary ENIs (spec.limits
                               may lower it)
  --ips-per-eni I              the instance type's secondary IPs per ENI
                               (spec.limits may lower it)
  --output text|json           text (default), or one JSON document: {ok,
                               verdict, policies, zones, subnets, notes,
                               warnings, problems}; verdict is met,
                               quotas-met (subnets unchecked), not-met or
                               invalid (with diagnostics instead of rows)
`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      nodes: { type: "string" },
      "nodes-per-zone": { type: "string" },
      "pods-per-node": { type: "string" },
      subnets: { type: "string" },
      "enis-per-node": { type: "string" },
      "ips-per-eni": { type: "string" },
      cloud: { type: "boolean", default: false },
      ...OUTPUT_OPTION,
    },
  });
  if (positionals.length === 0 || (values.nodes === undefined && values["nodes-per-zone"] === undefined)) {
    process.stderr.write(
      `vpccni plan: name at least one policy file or folder, and --nodes or --nodes-per-zone\n\n${help}`,
    );
    return 2;
  }
  const format = outputFormat(values.output);
  if (typeof format !== "string") {
    process.stderr.write(`vpccni plan: ${format.error}\n`);
    return 2;
  }
  const loaded = await loadPolicies(positionals);
  if (loaded.policies.length === 0 && !hasErrors(loaded.diagnostics))
    loaded.diagnostics.push(noPolicyFound(positionals));
  if (hasErrors(loaded.diagnostics) && format === "json") {
    writeJson({ ok: false, verdict: "invalid", diagnostics: loaded.diagnostics });
    return 1;
  }
  if (hasErrors(loaded.diagnostics)) {
    process.stderr.write(
      `${renderDiagnostics(loaded.diagnostics, loaded.sources)}\n\n${summary(loaded.diagnostics, loaded.policies.length, loaded.sources.size)}\n`,
    );
    return 1;
  }
  const names = loaded.policies.map((p) => p.policy.metadata.name);
  const errors: string[] = [];
  const nodes =
    values.nodes === undefined ? new Map<string, number>() : perPolicy("--nodes", values.nodes, names, errors);
  const nodesPerZone =
    values["nodes-per-zone"] === undefined ? undefined : perZone(values["nodes-per-zone"], names, errors);
  for (const [name, zones] of nodesPerZone ?? []) {
    const sum = [...zones.values()].reduce((a, b) => a + b, 0);
    const given = nodes.get(name);
    if (given !== undefined && given !== sum)
      errors.push(
        `--nodes gives ${name} ${given} nodes, --nodes-per-zone ${sum}; allowed: the same count, or only one of them`,
      );
    nodes.set(name, sum);
  }
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
  if (file !== undefined && "cloudFailed" in file) {
    // The cloud did not answer: a failed action (1), not a usage error.
    process.stderr.write(`${file.errors.map((e) => `vpccni plan: ${e}`).join("\n")}\n`);
    return 1;
  }
  errors.push(...(file?.errors ?? []));
  const noZones = values.subnets === undefined && !values.cloud ? true : file?.subnets?.some((s) => !s.zone);
  if (nodesPerZone !== undefined && noZones)
    errors.push(
      "--nodes-per-zone needs the subnets' zones; allowed: --subnets FILE with a zone on every subnet, or --cloud",
    );
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
    nodesPerZone,
  });
  for (const row of plan.policies) {
    const policy = loaded.policies.find((p) => p.policy.metadata.name === row.policy)?.policy;
    // the fixed-IP controller binds one ENI per node and assigns by address: no warm pool to estimate
    if (policy === undefined || row.nodes < 1 || row.ipMode === "fixed") continue;
    const quota = { enis: row.enisPerNode, ipsPerEni: row.ipsPerEni, ipsPerCall: 10 };
    const warning = slowScaleOutWarning(
      estimateScaleOut(settingsFromPolicy(policy.spec), quota, row.nodes, row.podsPerNode),
    );
    if (warning !== null) plan.warnings.push(`${row.policy}: ${warning}`);
  }
  const churn = maxEqualsMinNote(
    plan.policies.filter((p) => p.ipMode !== "fixed" && p.prebind.min === p.prebind.max).map((p) => p.policy),
  );
  if (churn !== null) plan.notes.push(churn);
  if (format === "json") writeJson(planJson(plan));
  else process.stdout.write(renderPlan(plan));
  return plan.ok ? 0 : 1;
}

/**
 * plan --output json: the rows of the text tables and its verdict. `met`: policies and subnets
 * can carry the nodes; `quotas-met`: the ENI quotas can, subnets unchecked; `not-met`: see
 * problems. (`invalid`, with diagnostics instead of rows: a policy did not load.)
 */
export function planJson(plan: Plan) {
  const verdict = !plan.ok ? "not-met" : plan.subnets.length > 0 ? "met" : "quotas-met";
  const { ok, policies, zones, subnets, notes, warnings, problems } = plan;
  return { ok, verdict, policies, zones, subnets, notes, warnings, problems };
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

/**
 * "ap-guangzhou-3=8,ap-guangzhou-4=4" for every policy, or "general:ap-guangzhou-3=8,..." per
 * policy; a policy named in any NAME: part takes only its own parts.
 */
export function perZone(text: string, names: readonly string[], errors: string[]): Map<string, Map<string, number>> {
  const shared = new Map<string, number>();
  const own = new Map<string, Map<string, number>>();
  for (const part of text.split(",")) {
    const m = /^(?:([a-z0-9-]+):)?([a-z]{2,4}-[a-z]+(?:-[a-z0-9]+)?-\d+)=(\d+)$/.exec(part.trim());
    if (!m) {
      errors.push(
        `--nodes-per-zone part ${JSON.stringify(part)} is not ZONE=COUNT or NAME:ZONE=COUNT; allowed: e.g. ap-guangzhou-3=8 or ${names[0] ?? "general"}:ap-guangzhou-3=8`,
      );
      continue;
    }
    const [, name, zone, n] = m as unknown as [string, string | undefined, string, string];
    if (name !== undefined && !names.includes(name)) {
      errors.push(
        `--nodes-per-zone names ${JSON.stringify(name)}, which is no loaded policy; allowed: ${names.join(", ")}`,
      );
      continue;
    }
    const into = name === undefined ? shared : (own.get(name) ?? own.set(name, new Map()).get(name)!);
    into.set(zone, Number(n));
  }
  return new Map(
    names.flatMap((n) => {
      const zones = own.get(n) ?? shared;
      return zones.size > 0 ? [[n, zones] as const] : [];
    }),
  );
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
): Promise<{ subnets?: SubnetFigures[]; errors: string[] } | { errors: string[]; cloudFailed: true }> {
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
        subnets.push({ subnetId: s.id, availableIpAddressCount: s.availableIps, cidr: s.cidr, zone: s.zone });
    } catch (error) {
      errors.push(`DescribeSubnets in ${region} at ${cloud.endpoint} failed: ${(error as Error).message}`);
    }
  }
  return errors.length ? { errors, cloudFailed: true } : { subnets, errors };
}
