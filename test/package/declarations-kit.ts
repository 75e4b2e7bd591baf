// The type declarations of the public entry (schema/types/*.d.ts): tsc's own declaration emit of
// schema/public.ts, formatted like the rest of the tree. They are committed, so that installing
// vpccni from a git URL needs no build step. Refresh with: bun test/package/declarations-kit.ts
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const REPO = join(import.meta.dir, "../..");
export const TYPES_DIR = "schema/types";
const TSCONFIG = "schema/tsconfig.types.json";

function tool(args: string[], stdin?: string): string {
  const out = Bun.spawnSync(args, { cwd: REPO, stdin: stdin === undefined ? "ignore" : Buffer.from(stdin) });
  if (out.exitCode !== 0) throw new Error(`${args.join(" ")} failed:\n${out.stdout}${out.stderr}`);
  return out.stdout.toString();
}

/** File name -> text of the declarations as they should be committed. */
export function emitDeclarations(): Map<string, string> {
  const tmp = mkdtempSync(join(tmpdir(), "vpccni-dts-"));
  try {
    tool([join(REPO, "node_modules/.bin/tsc"), "-p", TSCONFIG, "--outDir", tmp]);
    const files = new Map<string, string>();
    for (const name of readdirSync(tmp).sort()) {
      const source = `schema/${name.replace(/\.d\.ts$/, ".ts")}`;
      const header = `// Generated from ${source} by \`tsc -p ${TSCONFIG}\`; do not edit.\n`;
      const text = header + readFileSync(join(tmp, name), "utf8");
      // Biome formats from stdin as if the file were at its committed path (biome.json applies).
      const path = `${TYPES_DIR}/${name}`;
      files.set(name, tool([join(REPO, "node_modules/.bin/biome"), "format", `--stdin-file-path=${path}`], text));
    }
    return files;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const dir = join(REPO, TYPES_DIR);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of emitDeclarations()) writeFileSync(join(dir, name), text);
  console.log(`wrote ${TYPES_DIR}/`);
}
