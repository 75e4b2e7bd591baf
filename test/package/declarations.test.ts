// The committed declarations of the public entry are what tsc emits from the schema today, and
// package.json points editors and the user's tsc at them.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { emitDeclarations, REPO, TYPES_DIR } from "./declarations-kit.ts";

const REFRESH = "refresh with: bun test/package/declarations-kit.ts";

test(`${TYPES_DIR}/ is current (tsc's declarations of schema/public.ts)`, () => {
  const emitted = emitDeclarations();
  const committed = readdirSync(join(REPO, TYPES_DIR)).sort();
  expect(committed, REFRESH).toEqual([...emitted.keys()]);
  for (const [name, text] of emitted) expect(readFileSync(join(REPO, TYPES_DIR, name), "utf8"), REFRESH).toBe(text);
}, 30_000);

test("package.json: 'vpccni' gives editors these declarations and Bun the TypeScript entry", () => {
  const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));
  const entry = { types: `./${TYPES_DIR}/public.d.ts`, default: "./schema/public.ts" };
  expect(pkg.exports["."]).toEqual(entry);
  expect(Object.keys(pkg.exports["."])[0], "the types condition must come first").toBe("types");
  expect(pkg.types).toBe(entry.types);
});

test("the declarations need neither Bun's nor Node's types", () => {
  for (const name of readdirSync(join(REPO, TYPES_DIR))) {
    const text = readFileSync(join(REPO, TYPES_DIR, name), "utf8");
    expect(text, name).not.toMatch(/from "(bun|node:[^"]+)"|reference types=|\bBun\./);
  }
});
