// TypeScript policies: a module whose default export is a policy (or a list of them) built
// with definePolicy(). The module is evaluated by Bun; positions come from its source text.
import { pathToFileURL } from "node:url";
import type { Diagnostic, Location, PathSegment } from "./diagnostic.ts";
import * as publicEntry from "./public.ts";
import { validatePolicy } from "./validate.ts";
import type { FileResult } from "./yaml-source.ts";

export async function loadTsFile(absolute: string, file: string, text: string): Promise<FileResult> {
  const out: FileResult = { policies: [], diagnostics: [] };
  const exportAt = textLocator(text, file)([], "value");
  let exported: unknown;
  answerVpccniImports();
  try {
    exported = ((await import(pathToFileURL(absolute).href)) as { default?: unknown }).default;
  } catch (error) {
    out.diagnostics.push({
      ...exportAt,
      code: "ts-load-failed",
      severity: "error",
      path: [],
      message: `the module failed to load: ${(error as Error).message}`,
    });
    return out;
  }
  if (exported === undefined) {
    out.diagnostics.push({
      ...exportAt,
      code: "ts-no-default-export",
      severity: "error",
      path: [],
      message: "the module has no default export; allowed: export default definePolicy({...}) or a list of them",
    });
    return out;
  }
  const items = Array.isArray(exported) ? exported : [exported];
  for (const [index, item] of items.entries()) {
    const locate = textLocator(text, file, Array.isArray(exported) ? index : undefined);
    const result = validatePolicy(item, locate);
    out.diagnostics.push(...result.diagnostics);
    if (result.policy)
      out.policies.push({
        policy: result.policy,
        file,
        nameAt: locate(["metadata", "name"], "value"),
        selectorAt: locate(["spec", "nodeSelector"], "key"),
      });
  }
  return out;
}

let answering = false;

/**
 * A policy imports `definePolicy` from "vpccni". The running vpccni answers that import with
 * its own public entry, so a policy loads the same way from the npm package, from a checkout
 * and from the compiled binary, which has no node_modules to find "vpccni" in. Every other
 * import of the policy resolves from the policy's own repository and its node_modules.
 */
function answerVpccniImports(): void {
  if (answering) return;
  answering = true;
  Bun.plugin({
    name: "vpccni public entry",
    setup(build) {
      build.module("vpccni", () => ({ exports: { ...publicEntry }, loader: "object" }));
    },
  });
}

/**
 * Without a syntax tree, a field is found by looking for its keys in order after the default
 * export (and after the n-th `definePolicy(` for lists). Good enough to land on the right line.
 */
function textLocator(
  text: string,
  file: string,
  index?: number,
): (path: PathSegment[], part: "key" | "value") => Location {
  return (path) => {
    let offset = Math.max(0, text.search(/export\s+default/));
    if (index !== undefined) {
      const calls = [...text.matchAll(/definePolicy\s*\(/g)];
      offset = calls[index]?.index ?? offset;
    }
    let length = 1;
    for (const segment of path) {
      if (typeof segment === "number") continue;
      const pattern = new RegExp(`["']?\\b${segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b["']?\\s*:`, "g");
      pattern.lastIndex = offset;
      const match = pattern.exec(text);
      if (match === null) break;
      offset = match.index;
      length = segment.length;
    }
    const before = text.slice(0, offset);
    const line = before.split("\n").length;
    const col = offset - before.lastIndexOf("\n");
    return { file, line, col, length };
  };
}

export type { Diagnostic };
