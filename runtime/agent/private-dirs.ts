// The agent's folders and files are root's alone. The kubelet makes a hostPath folder 0755
// before the agent starts, and a folder or database left by an older agent may be wider still:
// so the modes are set, not only asked for at creation, and the umask covers every file made
// later (SQLite's -wal and -shm, the socket before its chmod).
import { chmodSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** The process umask: nothing the agent creates is readable by group or others. */
export const AGENT_UMASK = 0o077;

/** Makes `dir` (and missing parents) or narrows it to 0700, and its plain files to 0600. */
export function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  for (const entry of readdirSync(dir, { withFileTypes: true }))
    if (entry.isFile()) chmodSync(join(dir, entry.name), 0o600);
}
