// `--output text|json`, which every command with findings or results takes. Older flags
// (`--json`, validate's `--format`) stay as aliases so that existing scripts keep working.

export type OutputFormat = "text" | "json";

export const OUTPUT_OPTION = { output: { type: "string" } } as const;

/**
 * The format asked for, or the usage error to print: an unknown --output value, or --output
 * and the alias asking for different formats.
 */
export function outputFormat(
  output: string | undefined,
  alias?: { flag: string; format: OutputFormat | undefined },
): OutputFormat | { error: string } {
  if (output !== undefined && output !== "text" && output !== "json")
    return { error: `--output is ${JSON.stringify(output)}; allowed: text or json` };
  if (output !== undefined && alias?.format !== undefined && alias.format !== output)
    return { error: `--output ${output} and ${alias.flag} ask for different formats; allowed: one of them` };
  return output ?? alias?.format ?? "text";
}

/** One JSON document on stdout, the way every command prints it. */
export function writeJson(doc: unknown): void {
  process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
}
