// Diagnostics as data: how a path and a found value are written in a message, and the one
// stable order every command prints them in.
import { describe, expect, test } from "bun:test";
import { byCodePoint, type Diagnostic, hasErrors, pathText, showValue, sortDiagnostics } from "./diagnostic.ts";

const diag = (file: string, line: number, col: number, code = "c", severity: Diagnostic["severity"] = "error") =>
  ({ file, line, col, length: 1, code, severity, path: [], message: "m" }) as Diagnostic;

describe("pathText", () => {
  test("dotted names, [n] for list items, quoted keys that are not identifiers; the document itself", () => {
    expect(pathText(["spec", "subnets", 1])).toBe("spec.subnets[1]");
    expect(pathText([0, "name"])).toBe("[0].name");
    expect(pathText(["spec", "nodeSelector", "kubernetes.io/os", "_x1"])).toBe(
      'spec.nodeSelector["kubernetes.io/os"]._x1',
    );
    expect(pathText(["spec", "1a"])).toBe('spec["1a"]');
    expect(pathText([])).toBe("(document)");
  });
});

describe("showValue", () => {
  test("strings quoted, lists and mappings described, nothing named, long values cut at 60 characters", () => {
    expect(showValue(undefined)).toBe("nothing");
    expect(showValue(null)).toBe("null");
    expect(showValue("x")).toBe('"x"');
    expect(showValue(3)).toBe("3");
    expect(showValue([])).toBe("an empty list");
    expect(showValue([1, 2])).toBe("a list of 2");
    expect(showValue({ a: 1 })).toBe("a mapping");
    expect(showValue("a".repeat(58))).toBe(`"${"a".repeat(58)}"`); // 60 characters: kept whole
    expect(showValue("a".repeat(59))).toBe(`"${"a".repeat(56)}...`);
  });
});

describe("severity and order", () => {
  test("hasErrors: true only when an error is among them", () => {
    expect(hasErrors([])).toBe(false);
    expect(hasErrors([diag("a", 1, 1, "w", "warning")])).toBe(false);
    expect(hasErrors([diag("a", 1, 1, "w", "warning"), diag("a", 2, 1)])).toBe(true);
  });
  test("by file in code point order, then line, column and code", () => {
    expect([byCodePoint("a", "b"), byCodePoint("b", "a"), byCodePoint("a", "a"), byCodePoint("Z", "a")]).toEqual([
      -1, 1, 0, -1,
    ]);
    const sorted = sortDiagnostics([
      diag("b.yaml", 1, 1),
      diag("a.yaml", 3, 1),
      diag("a.yaml", 2, 9, "y"),
      diag("a.yaml", 2, 9, "x"),
      diag("a.yaml", 2, 4),
      diag("B.yaml", 9, 9),
    ]);
    expect(sorted.map((d) => `${d.file}:${d.line}:${d.col}:${d.code}`)).toEqual([
      "B.yaml:9:9:c",
      "a.yaml:2:4:c",
      "a.yaml:2:9:x",
      "a.yaml:2:9:y",
      "a.yaml:3:1:c",
      "b.yaml:1:1:c",
    ]);
  });
});
