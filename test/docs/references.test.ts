// Docs that are true: every repository path a page names (in backticks or as a relative link)
// exists, so a move or a rename cannot leave a dangling reference behind.
import { expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, normalize, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
const PAGES = ["README.md", ...new Bun.Glob("docs/*.md").scanSync({ cwd: ROOT })].sort();
const PARTS = "cli|compiler|runtime|schema|emulator|simulator|sandbox|test|bench|scripts|examples|docs";
const BACKTICKED = new RegExp(`\`((?:\\.\\./)*(?:${PARTS})/[A-Za-z0-9_./-]+)\``, "g");
const LINK = /\]\((?!https?:|#|mailto:)([^)#\s]+)(?:#[^)]*)?\)/g;

function dangling(page: string): string[] {
  const out: string[] = [];
  readFileSync(join(ROOT, page), "utf8")
    .split("\n")
    .forEach((line, i) => {
      // parts the design plans but the tree lacks, and other projects' files, say so on the line
      if (/\bplanned\b/.test(line) || /\bof [\w.-]+\/[\w.-]+\)?/.test(line)) return;
      for (const m of line.matchAll(BACKTICKED)) {
        const path = normalize(m[1]!.replace(/^(\.\.\/)+/, ""));
        if (!existsSync(join(ROOT, path))) out.push(`${page}:${i + 1}: ${m[1]}`);
      }
      for (const m of line.replace(/`[^`]*`/g, "").matchAll(LINK)) {
        const path = join(dirname(join(ROOT, page)), m[1]!);
        if (!existsSync(path)) out.push(`${page}:${i + 1}: (${m[1]})`);
      }
    });
  return out;
}

test("every path the README and docs/ name exists", () => {
  expect(PAGES.length).toBeGreaterThan(10);
  expect(PAGES.flatMap(dangling)).toEqual([]);
});
