// Loads policies from files and folders: YAML (.yaml/.yml) and TypeScript (.ts whose default
// export comes from definePolicy()). Returns typed policies or diagnostics; never throws for
// bad input, so `vpccni validate` can report every problem of every file at once.
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, extname, join, relative, resolve } from "node:path";
import { crossCheck } from "./cross.ts";
import { byCodePoint, type Diagnostic, sortDiagnostics } from "./diagnostic.ts";
import { loadTsFile } from "./ts-source.ts";
import { type FileResult, loadYamlText, type SourcedPolicy } from "./yaml-source.ts";

export interface LoadResult {
  policies: SourcedPolicy[];
  diagnostics: Diagnostic[];
  /** Files read, as shown in diagnostics (relative to cwd), with their text for rendering. */
  sources: Map<string, string>;
}

const YAML = new Set([".yaml", ".yml"]);
const SKIP_DIRS = new Set(["node_modules"]);
/** Guards against a policy folder that is not one (a home directory, a huge tree). */
const MAX_FILE_BYTES = 1 << 20;

export async function loadPolicies(paths: readonly string[], cwd = process.cwd()): Promise<LoadResult> {
  const result: LoadResult = { policies: [], diagnostics: [], sources: new Map() };
  for (const path of paths) {
    const absolute = resolve(cwd, path);
    const info = await stat(absolute).catch(() => undefined);
    if (info === undefined) {
      result.diagnostics.push(
        fileProblem(
          path,
          "file-not-found",
          `${path} does not exist; allowed: a policy file (.yaml, .yml, .ts) or a folder of them`,
        ),
      );
    } else if (info.isDirectory()) {
      const skipped: string[] = [];
      for (const file of await policyFiles(absolute, skipped)) await loadFile(file, false, cwd, result);
      for (const file of await looksLikePolicies(skipped)) {
        const name = relative(cwd, file) || file;
        result.diagnostics.push({
          ...fileProblem(
            name,
            "not-a-policy-file",
            `${name} is TypeScript but not named *.policy.ts, so it is not loaded as a policy; allowed: rename it to ${basename(name, ".ts")}.policy.ts`,
          ),
          severity: "warning",
        });
      }
    } else {
      await loadFile(absolute, true, cwd, result);
    }
  }
  result.diagnostics.push(...crossCheck(result.policies));
  sortDiagnostics(result.diagnostics);
  return result;
}

/**
 * Policy files below a folder, sorted; dependencies and hidden folders are left out. Other
 * TypeScript files (not *.policy.ts, not declarations) go to `skipped`, to be reported.
 */
async function policyFiles(dir: string, skipped: string[]): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries.sort((a, b) => byCodePoint(a.name, b.name))) {
    if (entry.name.startsWith(".")) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory() && !SKIP_DIRS.has(entry.name)) out.push(...(await policyFiles(full, skipped)));
    else if (entry.isFile() && (YAML.has(extname(entry.name)) || entry.name.endsWith(".policy.ts"))) out.push(full);
    else if (entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) skipped.push(full);
  }
  return out;
}

async function loadFile(absolute: string, explicit: boolean, cwd: string, result: LoadResult): Promise<void> {
  const file = relative(cwd, absolute) || absolute;
  const ext = extname(absolute);
  if (!YAML.has(ext) && ext !== ".ts") {
    result.diagnostics.push(
      fileProblem(
        file,
        "unsupported-file",
        `${file} is neither YAML nor TypeScript; allowed: .yaml, .yml or .ts files`,
      ),
    );
    return;
  }
  const size = (await stat(absolute)).size;
  if (size > MAX_FILE_BYTES) {
    result.diagnostics.push(
      fileProblem(
        file,
        "file-too-large",
        `${file} has ${size} bytes; allowed: at most ${MAX_FILE_BYTES} bytes per policy file`,
      ),
    );
    return;
  }
  let text: string;
  try {
    text = await readFile(absolute, "utf8");
  } catch (error) {
    result.diagnostics.push(
      fileProblem(file, "file-unreadable", `${file} cannot be read: ${(error as Error).message}`),
    );
    return;
  }
  result.sources.set(file, text);
  const loaded: FileResult =
    ext === ".ts" ? await loadTsFile(absolute, file, text) : loadYamlText(text, file, explicit);
  result.policies.push(...loaded.policies);
  result.diagnostics.push(...loaded.diagnostics);
}

function fileProblem(file: string, code: string, message: string): Diagnostic {
  return { file, line: 1, col: 1, length: 1, code, severity: "error", path: [], message };
}

/** The skipped TypeScript files that look like policies (they name definePolicy or vpccni). */
async function looksLikePolicies(files: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const file of files) {
    if ((await stat(file)).size > MAX_FILE_BYTES) continue;
    if (/\bdefinePolicy\b|\bVpcCniPolicy\b|from\s+["']vpccni["']/.test(await readFile(file, "utf8"))) out.push(file);
  }
  return out;
}

/** What validate and plan say when the paths hold no policy at all. */
export function noPolicyFound(paths: readonly string[]): Diagnostic {
  return {
    file: paths[0] ?? ".",
    line: 1,
    col: 1,
    length: 1,
    code: "no-policies",
    severity: "error",
    path: [],
    message: `no policy found in ${paths.join(", ")}; allowed: YAML files (.yaml, .yml) or *.policy.ts files holding a VpcCniPolicy, or folders of them`,
  };
}
