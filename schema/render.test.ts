// The renderer on its own: the excerpt under a headline, secrets masked on any line that holds
// one (whichever diagnostic prints it) with the caret moved to match, and the summary line.
import { describe, expect, test } from "bun:test";
import type { Diagnostic } from "./diagnostic.ts";
import { renderDiagnostic, renderDiagnostics, summary } from "./render.ts";

const diag = (over: Partial<Diagnostic>): Diagnostic => ({
  file: "p.yaml",
  line: 1,
  col: 1,
  length: 1,
  code: "c",
  severity: "error",
  path: [],
  message: "m",
  ...over,
});

const p = new Map([["p.yaml", 'a: 1\r\n  secretKey: "AKIDabc" # x: 2\n  token: AKIDxyz tail\n']]);
const q = new Map([["q.yaml", `"secretKey" : 'AK\\'ID' , "k": "AKID2"`]]);

describe("renderDiagnostic", () => {
  test("the headline alone without the source or past its end; a CR before the newline is not printed", () => {
    expect(renderDiagnostic(diag({}))).toBe("p.yaml:1:1: error[c]: m");
    expect(renderDiagnostic(diag({ line: 9 }), p)).toBe("p.yaml:9:1: error[c]: m");
    expect(renderDiagnostic(diag({ col: 4, severity: "warning" }), p)).toBe(
      "p.yaml:1:4: warning[c]: m\n  |\n1 | a: 1\n  |    ^",
    );
  });
});

describe("secrets", () => {
  test("a caret after a secret moves by the mask's difference in length; one inside it underlines the mask", () => {
    const secret = { line: 2, col: 14, length: 9 }; // "AKIDabc" with its quotes
    expect(renderDiagnostic(diag({ line: 2, col: 26, secretAt: secret }), p)).toBe(
      ["p.yaml:2:26: error[c]: m", "  |", "2 |   secretKey: ******** # x: 2", "  |                         ^"].join(
        "\n",
      ),
    );
    expect(renderDiagnostic(diag({ line: 2, col: 16, length: 3, secretAt: secret }), p)).toBe(
      ["p.yaml:2:16: error[c]: m", "  |", "2 |   secretKey: ******** # x: 2", "  |              ^^^^^^^^"].join("\n"),
    );
  });

  test("a secret located by its key only: a quoted value is masked up to its closing quote, else to the end", () => {
    // col points just past the key: its separator stays readable
    expect(renderDiagnostic(diag({ line: 2, col: 26, secretAt: { line: 2, col: 12 } }), p)).toBe(
      ["p.yaml:2:26: error[c]: m", "  |", "2 |   secretKey: ******** # x: 2", "  |                         ^"].join(
        "\n",
      ),
    );
    expect(renderDiagnostic(diag({ line: 3, col: 16, length: 4, secretAt: { line: 3, col: 8 } }), p)).toBe(
      ["p.yaml:3:16: error[c]: m", "  |", "3 |   token: ********", "  |          ^^^^^^^^"].join("\n"),
    );
    // a quoted key, spaces around the colon, an escaped quote inside the value
    expect(renderDiagnostic(diag({ file: "q.yaml", col: 30, length: 3, secretAt: { line: 1, col: 12 } }), q)).toBe(
      [
        "q.yaml:1:30: error[c]: m",
        "  |",
        `1 | "secretKey" : ******** , "k": "AKID2"`,
        "  |                              ^^^",
      ].join("\n"),
    );
  });

  test("every excerpt of a line masks each secret on it, whichever diagnostic found the secret", () => {
    const first = diag({ file: "q.yaml", col: 30, length: 3, secretAt: { line: 1, col: 12 } });
    const second = diag({ file: "q.yaml", col: 29, length: 3, secretAt: { line: 1, col: 29 } });
    const line = `1 | "secretKey" : ******** , "k": ********`;
    expect(renderDiagnostics([first, second], q)).toBe(
      [
        ["q.yaml:1:30: error[c]: m", "  |", line, "  |                              ^^^"].join("\n"),
        ["q.yaml:1:29: error[c]: m", "  |", line, "  |                             ^^^"].join("\n"),
      ].join("\n\n"),
    );
    // the same secret found twice (overlapping spans) is masked once
    const twice = [diag({ line: 3, col: 10, length: 3 }), diag({ line: 3, secretAt: { line: 3, col: 10, length: 7 } })];
    twice.push(diag({ line: 3, secretAt: { line: 3, col: 12, length: 2 } }));
    expect(renderDiagnostics(twice, p).split("\n")[2]).toBe("3 |   token: ******** tail");
    expect(renderDiagnostics(twice, p).split("\n")[3]).toBe("  |          ^^^^^^^^");
  });
});

describe("summary", () => {
  test("counts policies, files, errors, and warnings when there are any, in singular or plural", () => {
    expect(summary([], 1, 1)).toBe("1 policy in 1 file: 0 errors");
    const warning = diag({ severity: "warning" });
    expect(summary([diag({}), warning, warning], 2, 3)).toBe("2 policies in 3 files: 1 error, 2 warnings");
    expect(summary([diag({}), diag({}), warning], 0, 2)).toBe("0 policies in 2 files: 2 errors, 1 warning");
  });
});
