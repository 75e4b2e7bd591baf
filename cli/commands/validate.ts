import { parseArgs } from "node:util";
import { hasErrors, loadPolicies, noPolicyFound, renderDiagnostics, summary } from "../../schema/index.ts";
import { sortDiagnostics } from "../../schema/diagnostic.ts";
import { readSubnetsFile } from "../../compiler/plan/subnets-file.ts";
import { zoneDiagnostics } from "../../compiler/plan/zone-check.ts";
import { OUTPUT_OPTION, outputFormat, writeJson } from "../output.ts";

export const help = `Usage: vpccni validate <file-or-folder>... [--output text|json]
                       [--subnets FILE --zones ZONE,... | NAME:ZONE,...]

Checks VpcCniPolicy files (.yaml, .yml, and .ts modules whose default export
comes from definePolicy()) and prints every problem at once as
file:line:col: error[code]: message. In a folder, YAML documents of other
kinds are passed over and *.policy.ts modules are read. Exits 1 when any
policy has an error.

A node's ENIs attach only in its own zone, so a policy needs a subnet in every
zone its nodes run in. The policy does not say where its nodes are, and
validate reads no cloud: with --zones (the nodes' zones, for every policy or
NAME:ZONE per policy) and --subnets (a file of {subnetId, zone, ...} as
\`vpccni plan\` reads it) it warns about each zone without a subnet.

Options:
  --output text|json           text (default) or one JSON document
                               (--format text|json says the same)
  --subnets FILE               JSON or YAML list of {subnetId,
                               availableIpAddressCount, cidr, zone}
  --zones ZONE,... | NAME:ZONE,...
                               the zones the policies' nodes run in (needs
                               --subnets)
`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...OUTPUT_OPTION,
      format: { type: "string" },
      subnets: { type: "string" },
      zones: { type: "string" },
    },
  });
  if (positionals.length === 0) {
    process.stderr.write(`vpccni validate: name at least one policy file or folder\n\n${help}`);
    return 2;
  }
  if (values.format !== undefined && values.format !== "text" && values.format !== "json") {
    process.stderr.write(`vpccni validate: --format is ${JSON.stringify(values.format)}; allowed: text or json\n`);
    return 2;
  }
  const format = outputFormat(values.output, { flag: "--format", format: values.format });
  if (typeof format !== "string") {
    process.stderr.write(`vpccni validate: ${format.error}\n`);
    return 2;
  }
  if ((values.subnets === undefined) !== (values.zones === undefined)) {
    process.stderr.write(
      values.zones === undefined
        ? "vpccni validate: --subnets is read only for the zones check, which needs --zones (the zones the nodes run in)\n"
        : "vpccni validate: --zones needs --subnets FILE (the zone of each subnet; validate reads no cloud)\n",
    );
    return 2;
  }
  const result = await loadPolicies(positionals);
  if (result.policies.length === 0 && !hasErrors(result.diagnostics))
    result.diagnostics.push(noPolicyFound(positionals));
  if (values.subnets !== undefined && values.zones !== undefined) {
    const errors: string[] = [];
    const names = result.policies.map((p) => p.policy.metadata.name);
    const zones = zonesPerPolicy(values.zones, names, errors);
    const file = await readSubnetsFile(values.subnets);
    errors.push(...file.errors);
    if (file.subnets?.some((s) => s.zone === undefined))
      errors.push(`${values.subnets} gives no zones; allowed: a zone on every subnet (DescribeSubnets' Zone)`);
    if (errors.length > 0) {
      process.stderr.write(`${errors.map((e) => `vpccni validate: ${e}`).join("\n")}\n`);
      return 2;
    }
    result.diagnostics.push(
      ...zoneDiagnostics({
        policies: result.policies,
        sources: result.sources,
        subnets: file.subnets ?? [],
        subnetsFile: values.subnets,
        zones,
      }),
    );
    sortDiagnostics(result.diagnostics);
  }
  const failed = hasErrors(result.diagnostics);
  if (format === "json") {
    const policies = result.policies.map((p) => ({ name: p.policy.metadata.name, file: p.file, line: p.nameAt.line }));
    writeJson({ ok: !failed, policies, diagnostics: result.diagnostics });
  } else {
    if (result.diagnostics.length > 0)
      process.stderr.write(`${renderDiagnostics(result.diagnostics, result.sources)}\n\n`);
    (failed ? process.stderr : process.stdout).write(
      `${summary(result.diagnostics, result.policies.length, result.sources.size)}\n`,
    );
  }
  return failed ? 1 : 0;
}

/** "ap-guangzhou-3,ap-guangzhou-4" for every policy, or "general:ap-guangzhou-3,..." per policy. */
function zonesPerPolicy(text: string, names: readonly string[], errors: string[]): Map<string, string[]> {
  const shared: string[] = [];
  const own = new Map<string, string[]>();
  for (const part of text.split(",")) {
    const m = /^(?:([a-z0-9-]+):)?([a-z]{2,4}-[a-z]+(?:-[a-z0-9]+)?-\d+)$/.exec(part.trim());
    if (!m) {
      errors.push(
        `--zones part ${JSON.stringify(part)} is not ZONE or NAME:ZONE; allowed: e.g. ap-guangzhou-3 or ${names[0] ?? "general"}:ap-guangzhou-3`,
      );
      continue;
    }
    const [, name, zone] = m as unknown as [string, string | undefined, string];
    if (name === undefined) shared.push(zone);
    else if (!names.includes(name))
      errors.push(`--zones names ${JSON.stringify(name)}, which is no loaded policy; allowed: ${names.join(", ")}`);
    else own.set(name, [...(own.get(name) ?? []), zone]);
  }
  return new Map(names.map((n) => [n, own.get(n) ?? shared]));
}
