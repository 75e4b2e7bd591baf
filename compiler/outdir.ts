// The output folder as the compiler sees it: which files it owns (header marker), what a new
// compile would change, write them, and remove owned files no longer generated.
import { mkdir, readdir, readFile, rm, writeFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { OWNED_MARKER } from "./render.ts";

export interface OutDirState {
  /** Every .yaml/.yml file directly in the folder, by name. */
  files: Map<string, string>;
}

export interface OutDirDiff {
  /** Generated, absent from the folder. */
  added: string[];
  /** Generated, present with other bytes. */
  changed: string[];
  /** Owned by the compiler, present, no longer generated. */
  stale: string[];
  /** Generated names that are taken by files the compiler does not own: never overwritten. */
  foreign: string[];
  unchanged: string[];
}

export async function readOutDir(dir: string): Promise<OutDirState> {
  const files = new Map<string, string>();
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw error;
  });
  for (const entry of entries) {
    if (!entry.isFile() || !/\.ya?ml$/.test(entry.name)) continue;
    files.set(entry.name, await readFile(join(dir, entry.name), "utf8"));
  }
  return { files };
}

export function isOwned(text: string): boolean {
  return text.startsWith(OWNED_MARKER);
}

export function diffOutDir(generated: ReadonlyMap<string, string>, state: OutDirState): OutDirDiff {
  const diff: OutDirDiff = { added: [], changed: [], stale: [], foreign: [], unchanged: [] };
  for (const [name, text] of generated) {
    const old = state.files.get(name);
    if (old === undefined) diff.added.push(name);
    else if (!isOwned(old)) diff.foreign.push(name);
    else if (old !== text) diff.changed.push(name);
    else diff.unchanged.push(name);
  }
  for (const [name, text] of state.files) if (!generated.has(name) && isOwned(text)) diff.stale.push(name);
  for (const list of Object.values(diff)) list.sort();
  return diff;
}

/** Writes added and changed files (temp file + rename, so a reader never sees half a file), removes stale ones. */
export async function applyOutDir(
  dir: string,
  generated: ReadonlyMap<string, string>,
  diff: OutDirDiff,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const name of [...diff.added, ...diff.changed]) {
    const tmp = join(dir, `.${name}.tmp`);
    await writeFile(tmp, generated.get(name)!);
    await rename(tmp, join(dir, name));
  }
  for (const name of diff.stale) await rm(join(dir, name));
}
