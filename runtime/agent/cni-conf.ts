// Switching off, the node's CNI folder: vpccni's conflist goes, so the runtime stops calling
// vpccni. In mixed mode install-cni only copied the node's previous configuration (to
// vpccni/delegate.conflist), so that configuration applies again by itself; should it be gone
// from the folder, the kept copy is put back. The kept copy then goes, so a later switch-on
// keeps the node's configuration of that time.
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CONFLIST_FILES, DELEGATE_CONFLIST, DELEGATE_DIR } from "../../schema/cni.ts";

export interface ConfRemoval {
  /** Files and folders removed, relative to the CNI folder. */
  removed: string[];
  /** The file the kept configuration was written back to, or null when none was needed. */
  restored: string | null;
}

const OURS = new Set<string>([CONFLIST_FILES.default, CONFLIST_FILES.mixed]);

/** Top-level CNI configurations that are not vpccni's, in the byte order libcni loads them. */
export function otherConfigs(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((f) => /\.(conf|conflist|json)$/.test(f) && !OURS.has(f) && !f.startsWith("."))
    .filter((f) => {
      try {
        return statSync(join(dir, f)).isFile() && !/"type":\s*"vpccni"/.test(readFileSync(join(dir, f), "utf8"));
      } catch {
        return false;
      }
    })
    .sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : 1));
}

/** Removes vpccni's configuration from the CNI folder `dir`; idempotent. */
export function removeConflist(dir: string): ConfRemoval {
  const removed: string[] = [];
  for (const f of [CONFLIST_FILES.default, CONFLIST_FILES.mixed]) {
    const path = join(dir, f);
    if (!existsSync(path)) continue;
    rmSync(path, { force: true });
    removed.push(f);
  }
  let restored: string | null = null;
  const keptDir = join(dir, DELEGATE_DIR);
  const kept = join(keptDir, DELEGATE_CONFLIST);
  if (existsSync(kept)) {
    if (otherConfigs(dir).length === 0) restored = restore(dir, readFileSync(kept, "utf8"));
    rmSync(keptDir, { recursive: true, force: true });
    removed.push(`${DELEGATE_DIR}/`);
  }
  return { removed, restored };
}

/** The kept configuration, back under a name from its network name (a .conf when it is one plugin). */
function restore(dir: string, text: string): string {
  const json = JSON.parse(text) as { name?: unknown; plugins?: unknown };
  const name = String(json.name ?? "restored").replace(/[^A-Za-z0-9_.-]/g, "-") || "restored";
  const file = `10-${name}.${Array.isArray(json.plugins) ? "conflist" : "conf"}`;
  writeFileSync(join(dir, `.${file}.tmp`), text, { mode: 0o644 });
  renameSync(join(dir, `.${file}.tmp`), join(dir, file));
  return file;
}
