// Renders what `vpccni validate` prints for one invalid fixture; the test pins it, and
// `bun schema/testdata/render-fixture.ts --write` refreshes the .expected files after a
// deliberate change to a message (review the diff before committing it).
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadPolicies } from "../load.ts";
import { renderDiagnostics } from "../render.ts";

export const INVALID_DIR = join(import.meta.dir, "invalid");

export async function renderFixture(name: string): Promise<string> {
  const result = await loadPolicies([name], INVALID_DIR);
  return `${renderDiagnostics(result.diagnostics, result.sources)}\n`;
}

export function fixtureNames(): string[] {
  return readdirSync(INVALID_DIR).filter((f) => f.endsWith(".yaml")).sort();
}

if (import.meta.main && process.argv.includes("--write")) {
  for (const name of fixtureNames()) writeFileSync(join(INVALID_DIR, name.replace(/\.yaml$/, ".expected")), await renderFixture(name));
}
