// iproute2 in one namespace: single commands, JSON reads and batches. A batch is one
// process for many changes, which is where the speed of this data plane comes from.
import { exec, execOk, NetCommandError } from "./exec.ts";
import { ipPrefix, type NetnsTarget } from "./netns.ts";

/** Control characters: NUL, CR, LF and the rest below 0x20, and DEL. */
const CONTROL = /[\u0000-\u001f\u007f]/;

export class UnsafeBatchLineError extends Error {
  override name = "UnsafeBatchLineError";
  constructor(
    readonly index: number,
    readonly line: string,
  ) {
    const shown = JSON.stringify(line);
    super(
      `line ${index + 1} of an ip -batch input holds a control character: ${shown.length > 200 ? `${shown.slice(0, 197)}...` : shown}; allowed: printable characters only (a newline would start another command, and ip -batch runs programs with netns exec); nothing of the batch was run`,
    );
  }
}

/**
 * The stdin of `ip -batch -`, one command per line. Values in the lines come from the cloud and
 * the CNI runtime; a line that could split into more commands refuses the whole batch.
 */
export function batchInput(lines: readonly string[]): string {
  lines.forEach((line, i) => {
    if (CONTROL.test(line)) throw new UnsafeBatchLineError(i, line);
  });
  return `${lines.join("\n")}\n`;
}

export class Ip {
  constructor(readonly target: NetnsTarget) {}

  run(...args: string[]): Promise<string> {
    return execOk([...ipPrefix(this.target), ...args]);
  }

  /** Runs `lines` as `ip -batch -`; the first failing line fails the whole call. */
  async batch(lines: string[]): Promise<void> {
    if (lines.length === 0) return;
    const input = batchInput(lines);
    await execOk([...ipPrefix(this.target), "-batch", "-"], input);
  }

  /** Like batch, but carries on past failing lines (used to remove what may be gone). */
  async batchForce(lines: string[]): Promise<void> {
    if (lines.length === 0) return;
    // errors are expected here (already deleted); the exit status is ignored on purpose
    const input = batchInput(lines);
    await exec([...ipPrefix(this.target), "-force", "-batch", "-"], input);
  }

  /** Several `show` commands in one process; each prints one JSON array on its own line. */
  async jsonBatch<T extends unknown[]>(commands: string[]): Promise<T> {
    const text = await execOk([...ipPrefix(this.target), "-json", "-batch", "-"], batchInput(commands));
    const lines = text.split("\n").filter((l) => l.trim() !== "");
    if (lines.length !== commands.length) {
      throw new Error(
        `ip -json -batch answered ${lines.length} documents for ${commands.length} commands: ${text.slice(0, 300)}`,
      );
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
