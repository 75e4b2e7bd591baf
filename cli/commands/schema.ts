import { parseArgs } from "node:util";
import { policyReference } from "../../schema/docs.ts";
import { policyJsonSchemaText } from "../../schema/json-schema.ts";

export const help = `Usage: vpccni schema [--format json|markdown]

Prints the JSON Schema (draft 2020-12) of a VpcCniPolicy as written. Editors
pick it up through a modeline at the top of a policy file:
  # yaml-language-server: $schema=<path or URL of vpccni-policy.schema.json>
--format markdown prints the field reference (docs/policy.md) instead.
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { format: { type: "string", default: "json" } } });
  if (values.format === "json") process.stdout.write(policyJsonSchemaText());
  else if (values.format === "markdown") process.stdout.write(policyReference());
  else {
    process.stderr.write(`vpccni schema: --format is ${JSON.stringify(values.format)}; allowed: json or markdown\n`);
    return 2;
  }
  return 0;
}
