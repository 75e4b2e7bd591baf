// One live line while pods come up: per node pods, bound IPs and ENIs, and the cloud calls
// so far. Rewritten in place on a terminal; a line every few seconds in a log.
import type { PoolView } from "../../runtime/agent/introspect.ts";

export function poolLine(name: string, v: PoolView): string {
  const s = v.summary;
  return `${name}: pods ${s.pods} bound ${s.bound}/${s.maxBindable} idle ${s.idle} ENIs ${s.enis}${s.inflight ? ` (${s.inflight} in flight)` : ""}`;
}

export function apiCalls(stats: Record<string, Record<string, number>>): {
  total: number;
  byAction: [string, number][];
} {
  const byAction = Object.entries(stats)
    .map(([action, codes]) => [action, Object.values(codes).reduce((a, b) => a + b, 0)] as [string, number])
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return { total: byAction.reduce((a, [, n]) => a + n, 0), byAction };
}

export class Progress {
  private readonly tty = process.stdout.isTTY === true;
  private lastPrint = 0;
  private width = 0;

  update(line: string): void {
    if (this.tty) {
      process.stdout.write(`\r${line.padEnd(this.width)}`);
      this.width = line.length;
    } else if (Date.now() - this.lastPrint > 2000) {
      process.stdout.write(`    ${line}\n`);
      this.lastPrint = Date.now();
    }
  }

  done(line: string): void {
    if (this.tty) process.stdout.write(`\r${line.padEnd(this.width)}\n`);
    else process.stdout.write(`    ${line}\n`);
    this.width = 0;
  }
}
