// A platform team's repository, made the way they make it: vpccni packed by npm, installed from
// the tarball into a fresh Git repository in a temporary folder, every command run there with
// npm and npx. Nothing may reach back into this checkout: the children get no NODE_PATH and no
// PATH entry into it, and npx may not fetch a package it does not find in the repository.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import type { RunResult } from "../../sandbox/exec.ts";
import { cacheRoot } from "../../sandbox/paths.ts";
import { requirePrereq } from "../../sandbox/prereq.ts";

export const REPO = resolve(import.meta.dir, "../..");
const HOW = "install Node.js 20 or newer with npm, and git (Debian: apt-get install nodejs npm git)";

/** Node 20+, npm and git: what a platform team's machine or CI runner has. */
export function requireNodeNpmGit(): void {
  requirePrereq(
    "node",
    () => {
      const out = Bun.spawnSync(["node", "--version"], { stdout: "pipe", stderr: "ignore" });
      if (out.exitCode !== 0) return "`node` is not on PATH";
      const major = Number(/^v(\d+)/.exec(out.stdout.toString())?.[1]);
      return major >= 20 || `node is ${out.stdout.toString().trim()}; allowed: 20 or newer`;
    },
    HOW,
  );
  requirePrereq("npm", () => Bun.which("npm") !== null || "`npm` is not on PATH", HOW);
  requirePrereq("git", () => Bun.which("git") !== null || "`git` is not on PATH", HOW);
}

/** npm's download cache, kept between runs (never this checkout's node_modules). */
export function npmCache(): string {
  const dir = join(cacheRoot(), "npm");
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Left out of the children's environment: module paths, and what `npm test` sets for this
 * checkout (npm_config_local_prefix, npm_package_json, INIT_CWD), which would point npm back here.
 */
const DROPPED = /^(NODE_PATH|INIT_CWD|npm_.*)$/;

/** The environment of a command run in the user's repository. */
export function userEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !DROPPED.test(key)) env[key] = value;
  }
  env.PATH = (process.env.PATH ?? "")
    .split(delimiter)
    .filter((dir) => dir !== "" && !resolve(dir).startsWith(REPO))
    .join(delimiter);
  Object.assign(env, {
    npm_config_cache: npmCache(),
    npm_config_prefer_offline: "true",
    // npx must find vpccni in the repository; it may never download a package of that name.
    npm_config_yes: "false",
    npm_config_audit: "false",
    npm_config_fund: "false",
    npm_config_update_notifier: "false",
  });
  return env;
}

/** A command with exactly userEnv() (sandbox/exec.ts adds to this process's environment). */
export async function exec(cmd: string[], cwd: string): Promise<RunResult> {
  const proc = Bun.spawn(cmd, { cwd, env: userEnv(), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

/** A shell command line in the user's repository, as a CI step runs it. */
export function sh(cwd: string, line: string): Promise<RunResult> {
  return exec(["sh", "-c", line], cwd);
}

export interface Packed {
  tarball: string;
  size: number;
  unpackedSize: number;
  files: string[];
}

/** `npm pack` of this checkout into `dir`, with what npm reports about the tarball. */
export async function pack(dir: string, dryRun = false): Promise<Packed> {
  const args = ["npm", "pack", "--json", ...(dryRun ? ["--dry-run"] : ["--pack-destination", dir])];
  const out = await exec(args, REPO);
  if (out.code !== 0) throw new Error(`npm pack failed:\n${out.stderr}`);
  const [info] = JSON.parse(out.stdout) as {
    filename: string;
    size: number;
    unpackedSize: number;
    files: { path: string }[];
  }[];
  if (info === undefined) throw new Error(`npm pack reported no tarball:\n${out.stdout}`);
  return {
    tarball: join(dir, info.filename),
    size: info.size,
    unpackedSize: info.unpackedSize,
    files: info.files.map((f) => f.path).sort(),
  };
}

/** A temporary folder outside this checkout, holding `pack/` and the user's `repo/`. */
export function userWorld(): { root: string; packDir: string; repo: string } {
  const root = mkdtempSync(join(tmpdir(), "vpccni-user-"));
  const world = { root, packDir: join(root, "pack"), repo: join(root, "repo") };
  mkdirSync(world.packDir);
  mkdirSync(world.repo);
  return world;
}

/** This checkout's pinned version of a devDependency, so the user's install matches ours. */
export function devVersion(name: string): string {
  const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
    devDependencies: Record<string, string>;
  };
  const version = pkg.devDependencies[name];
  if (version === undefined) throw new Error(`package.json has no devDependency ${name}`);
  return version;
}

/**
 * This checkout as its Git remote would serve it, working-tree changes included: the tracked
 * and untracked files that .gitignore keeps, committed and tagged in a new repository at `dir`.
 */
export async function gitCopyOfCheckout(dir: string, tag: string): Promise<void> {
  const listed = await exec(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], REPO);
  if (listed.code !== 0) throw new Error(`git ls-files failed:\n${listed.stderr}`);
  for (const file of listed.stdout.split("\0").filter((f) => f !== "" && existsSync(join(REPO, f)))) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(join(REPO, file), join(dir, file));
  }
  const git = "git -c user.name=vpccni -c user.email=vpccni@example.com";
  const made = await sh(dir, `git init -q && git add -A && ${git} commit -qm vpccni && git tag ${tag}`);
  if (made.code !== 0) throw new Error(`git repository at ${dir}:\n${made.stderr}`);
}
