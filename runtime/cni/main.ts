// The vpccni CNI binary (compiled with `bun build --compile`, see scripts/build-cni.sh).
// Thin on purpose: read stdin and CNI_*, hand them to runCni with the real transport.
import { existsSync, readSync } from "node:fs";
import { agentClient } from "./client.ts";
import { runCni } from "./commands.ts";
import { MAX_STDIN_BYTES } from "./config.ts";
import type { PluginExec } from "./delegate.ts";

/** Reads at most MAX_STDIN_BYTES + 1 bytes, so an endless stdin cannot exhaust memory. */
function readStdin(): string {
  const chunks: Buffer[] = [];
  let total = 0;
  const buf = Buffer.alloc(65536);
  for (;;) {
    let n: number;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EAGAIN") continue;
      if (code === "EOF" || code === "EBADF") break;
      throw err;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
    total += n;
    if (total > MAX_STDIN_BYTES) break;
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * A delegated plugin (mixed mode), as a runtime executes it. spawnSync: from a compiled binary
 * it starts a process faster than Bun.spawn (docs/cni.md). Its stderr goes to ours.
 */
const exec: PluginExec = async (binary, env, stdin, timeoutMs) => {
  const r = Bun.spawnSync([binary], {
    env,
    stdin: Buffer.from(stdin),
    stdout: "pipe",
    stderr: "inherit",
    timeout: timeoutMs,
  });
  return { stdout: r.stdout.toString(), exitCode: r.signalCode ? null : r.exitCode };
};

async function main(): Promise<void> {
  const stdin = process.env.CNI_COMMAND === "VERSION" ? "" : readStdin();
  const out = await runCni(process.env, stdin, { agent: agentClient, exists: existsSync, exec });
  // exit explicitly once stdout is flushed: nothing left open may keep a CNI call hanging
  const exit = () => process.exit(out.exitCode);
  // A delegate's output is passed on exactly as it came.
  const text = out.verbatim ? out.stdout : out.stdout && `${out.stdout}\n`;
  if (text) process.stdout.write(text, exit);
  else exit();
}

main();
