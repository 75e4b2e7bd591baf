// The command shell: every subcommand answers a bad option with a usage error, not a crash;
// its help fits a terminal; exit codes are 0 ok, 1 findings, 2 usage (docs/cli.md).
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { commands } from "./commands.ts";

const MAIN = join(import.meta.dir, "main.ts");

async function vpccni(...args: string[]) {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NODE_NAME: "" },
  });
  const [stdout, stderr, code] = [
    await new Response(proc.stdout).text(),
    await new Response(proc.stderr).text(),
    await proc.exited,
  ];
  return { stdout, stderr, code };
}

describe("vpccni", () => {
  test("with no command prints the command list and exits 2", async () => {
    const r = await vpccni();
    expect(r.code).toBe(2);
    for (const name of Object.keys(commands)) expect(r.stdout).toContain(`  ${name} `);
  });

  test("an unknown command is named", async () => {
    const r = await vpccni("deploy");
    expect(r.code).toBe(2);
    expect(r.stderr).toStartWith("vpccni: unknown command 'deploy'");
  });

  for (const name of Object.keys(commands)) {
    test(`${name}: an unknown option is a usage error naming it, with the command's help`, async () => {
      const r = await vpccni(name, "--bogus-option");
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`vpccni ${name}: Unknown option '--bogus-option'`);
      expect(r.stderr).toContain(`Usage: vpccni ${name}`);
      expect(r.stderr).not.toContain("    at ");
    });
  }

  test("--help (the command list) fits in 80 columns and exits 0", async () => {
    const r = await vpccni("--help");
    expect(r.code).toBe(0);
    expect(overWidth("vpccni", r.stdout)).toEqual([]);
  });

  for (const name of Object.keys(commands)) {
    test(`${name} --help fits in 80 columns and exits 0`, async () => {
      const r = await vpccni(name, "--help");
      expect(r.code).toBe(0);
      expect(r.stdout).toStartWith(`Usage: vpccni ${name}`);
      expect(overWidth(name, r.stdout)).toEqual([]);
    });
  }

  test("every command has a usage error below", () => {
    expect(Object.keys(USAGE_ERRORS).sort()).toEqual(Object.keys(commands).sort());
  });

  for (const [name, args] of Object.entries(USAGE_ERRORS)) {
    test(`${name} ${args.join(" ")}: a usage error exits 2 and says why`, async () => {
      const r = await vpccni(name, ...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toStartWith(`vpccni ${name}: `);
      expect(r.stderr).not.toContain("    at ");
    });
  }
});

/** Each line of a help text over 80 columns, named by command, line number and width. */
function overWidth(name: string, text: string): string[] {
  return text
    .split("\n")
    .flatMap((line, i) => (line.length > 80 ? [`${name} line ${i + 1} (${line.length} columns): ${line}`] : []));
}

/** One invocation per command that is a usage error beyond an unknown option (exit 2). */
const USAGE_ERRORS: Record<string, string[]> = {
  init: ["one", "two"],
  validate: [],
  compile: ["policies"],
  plan: ["policies"],
  schema: ["--format", "yaml"],
  emulator: ["--port", "http"],
  simulate: ["--policy", "p.yaml"],
  demo: ["--nodes", "1"],
  agent: ["--log-level", "loud"],
  controller: ["--mode", "loud"],
  status: ["extra"],
  cleanup: ["--region", "ap-guangzhou"],
};
