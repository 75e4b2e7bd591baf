import { parseArgs } from "node:util";
import { hasErrors, loadPolicies, renderDiagnostics, summary } from "../../schema/index.ts";

export const help = `Usage: vpccni validate <file-or-folder>... [--format text|json]

Checks VpcCniPolicy files (.yaml, .yml, and .ts modules whose default export comes from
definePolicy()) and prints every problem at once as file:line:col: error[code]: message.
In a folder, YAML documents of other kinds are passed over and *.policy.ts modules are read.
Exits 1 when any policy has an error.
`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { format: { type: "string", default: "text" } },
  });
  if (positionals.length === 0) {
    process.stderr.write(`vpccni validate: name at least one policy file or folder\n\n${help}`);
    return 2;
  }
  if (values.format !== "text" && values.format !== "json") {
    process.stderr.write(`vpccni validate: --format is ${JSON.stringify(values.format)}; allowed: text or json\n`);
    return 2;
  }
  const result = await loadPolicies(positionals);
  const failed = hasErrors(result.diagnostics);
  if (values.format === "json") {
    const policies = result.policies.map((p) => ({ name: p.policy.metadata.name, file: p.file, line: p.nameAt.line }));
    process.stdout.write(`${JSON.stringify({ ok: !failed, policies, diagnostics: result.diagnostics }, null, 2)}\n`);
  } else {
    if (result.diagnostics.length > 0)
      process.stderr.write(`${renderDiagnostics(result.diagnostics, result.sources)}\n\n`);
    (failed ? process.stderr : process.stdout).write(
      `${summary(result.diagnostics, result.policies.length, result.sources.size)}\n`,
    );
  }
  return failed ? 1 : 0;
}
