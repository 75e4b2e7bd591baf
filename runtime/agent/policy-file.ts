// The agent's policy comes from a ConfigMap mounted as a file. Kubernetes updates such a
// mount by swapping a symlink, so the file is re-read on any change in its folder and on a
// slow poll as a safety net. A new policy that does not validate never replaces a good one.
import { watch, type FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { type Diagnostic, loadYamlText, renderDiagnostics, type VpcCniPolicy } from "../../schema/index.ts";

export type PolicyLoad =
  | { ok: true; policy: VpcCniPolicy; text: string }
  | { ok: false; diagnostics: Diagnostic[]; text: string };

export async function readPolicyFile(path: string): Promise<PolicyLoad> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const message = `${path} cannot be read: ${(error as Error).message}; allowed: a file holding one VpcCniPolicy (the agent's ConfigMap mount)`;
    return {
      ok: false,
      text: "",
      diagnostics: [
        { file: path, line: 1, col: 1, length: 1, code: "file-unreadable", severity: "error", path: [], message },
      ],
    };
  }
  const result = loadYamlText(text, path, true);
  if (result.diagnostics.length > 0) return { ok: false, diagnostics: result.diagnostics, text };
  if (result.policies.length !== 1) {
    const message = `${path} holds ${result.policies.length} policies; allowed: exactly one (the compiler mounts one policy per DaemonSet)`;
    return {
      ok: false,
      text,
      diagnostics: [
        { file: path, line: 1, col: 1, length: 1, code: "policy-count", severity: "error", path: [], message },
      ],
    };
  }
  return { ok: true, policy: (result.policies[0] as { policy: VpcCniPolicy }).policy, text };
}

export function describeRejection(load: Extract<PolicyLoad, { ok: false }>): string {
  return renderDiagnostics(load.diagnostics, new Map([[load.diagnostics[0]?.file ?? "", load.text]]));
}

export interface PolicyWatcherEvents {
  /** A new valid policy whose text differs from the last one applied. */
  onPolicy(policy: VpcCniPolicy): void;
  /** A changed file that does not validate: the previous policy stays in force. */
  onRejected(load: Extract<PolicyLoad, { ok: false }>): void;
}

export class PolicyWatcher {
  private last: string;
  private watcher: FSWatcher | undefined;
  private poll: ReturnType<typeof setInterval> | undefined;
  private reading: Promise<void> = Promise.resolve();

  constructor(
    private readonly path: string,
    initialText: string,
    private readonly events: PolicyWatcherEvents,
    private readonly pollMs = 10_000,
  ) {
    this.last = initialText;
  }

  start(): void {
    const name = basename(this.path);
    try {
      // The folder, not the file: an atomic symlink swap replaces the file under the watcher.
      this.watcher = watch(dirname(this.path), (_event, changed) => {
        if (changed === null || changed === name || changed.startsWith("..")) void this.check();
      });
    } catch {
      // No inotify (some sandboxes): the poll alone still picks changes up.
    }
    this.poll = setInterval(() => void this.check(), this.pollMs);
  }

  /** Re-reads the file now; serialised so that two quick changes are applied in order. */
  check(): Promise<void> {
    this.reading = this.reading.then(async () => {
      const load = await readPolicyFile(this.path);
      if (load.text === this.last) return;
      this.last = load.text;
      if (load.ok) this.events.onPolicy(load.policy);
      else this.events.onRejected(load);
    });
    return this.reading;
  }

  stop(): void {
    this.watcher?.close();
    clearInterval(this.poll);
  }
}
