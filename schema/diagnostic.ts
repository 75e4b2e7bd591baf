// A diagnostic is data: what is wrong, where, what was found and what is allowed.
// Rendering lives in render.ts so that the CLI, the compiler and tests share one format.
export type Severity = "error" | "warning";

export type PathSegment = string | number;

export interface Location {
  file: string;
  /** 1-based line and column of the first character. */
  line: number;
  col: number;
  /** Characters to underline on that line (at least 1). */
  length: number;
}

export interface Diagnostic extends Location {
  code: string;
  severity: Severity;
  /** The field, as written in the policy: spec.prebind.min, spec.subnets[1]. */
  path: PathSegment[];
  /** One sentence that names the field, the value and what is allowed. */
  message: string;
  /** The offending value as shown to users (secrets redacted), when there is one. */
  found?: string;
  /** What would be valid. */
  allowed?: string;
  hint?: string;
  /**
   * Where a secret sits in the source (inline-credentials): every excerpt of that line prints
   * it masked. Without `length`, from `col` to the end of the line.
   */
  secretAt?: { line: number; col: number; length?: number };
}

export function pathText(path: readonly PathSegment[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out === "" ? "(document)" : out;
}

/** How a value found in a policy is quoted in a message: short, one line. */
export function showValue(value: unknown): string {
  let text: string;
  if (value === undefined) return "nothing";
  if (typeof value === "string") text = JSON.stringify(value);
  else if (Array.isArray(value)) text = value.length === 0 ? "an empty list" : `a list of ${value.length}`;
  else if (value !== null && typeof value === "object") text = "a mapping";
  else text = String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/** Code point order: the same on every machine, whatever its locale. */
export function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Stable order: by file, then position, then code. */
export function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.sort(
    (a, b) => byCodePoint(a.file, b.file) || a.line - b.line || a.col - b.col || byCodePoint(a.code, b.code),
  );
}
