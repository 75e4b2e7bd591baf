// YAML policies: several documents per file, each validated on its own, every diagnostic
// pointing at the line and column the `yaml` package recorded for the node.
import { type Document, isMap, isScalar, isSeq, LineCounter, type Node, parseAllDocuments } from "yaml";
import type { Diagnostic, Location, PathSegment } from "./diagnostic.ts";
import { API_VERSION, KIND, type VpcCniPolicy } from "./policy.ts";
import { type Locate, validatePolicy } from "./validate.ts";

export interface SourcedPolicy {
  policy: VpcCniPolicy;
  file: string;
  /** Where `metadata.name` stands, so that cross-policy diagnostics can point at it. */
  nameAt: Location;
  selectorAt: Location;
}

export interface FileResult {
  policies: SourcedPolicy[];
  diagnostics: Diagnostic[];
}

/**
 * `strict`: every document must be a policy (a file named on the command line).
 * Otherwise documents of other kinds are passed over (a folder that also holds manifests).
 */
export function loadYamlText(text: string, file: string, strict = true): FileResult {
  const lines = new LineCounter();
  const out: FileResult = { policies: [], diagnostics: [] };
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list) {
    const locate = locator(doc, lines, file, text);
    const [syntax] = doc.errors;
    if (syntax !== undefined) {
      // Only the first: the parser's later errors in a document mostly follow from it.
      const [start, end] = syntax.pos;
      out.diagnostics.push({
        ...position(lines, file, text, start, end - start),
        code: "yaml-syntax",
        severity: "error",
        path: [],
        message: syntax.message.split("\n")[0] ?? syntax.message,
      });
      continue;
    }
    // An empty document, e.g. after a leading `---` or one holding only comments.
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) continue;
    let raw: unknown;
    try {
      raw = doc.toJS({ maxAliasCount: 64 });
    } catch (error) {
      out.diagnostics.push({
        ...locate([], "value"),
        code: "yaml-syntax",
        severity: "error",
        path: [],
        message: (error as Error).message,
      });
      continue;
    }
    if (!isPolicyDocument(raw)) {
      if (strict) {
        const kind = (raw as { kind?: unknown } | null)?.kind;
        out.diagnostics.push({
          ...locate(kind === undefined ? [] : ["kind"], "value"),
          code: "not-a-policy",
          severity: "error",
          path: ["kind"],
          message: `this document is not a policy (kind is ${JSON.stringify(kind ?? null)}); allowed: apiVersion: ${API_VERSION} with kind: ${KIND}`,
        });
      }
      continue;
    }
    const result = validatePolicy(raw, locate);
    out.diagnostics.push(...result.diagnostics);
    if (result.policy) {
      out.policies.push({
        policy: result.policy,
        file,
        nameAt: locate(["metadata", "name"], "value"),
        selectorAt: locate(["spec", "nodeSelector"], "key"),
      });
    }
  }
  return out;
}

/** A document is ours when it names our API group or our kind; folders may hold other YAML. */
function isPolicyDocument(raw: unknown): boolean {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return false;
  const { apiVersion, kind } = raw as { apiVersion?: unknown; kind?: unknown };
  return kind === KIND || (typeof apiVersion === "string" && apiVersion.startsWith("vpccni.io/"));
}

function position(lines: LineCounter, file: string, text: string, offset: number, span: number): Location {
  const { line, col } = lines.linePos(Math.min(offset, text.length));
  const lineEnd = text.indexOf("\n", offset);
  const rest = (lineEnd === -1 ? text.length : lineEnd) - offset;
  return { file, line, col, length: Math.max(1, Math.min(span, rest)) };
}

function locator(doc: Document, lines: LineCounter, file: string, text: string): Locate {
  return (path: PathSegment[], part) => {
    let node: unknown = doc.contents;
    let key: Node | undefined;
    let reached = true;
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === segment);
        if (pair === undefined) {
          reached = false;
          break;
        }
        key = pair.key as Node;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === "number" && node.items[segment] !== undefined) {
        node = node.items[segment];
        key = node as Node;
      } else {
        reached = false;
        break;
      }
    }
    // A missing field or a whole block is shown at its key; a value at the value itself.
    const target = !reached || part === "key" || !isScalar(node) ? (key ?? (node as Node | null)) : node;
    const range = (target as Node | null | undefined)?.range;
    if (!range) return position(lines, file, text, 0, 1);
    return position(lines, file, text, range[0], range[1] - range[0]);
  };
}
