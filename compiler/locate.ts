// Where a field of a loaded policy is written, for compiler diagnostics. The loader hands us
// `nameAt` (metadata.name) and the file's text; the field is searched for within the policy's
// own YAML document (or after its definePolicy call), key by key. A field left to its default
// is not written anywhere: then the nearest written parent, at worst metadata.name, is used.
import type { Location } from "../schema/diagnostic.ts";
import type { SourcedPolicy } from "../schema/index.ts";

export function locateField(
  policy: SourcedPolicy,
  sources: ReadonlyMap<string, string>,
  path: readonly string[],
): Location {
  const text = sources.get(policy.file);
  if (text === undefined) return policy.nameAt;
  const lines = text.split("\n");
  const [start, end] = documentLines(lines, policy.nameAt.line - 1, policy.file.endsWith(".ts"));
  let best: Location = policy.nameAt;
  let from = start;
  for (const key of path) {
    const pattern = new RegExp(`^(\\s*(?:-\\s+)?)["']?${key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}["']?\\s*:`);
    let found = -1;
    for (let i = from; i < end; i++) {
      const match = pattern.exec(lines[i] ?? "") ?? embedded(lines[i] ?? "", key);
      if (match) {
        found = i;
        best = { file: policy.file, line: i + 1, col: match[1]!.length + 1, length: key.length };
        break;
      }
    }
    if (found === -1) break;
    from = found + 1;
  }
  return best;
}

/** `spec: { ipMode: "fixed" }` on one line (TypeScript policies). */
function embedded(line: string, key: string): RegExpExecArray | null {
  const at = line.search(new RegExp(`[{,]\\s*["']?${key}["']?\\s*:`));
  if (at === -1) return null;
  const col = line.indexOf(key, at);
  const m = [key, line.slice(0, col)] as unknown as RegExpExecArray;
  return m;
}

/**
 * The lines of the policy holding `line`: its YAML document (between `---` markers), or in
 * TypeScript from its definePolicy( call to the next one.
 */
function documentLines(lines: string[], line: number, ts: boolean): [number, number] {
  const boundary = ts ? /definePolicy\s*\(/ : /^---/;
  let start = line;
  while (start > 0 && !boundary.test(lines[start - (ts ? 0 : 1)] ?? "")) start--;
  let end = line + 1;
  while (end < lines.length && !boundary.test(lines[end] ?? "")) end++;
  return [start, end];
}
