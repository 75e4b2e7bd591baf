// Renders diagnostics the way compilers do:
//   policies/a.yaml:12:7: error[invalid-format]: spec.subnets[1] is "x"; expected a subnet ID ...
//      |
//   12 |     - x
//      |       ^
// A line that holds a secret (Diagnostic.secretAt) is printed with the secret masked, whichever
// diagnostic prints it: logs and CI output are not a place for keys.
import type { Diagnostic } from "./diagnostic.ts";

export const SECRET_MASK = "********";

/** Secret spans by "file:line": `end` undefined means to the end of the line. */
type Masks = ReadonlyMap<string, readonly { col: number; end?: number }[]>;

/** `sources` maps a file to its text; without it only the headline is printed. */
export function renderDiagnostic(d: Diagnostic, sources?: ReadonlyMap<string, string>): string {
  return render(d, sources, secretMasks([d]));
}

export function renderDiagnostics(diagnostics: readonly Diagnostic[], sources?: ReadonlyMap<string, string>): string {
  const masks = secretMasks(diagnostics);
  return diagnostics.map((d) => render(d, sources, masks)).join("\n\n");
}

function secretMasks(diagnostics: readonly Diagnostic[]): Masks {
  const masks = new Map<string, { col: number; end?: number }[]>();
  for (const d of diagnostics) {
    if (d.secretAt === undefined) continue;
    const { line, col, length } = d.secretAt;
    const key = `${d.file}:${line}`;
    masks.set(key, [...(masks.get(key) ?? []), { col, end: length === undefined ? undefined : col + length }]);
  }
  return masks;
}

function render(d: Diagnostic, sources: ReadonlyMap<string, string> | undefined, masks: Masks): string {
  const head = `${d.file}:${d.line}:${d.col}: ${d.severity}[${d.code}]: ${d.message}`;
  const raw = sources?.get(d.file)?.split("\n")[d.line - 1];
  if (raw === undefined) return head;
  const { line, col, length } = masked(raw.replace(/\r$/, ""), masks.get(`${d.file}:${d.line}`) ?? [], d);
  const number = String(d.line);
  const pad = " ".repeat(number.length);
  const caret = " ".repeat(Math.max(0, col - 1)) + "^".repeat(Math.max(1, length));
  return [head, `${pad} |`, `${number} | ${line}`, `${pad} | ${caret}`].join("\n");
}

/**
 * The line with every secret span replaced by SECRET_MASK, and the underline moved with it: a
 * caret after a mask shifts by the difference, one inside a mask underlines the mask.
 */
function masked(
  text: string,
  spans: readonly { col: number; end?: number }[],
  at: { col: number; length: number },
): { line: string; col: number; length: number } {
  // 0-based [start, end) ranges, clamped to the line. A span without an end (the locator found
  // only the key) keeps the key's separator readable and ends after a quoted literal, if the
  // value is one; otherwise it runs to the end of the line.
  const ranges = spans
    .map((s) => {
      let start = Math.min(text.length, s.col - 1);
      if (s.end !== undefined) return { start, end: Math.min(text.length, s.end - 1) };
      start += /^["']?\s*:?\s*/.exec(text.slice(start))?.[0].length ?? 0;
      const literal = /^(["'`])(?:\\.|(?!\1)[^\\])*\1/.exec(text.slice(start))?.[0];
      return { start, end: literal === undefined ? text.length : start + literal.length };
    })
    .filter((r) => r.end > r.start)
    .sort((a, b) => a.start - b.start);
  let line = "";
  let cursor = 0;
  let shift = 0;
  let col = at.col;
  let length = at.length;
  const caret = at.col - 1;
  for (const r of ranges) {
    if (r.start < cursor) continue; // overlapping spans: the first one covers it
    line += text.slice(cursor, r.start) + SECRET_MASK;
    if (caret >= r.end) col = at.col + shift + SECRET_MASK.length - (r.end - r.start);
    else if (caret >= r.start) {
      col = r.start + shift + 1;
      length = SECRET_MASK.length;
    }
    shift += SECRET_MASK.length - (r.end - r.start);
    cursor = r.end;
  }
  return { line: line + text.slice(cursor), col, length };
}

export function summary(diagnostics: readonly Diagnostic[], policies: number, files: number): string {
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.length - errors;
  const counts = [
    `${errors} error${errors === 1 ? "" : "s"}`,
    ...(warnings ? [`${warnings} warning${warnings === 1 ? "" : "s"}`] : []),
  ];
  return `${policies} polic${policies === 1 ? "y" : "ies"} in ${files} file${files === 1 ? "" : "s"}: ${counts.join(", ")}`;
}
