// The docs' shell examples cannot rot: every `vpccni` command line in a ```sh block of the
// README and docs/ names a real command and only options that command has, and the ones that
// work on the layout `vpccni init` writes (validate, compile) are run there for real.
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { commands } from "../../cli/commands.ts";
import { run } from "../../sandbox/exec.ts";

const ROOT = resolve(import.meta.dir, "../..");
const PAGES = ["README.md", ...new Bun.Glob("docs/*.md").scanSync({ cwd: ROOT })].sort();

interface Example {
  where: string;
  args: string[];
}

/** Words of one shell command (quotes removed; no expansion). */
function words(text: string): string[] {
  return [...text.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

export function examples(page: string, text: string): Example[] {
  const out: Example[] = [];
  let fence: string | null = null;
  let pending = "";
  text.split("\n").forEach((raw, i) => {
    const open = /^```(\w*)/.exec(raw);
    if (open) {
      fence = fence === null ? open[1]! : null;
      return;
    }
    if (fence !== "sh" && fence !== "bash") return;
    // a backslash continues the command on the next line
    if (raw.endsWith("\\")) {
      pending += `${raw.slice(0, -1)} `;
      return;
    }
    const code = `${pending}${raw}`.replace(/(^|\s)#.*$/, "");
    pending = "";
    for (const part of code.split(/&&|\|\||;|\|/)) {
      const w = words(part.trim());
      const at = w[0] === "npx" ? 1 : 0;
      if (w[at] === "vpccni") out.push({ where: `${page}:${i + 1}`, args: w.slice(at + 1) });
    }
  });
  return out;
}

const all = PAGES.flatMap((page) => examples(page, readFileSync(join(ROOT, page), "utf8")));

test("the docs hold vpccni examples to check", () => {
  expect(all.length).toBeGreaterThanOrEqual(10);
});

test("every documented vpccni command exists and takes the options it is shown with", async () => {
  const bad: string[] = [];
  for (const { where, args } of all) {
    const [name, ...rest] = args;
    const command = name === undefined ? undefined : commands[name];
    if (!command) {
      bad.push(`${where}: no command ${JSON.stringify(name)}`);
      continue;
    }
    const help = (await command.load()).help;
    for (const option of rest.filter((a) => a.startsWith("--")).map((a) => a.split("=")[0]!)) {
      if (!new RegExp(`(^|[\\s\\[|])${option}(?![\\w-])`).test(help))
        bad.push(`${where}: vpccni ${name} has no ${option}`);
    }
  }
  expect(bad).toEqual([]);
});

test("the day-to-day examples run in a repository that vpccni init made", async () => {
  const repo = mkdtempSync(join(tmpdir(), "vpccni-docs-"));
  try {
    const vpccni = (args: string[]) => run([process.execPath, join(ROOT, "cli/main.ts"), ...args], { cwd: repo });
    expect((await vpccni(["init"])).code).toBe(0);
    // validate and compile on the layout init writes; nothing the reader must fill in first
    const runnable = all.filter(
      ({ args }) =>
        ["validate", "compile"].includes(args[0]!) &&
        args.every((a) => !a.includes("<") && !a.includes("$")) &&
        !args.includes("--image"),
    );
    expect(runnable.length).toBeGreaterThanOrEqual(3);
    for (const { where, args } of runnable) {
      const r = await vpccni(args);
      expect({ where, args, code: r.code }).toEqual({ where, args, code: 0 });
    }
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
}, 60_000);
