// Walks the zod schema along a policy path, so that diagnostics can list the fields an
// object allows ("did you mean") without keeping a second copy of the schema's shape.
import type { z } from "zod";
import type { PathSegment } from "./diagnostic.ts";

type Def = {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  in?: z.ZodType;
};

function def(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** Peels optional, default and similar wrappers off a schema. */
export function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    const d = def(current);
    if (d.innerType !== undefined) current = d.innerType;
    else if (d.type === "pipe" && d.in !== undefined) current = d.in;
    else return current;
  }
}

/** The schema of the value at `path`, or undefined when the path leaves the schema. */
export function schemaAt(root: z.ZodType, path: readonly PathSegment[]): z.ZodType | undefined {
  let current: z.ZodType | undefined = root;
  for (const segment of path) {
    if (current === undefined) return undefined;
    const d = def(unwrap(current));
    if (d.type === "object" && typeof segment === "string") current = d.shape?.[segment];
    else if (d.type === "array") current = d.element;
    else if (d.type === "record") current = d.valueType;
    else return undefined;
  }
  return current === undefined ? undefined : unwrap(current);
}

/** Field names an object at `path` allows (empty when it is not an object). */
export function fieldsAt(root: z.ZodType, path: readonly PathSegment[]): string[] {
  const schema = schemaAt(root, path);
  if (schema === undefined) return [];
  const d = def(schema);
  return d.type === "object" ? Object.keys(d.shape ?? {}) : [];
}
