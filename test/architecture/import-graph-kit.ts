// The repository's import graph, read from the source text: every relative import of every
// TypeScript file, resolved to a repository path, and every package it names. Type-only
// imports are marked, because they are erased and cost nothing at run time.
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

export const REPO = resolve(import.meta.dir, "../..");

export interface Edge {
  from: string;
  /** A repository path for relative imports, else the package specifier. */
  to: string;
  relative: boolean;
  typeOnly: boolean;
  line: number;
}

const SKIP = /^(node_modules|dist|examples\/deploy)\//;
const STATIC = /^\s*(import|export)\s+(type\s+)?[^;]*?\bfrom\s+["']([^"']+)["']/gm;
const BARE = /^\s*import\s+["']([^"']+)["']/gm;
const DYNAMIC = /\b(?:import|require)\(\s*["']([^"']+)["']\s*\)/g;

export function sourceFiles(): string[] {
  return [...new Bun.Glob("**/*.{ts,tsx}").scanSync({ cwd: REPO })].filter((f) => !SKIP.test(f)).sort();
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split("\n").length;
}

export function edgesOf(file: string, text = readFileSync(join(REPO, file), "utf8")): Edge[] {
  const edges: Edge[] = [];
  const add = (spec: string, typeOnly: boolean, index: number) => {
    const rel = spec.startsWith(".");
    const to = rel ? relative(REPO, resolve(REPO, dirname(file), spec)) : spec;
    edges.push({ from: file, to, relative: rel, typeOnly, line: lineOf(text, index) });
  };
  for (const m of text.matchAll(STATIC)) add(m[3]!, m[2] !== undefined, m.index);
  for (const m of text.matchAll(BARE)) add(m[1]!, false, m.index);
  for (const m of text.matchAll(DYNAMIC)) add(m[1]!, false, m.index);
  return edges;
}

/** Test code: suites, their helpers (`*-kit.ts`), the scripts they run (`*-probe.ts`) and testdata/. */
export function isTestCode(file: string): boolean {
  return file.startsWith("test/") || file.includes("/testdata/") || /(\.test|-kit|-probe)\.ts$/.test(file);
}

/** A package's name from a specifier: `@scope/name/sub` -> `@scope/name`, `node:fs` -> `node:fs`. */
export function packageOf(spec: string): string {
  if (spec.startsWith("node:") || spec.startsWith("bun:") || spec === "bun") return spec;
  const parts = spec.split("/");
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}
