// The JSON Schema of a policy as written (defaults optional), from zod v4's own export, for
// editors (yaml-language-server) and for `vpccni schema`.
import { z } from "zod";
import { VpcCniPolicy } from "./policy.ts";

export function policyJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(VpcCniPolicy, { io: "input", target: "draft-2020-12" }) as Record<string, unknown>;
}

export function policyJsonSchemaText(): string {
  return `${JSON.stringify(policyJsonSchema(), null, 2)}\n`;
}

/** Where the checked-in copy lives, relative to the repository root. */
export const JSON_SCHEMA_FILE = "schema/vpccni-policy.schema.json";
