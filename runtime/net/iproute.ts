// iproute2 in one namespace: single commands, JSON reads and batches. A batch is one
// process for many changes, which is where the speed of this data plane comes from.
import { exec, execOk } from "./exec.ts";
import { ipPrefix, type NetnsTarget } from "./netns.ts";

export class Ip {
  constructor(readonly target: NetnsTarget) {}

  run(...args: string[]): Promise<string> {
    return execOk([...ipPrefix(this.target), ...args]);
  }

  /** Runs `lines` as `ip -batch -`; the first failing line fails the whole call. */
  async batch(lines: string[]): Promise<void> {
    if (lines.length === 0) return;
    await execOk([...ipPrefix(this.target), "-batch", "-"], lines.join("\n") + "\n");
  }

  /** Like batch, but carries on past failing lines (used to remove what may be gone). */
  async batchForce(lines: string[]): Promise<void> {
    if (lines.length === 0) return;
    // errors are expected here (already deleted); the exit status is ignored on purpose
    await exec([...ipPrefix(this.target), "-force", "-batch", "-"], lines.join("\n") + "\n");
  }

  /** Several `show` commands in one process; each prints one JSON array on its own line. */
  async jsonBatch<T extends unknown[]>(commands: string[]): Promise<T> {
    const text = await execOk([...ipPrefix(this.target), "-json", "-batch", "-"], commands.join("\n") + "\n");
    const lines = text.split("\n").filter((l) => l.trim() !== "");
    if (lines.length !== commands.length) {
      throw new Error(`ip -json -batch answered ${lines.length} documents for ${commands.length} commands: ${text.slice(0, 300)}`);
    }
    return lines.map((l) => JSON.parse(l)) as T;
  }
}

export interface LinkJson {
  ifindex: number;
  ifname: string;
  address?: string;
  flags?: string[];
  operstate?: string;
  ifalias?: string;
  link_type?: string;
}

export interface RouteJson {
  dst: string;
  gateway?: string;
  dev?: string;
  table?: string | number;
  scope?: string;
  type?: string;
}

export interface RuleJson {
  priority: number;
  src?: string;
  srclen?: number;
  dst?: string;
  dstlen?: number;
  table: string | number;
}

/** `ip -json` prints table names for well-known tables and numbers otherwise. */
export function tableOf(t: string | number | undefined): string {
  return t === undefined ? "main" : String(t);
}
