// Turns a raw value (from YAML or a TypeScript module) into a typed policy or into located
// diagnostics. Every problem of a document is reported at once.
import { z } from "zod";
import { CREDENTIALS_ADVICE, findInlineCredentials, redacted } from "./credentials.ts";
import { type Diagnostic, type Location, type PathSegment, pathText, showValue } from "./diagnostic.ts";
import { fieldsAt, schemaAt } from "./introspect.ts";
import { VpcCniPolicy } from "./policy.ts";
import { closest } from "./suggest.ts";

/** Finds the source position of a path: the key itself ("key") or its value ("value"). */
export type Locate = (path: PathSegment[], part: "key" | "value") => Location;

export interface Validated {
  policy?: VpcCniPolicy;
  diagnostics: Diagnostic[];
}

export function validatePolicy(raw: unknown, locate: Locate): Validated {
  const diagnostics: Diagnostic[] = [];
  const secretPaths: string[] = [];
  for (const finding of findInlineCredentials(raw)) {
    secretPaths.push(pathText(finding.path));
    const key = locate(finding.path, "key");
    const value = locate(finding.path, "value");
    diagnostics.push({
      ...(finding.atKey ? key : value),
      secretAt: secretSpan(key, value, finding.atKey),
      code: "inline-credentials",
      severity: "error",
      path: finding.path,
      message: `${pathText(finding.path)} holds what looks like a cloud credential; ${CREDENTIALS_ADVICE}`,
      found: redacted(valueAt(raw, finding.path)),
      allowed: "spec.cloud.credentialsSecretRef naming a Secret",
    });
  }
  const underSecret = (path: PathSegment[]) => {
    const text = pathText(path);
    return secretPaths.some((s) => text === s || text.startsWith(`${s}.`) || text.startsWith(`${s}[`));
  };

  const result = VpcCniPolicy.safeParse(raw, { reportInput: true });
  if (result.success) return diagnostics.length ? { diagnostics } : { policy: result.data, diagnostics };
  for (const issue of result.error.issues) {
    for (const d of fromIssue(issue, locate, raw)) if (!underSecret(d.path)) diagnostics.push(d);
  }
  return { diagnostics };
}

/**
 * The secret's span for the renderer to mask. A located scalar (YAML) is masked exactly; where
 * the locator only finds the key (TypeScript, a mapping under a secret key), everything after
 * the key on its line, or from the located value on for a value finding.
 */
function secretSpan(key: Location, value: Location, atKey: boolean): Diagnostic["secretAt"] {
  const sameSpot = key.line === value.line && key.col === value.col;
  if (!sameSpot) return { line: value.line, col: value.col, length: value.length };
  return { line: key.line, col: atKey ? key.col + key.length : key.col };
}

function valueAt(raw: unknown, path: PathSegment[]): unknown {
  let current = raw;
  for (const segment of path) current = (current as Record<PathSegment, unknown> | undefined)?.[segment];
  return current;
}

const TYPE_NAMES: Record<string, string> = {
  int: "an integer",
  number: "a number",
  string: "a string",
  boolean: "true or false",
  object: "a mapping of fields",
  record: "a mapping",
  array: "a list",
};

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}

function describe(path: PathSegment[]): string | undefined {
  const schema = schemaAt(VpcCniPolicy, path);
  return schema === undefined ? undefined : z.globalRegistry.get(schema)?.description;
}

function fromIssue(issue: z.core.$ZodIssue, locate: Locate, raw: unknown): Diagnostic[] {
  const path = issue.path.filter((s): s is PathSegment => typeof s !== "symbol");
  const field = pathText(path);
  const input = (issue as { input?: unknown }).input;
  const at = (
    code: string,
    message: string,
    extra: Partial<Diagnostic> = {},
    part: "key" | "value" = "value",
  ): Diagnostic => ({
    ...locate(path, part),
    code,
    severity: "error",
    path,
    message,
    ...extra,
  });

  switch (issue.code) {
    case "unrecognized_keys": {
      const allowedFields = fieldsAt(VpcCniPolicy, path);
      return issue.keys.map((key) => {
        const guess = closest(key, allowedFields);
        const keyPath = [...path, key];
        return {
          ...locate(keyPath, "key"),
          code: "unknown-field",
          severity: "error" as const,
          path: keyPath,
          message: `${field} has no field ${JSON.stringify(key)}${guess ? `; did you mean ${JSON.stringify(guess)}?` : ""}`,
          found: JSON.stringify(key),
          allowed: allowedFields.join(", "),
          ...(guess ? { hint: `did you mean ${JSON.stringify(guess)}?` } : {}),
        };
      });
    }
    case "invalid_type": {
      const isInt = (schemaAt(VpcCniPolicy, path) as { isInt?: boolean } | undefined)?.isInt === true;
      const expected = isInt ? "an integer" : (TYPE_NAMES[issue.expected] ?? issue.expected);
      if (input === undefined) {
        const what = describe(path);
        return [
          at(
            "missing-field",
            `${field} is required${what ? ` (${what.replace(/\.$/, "")})` : ""}; allowed: ${expected}`,
            { allowed: expected },
          ),
        ];
      }
      return [
        at("invalid-type", `${field} must be ${expected}, found ${showValue(input)}`, {
          found: showValue(input),
          allowed: expected,
        }),
      ];
    }
    case "too_small":
    case "too_big": {
      const bound = issue.code === "too_small" ? `at least ${issue.minimum}` : `at most ${issue.maximum}`;
      const limit = Number(issue.code === "too_small" ? issue.minimum : issue.maximum);
      const unit =
        issue.origin === "array"
          ? plural(limit, " item")
          : issue.origin === "string"
            ? plural(limit, " character")
            : "";
      const size = Array.isArray(input)
        ? `${input.length}${plural(input.length, " item")}`
        : typeof input === "string"
          ? `${input.length}${plural(input.length, " character")}`
          : showValue(input);
      return [
        at("out-of-range", `${field} must be ${bound}${unit}, found ${size}`, {
          found: size,
          allowed: `${bound}${unit}`,
        }),
      ];
    }
    case "invalid_format":
      return [
        at("invalid-format", `${field} is ${showValue(input)}; expected ${issue.message}`, {
          found: showValue(input),
          allowed: issue.message,
        }),
      ];
    case "invalid_value": {
      if (input === undefined) {
        const allowed = issue.values.map((v) => JSON.stringify(v)).join(" or ");
        return [at("missing-field", `${field} is required; allowed: ${allowed}`, { allowed })];
      }
      const allowed = issue.values.map((v) => JSON.stringify(v)).join(" or ");
      const guess = typeof input === "string" ? closest(input, issue.values.map(String)) : undefined;
      return [
        at(
          "invalid-value",
          `${field} is ${showValue(input)}; allowed: ${allowed}${guess ? `; did you mean ${JSON.stringify(guess)}?` : ""}`,
          {
            found: showValue(input),
            allowed,
            ...(guess ? { hint: `did you mean ${JSON.stringify(guess)}?` } : {}),
          },
        ),
      ];
    }
    case "invalid_key": {
      const inner = issue.issues[0]?.message ?? issue.message;
      const key = path[path.length - 1];
      return [
        at(
          "invalid-key",
          `${field}: the key ${JSON.stringify(key)} is not ${inner}`,
          { found: JSON.stringify(key), allowed: inner },
          "key",
        ),
      ];
    }
    case "custom": {
      const params = issue.params as { code?: string; allowed?: string } | undefined;
      // A refinement's input is the object it checks; the value found is the field it points at.
      if (params?.code)
        return [
          at(params.code, `${field} ${issue.message}`, {
            found: showValue(valueAt(raw, path)),
            ...(params.allowed ? { allowed: params.allowed } : {}),
          }),
        ];
      return [
        at("invalid-value", `${field} is ${showValue(input)}; expected ${issue.message}`, {
          found: showValue(input),
          allowed: issue.message,
        }),
      ];
    }
    default:
      return [at("invalid-value", `${field}: ${issue.message}`, { found: showValue(input) })];
  }
}
