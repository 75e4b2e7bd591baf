// Loads policies from files and folders: YAML (.yaml/.yml) and TypeScript (.ts whose default
// export comes from definePolicy()). Returns typed policies or diagnostics; never throws for
// bad input, so `vpccni validate` can report every problem of every file at once.
import { readdir, readFile, stat } from "node:fs/promises";
import { extname, join, relative, resolve } from "node:path";
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
      for (const file of await policyFiles(absolute)) await loadFile(file, false, cwd, result);
    } else {
      await loadFile(absolute, true, cwd, result);
    }
  }
  result.diagnostics.push(...crossCheck(result.policies));
  sortDiagnostics(result.diagnostics);
  return result;
}

/** Policy files below a folder, sorted; dependencies and hidden folders are left out. */
async function policyFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries.sort((a, b) => byCodePoint(a.name, b.name))) {
    if (entry.name.startsWith(".")) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory() && !SKIP_DIRS.has(entry.name)) out.push(...(await policyFiles(full)));
    else if (entry.isFile() && (YAML.has(extname(entry.name)) || entry.name.endsWith(".policy.ts"))) out.push(full);
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
