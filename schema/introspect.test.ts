// Walking the zod schema along a policy path: through wrappers (optional, default, pipes),
// lists and records; off the schema, nothing.
import { describe, expect, test } from "bun:test";
import { z } from "zod";
import { fieldsAt, schemaAt, unwrap } from "./introspect.ts";
import { VpcCniPolicy } from "./policy.ts";

const Leaf = z.strictObject({ a: z.string(), b: z.int() });
const Root = z.strictObject({
  wrapped: Leaf.optional().default({ a: "x", b: 1 }),
  piped: z.string().pipe(z.string().min(1)).optional(),
  shaped: z.preprocess((v) => v, Leaf),
  list: z.array(Leaf),
  map: z.record(z.string(), Leaf),
  text: z.string(),
});

describe("schemaAt and fieldsAt", () => {
  test("peel optional, default and pipe wrappers down to the schema that checks the value", () => {
    expect(unwrap(Root.shape.wrapped)).toBe(Leaf);
    expect(fieldsAt(Root, ["wrapped"])).toEqual(["a", "b"]);
    expect(fieldsAt(Root, ["shaped"])).toEqual([]); // a preprocess pipe's input is any value
    expect((unwrap(Root.shape.piped) as unknown as { _zod: { def: { type: string } } })._zod.def.type).toBe("string");
  });
  test("a list's items and a record's values by any index or key", () => {
    expect(fieldsAt(Root, ["list", 3])).toEqual(["a", "b"]);
    expect(fieldsAt(Root, ["map", "anything"])).toEqual(["a", "b"]);
    expect(fieldsAt(Root, [])).toEqual(["wrapped", "piped", "shaped", "list", "map", "text"]);
  });
  test("a path that leaves the schema finds nothing", () => {
    expect(schemaAt(Root, ["nope"])).toBeUndefined();
    expect(schemaAt(Root, ["nope", "deeper"])).toBeUndefined();
    expect(schemaAt(Root, ["text", "x"])).toBeUndefined();
    expect(schemaAt(Root, [0])).toBeUndefined(); // an object is not indexed by number
    expect(fieldsAt(Root, ["text"])).toEqual([]);
    expect(fieldsAt(Root, ["nope"])).toEqual([]);
  });
  test('on the policy: what "did you mean" offers for a misspelt field', () => {
    expect(fieldsAt(VpcCniPolicy, ["spec", "prebind"])).toEqual(["min", "max"]);
    expect(fieldsAt(VpcCniPolicy, ["metadata"])).toEqual(["name", "labels", "annotations"]);
    expect(fieldsAt(VpcCniPolicy, ["spec", "subnets", 0])).toEqual([]);
  });
});
