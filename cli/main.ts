// The `vpccni` command: a table of subcommands, each loaded only when it runs so that
// `vpccni validate` does not pay for cdk8s or the cloud SDK.
import { commands } from "./commands.ts";

/** Help text never runs past this column (a terminal's default width). */
const HELP_WIDTH = 80;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-v") {
    const pkg = await import("../package.json");
    process.stdout.write(`vpccni ${pkg.version}\n`);
    return 0;
  }
  const command = commands[name];
  if (command === undefined) {
    process.stderr.write(`vpccni: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const module = await command.load();
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(module.help);
    return 0;
  }
  try {
    return await module.run(rest);
  } catch (error) {
    // node:util parseArgs throws on an unknown or malformed option: a usage error, not a crash.
    const code = (error as { code?: string }).code ?? "";
    if (!code.startsWith("ERR_PARSE_ARGS")) throw error;
    process.stderr.write(`vpccni ${name}: ${(error as Error).message}\n\n${module.help}`);
    return 2;
  }
}

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  const lines = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(width)}  ${wrap(c.summary, width + 4)}`);
  return `vpccni: pods get real VPC IPs from shared ENIs on Tencent Cloud.

Usage: vpccni <command> [options]   (vpccni <command> --help for its options)

Commands:
${lines.join("\n")}
`;
}

/** Words of `text` in lines of at most HELP_WIDTH columns, the later ones indented by `indent`. */
function wrap(text: string, indent: number): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && indent + line.length + 1 + word.length > HELP_WIDTH) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines.join(`\n${" ".repeat(indent)}`);
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
