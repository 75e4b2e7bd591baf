// Renders diagnostics the way compilers do:
//   policies/a.yaml:12:7: error[invalid-format]: spec.subnets[1] is "x"; expected a subnet ID ...
//      |
//   12 |     - x
//      |       ^
import type { Diagnostic } from "./diagnostic.ts";

/** `sources` maps a file to its text; without it only the headline is printed. */
export function renderDiagnostic(d: Diagnostic, sources?: ReadonlyMap<string, string>): string {
  const head = `${d.file}:${d.line}:${d.col}: ${d.severity}[${d.code}]: ${d.message}`;
  const line = sources?.get(d.file)?.split("\n")[d.line - 1];
  if (line === undefined) return head;
  const number = String(d.line);
  const pad = " ".repeat(number.length);
  const caret = " ".repeat(Math.max(0, d.col - 1)) + "^".repeat(Math.max(1, d.length));
  return [head, `${pad} |`, `${number} | ${line.replace(/\r$/, "")}`, `${pad} | ${caret}`].join("\n");
}

export function renderDiagnostics(diagnostics: readonly Diagnostic[], sources?: ReadonlyMap<string, string>): string {
  return diagnostics.map((d) => renderDiagnostic(d, sources)).join("\n\n");
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
