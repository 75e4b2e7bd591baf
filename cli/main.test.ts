// The command shell: every subcommand answers a bad option with a usage error, not a crash.
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
});
