import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { parseDocument, stringify } from "yaml";
import { VpcCniPolicy } from "./policy.ts";
import { validPolicy } from "./testdata/arbitraries.ts";
import { loadYamlText } from "./yaml-source.ts";

describe("round trip", () => {
  test("every valid policy survives YAML -> load -> YAML", () => {
    fc.assert(
      fc.property(validPolicy, (input) => {
        const first = loadYamlText(stringify(input), "p.yaml");
        expect(first.diagnostics).toEqual([]);
        const loaded = first.policies[0]?.policy;
        expect(loaded).toEqual(VpcCniPolicy.parse(input));
        const second = loadYamlText(stringify(loaded), "p.yaml");
        expect(second.diagnostics).toEqual([]);
        expect(second.policies[0]?.policy).toEqual(loaded);
      }),
      { numRuns: 500 },
    );
  }, 60_000);
});

/** A mutation of a valid policy: a value replaced, a key dropped or renamed, or text garbled. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), pick: fc.nat(), value: fc.anything({ maxDepth: 2 }) }),
  fc.record({ kind: fc.constant("delete" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("rename" as const), pick: fc.nat(), name: fc.string({ maxLength: 12 }) }),
  fc.record({
    kind: fc.constant("text" as const),
    at: fc.nat(),
    insert: fc.string({ maxLength: 8, unit: "binary" }),
    cut: fc.nat({ max: 10 }),
  }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(input: unknown, m: Mutation): string {
  if (m.kind === "text") {
    const text = stringify(input);
    const at = m.at % (text.length + 1);
    return text.slice(0, at) + m.insert + text.slice(at + m.cut);
  }
  const doc = parseDocument(stringify(input));
  const paths: (string | number)[][] = [];
  const walk = (value: unknown, path: (string | number)[]) => {
    if (path.length > 0) paths.push(path);
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, i]));
    else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
  };
  walk(input, []);
  const path = paths[m.pick % paths.length] ?? ["spec"];
  if (m.kind === "set") doc.setIn(path, m.value);
  else if (m.kind === "delete") doc.deleteIn(path);
  else if (typeof path[path.length - 1] === "number")
    doc.deleteIn(path); // list items have no name
  else {
    const value = doc.getIn(path);
    doc.deleteIn(path);
    doc.setIn([...path.slice(0, -1), m.name], value);
  }
  return doc.toString();
}

describe("fuzz", () => {
  test("10,000 mutations of valid policies: the loader never throws, only returns located diagnostics", () => {
    let rejected = 0;
    fc.assert(
      fc.property(validPolicy, mutation, (input, m) => {
        const text = mutate(input, m);
        const result = loadYamlText(text, "fuzz.yaml");
        const lines = text.split("\n").length;
        for (const d of result.diagnostics) {
          expect(d.code).toMatch(/^[a-z][a-z-]+$/);
          expect(d.message.length).toBeGreaterThan(0);
          expect(d.line).toBeGreaterThanOrEqual(1);
          expect(d.line).toBeLessThanOrEqual(lines);
          expect(d.col).toBeGreaterThanOrEqual(1);
        }
        // A policy comes back exactly when there is no diagnostic.
        expect(result.policies.length > 0 || result.diagnostics.length > 0).toBe(true);
        if (result.diagnostics.length > 0) rejected++;
      }),
      { numRuns: 10_000 },
    );
    // The mutations must actually break policies, or this test proves nothing.
    expect(rejected).toBeGreaterThan(3_000);
  }, 120_000);
});
