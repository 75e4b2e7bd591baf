// Long-lived child processes (etcd, kube-apiserver) that never outlive the test run.
// Each runs in its own process group under a small bash leash: the leash polls the test
// process and kills the whole group when it is gone, which covers even a SIGKILLed runner.
// Normal paths (stop(), process exit, SIGINT/SIGTERM) kill the group directly.
import { openSync, closeSync } from "node:fs";

export interface ManagedProcess {
  readonly name: string;
  /** Process group id (= the leash's pid). */
  readonly pgid: number;
  readonly log: string;
  /** Resolves with the exit code of the command (not the leash). */
  readonly exited: Promise<number>;
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<number>();
let hooked = false;

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone, which is what we want
  }
}

/** Kills every group still running; synchronous, so it works in an 'exit' handler. */
export function killAllManaged(): void {
  for (const pgid of live) killGroup(pgid, "SIGKILL");
  live.clear();
}

const exitHooks: Array<() => void> = [];

/** Registers cleanup that must also run when the test process exits or is interrupted. */
export function onProcessExit(fn: () => void): void {
  exitHooks.push(fn);
  if (hooked) return;
  hooked = true;
  const runAll = () => {
    for (const hook of exitHooks.splice(0).reverse()) {
      try {
        hook();
      } catch (err) {
        console.error("cleanup at exit failed:", err);
      }
    }
  };
  process.on("exit", runAll);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(sig, () => {
      runAll();
      process.exit(128 + (sig === "SIGINT" ? 2 : sig === "SIGTERM" ? 15 : 1));
    });
  }
}

// $1 = pid to watch; the rest is the command. The exit code of the command is the
// leash's exit code, so `exited` reports the real one; `wait -n` returns as soon as the
// command ends instead of at the next poll.
const LEASH = `
watch=$1; shift
"$@" & child=$!
trap 'kill -TERM $child 2>/dev/null' TERM INT
while kill -0 $child 2>/dev/null; do
  kill -0 $watch 2>/dev/null || kill -KILL 0
  sleep 1 & s=$!
  wait -n $child $s 2>/dev/null
  kill $s 2>/dev/null
done
wait $child
`;

export function spawnManaged(
  name: string,
  cmd: string[],
  opts: { log: string; env?: Record<string, string>; cwd?: string },
): ManagedProcess {
  onProcessExit(killAllManaged);
  const fd = openSync(opts.log, "a");
  let proc;
  try {
    proc = Bun.spawn(["bash", "-c", LEASH, "leash", String(process.pid), ...cmd], {
      stdio: ["ignore", fd, fd],
      env: { ...process.env, ...opts.env },
      cwd: opts.cwd,
      detached: true,
    });
  } finally {
    closeSync(fd);
  }
  const pgid = proc.pid;
  live.add(pgid);
  const exited = proc.exited.then((code) => {
    // the command is gone; make sure nothing else of its group lingers
    killGroup(pgid, "SIGKILL");
    live.delete(pgid);
    return code;
  });
  return {
    name,
    pgid,
    log: opts.log,
    exited,
    async stop(graceMs = 5000) {
      if (!live.has(pgid)) return;
      killGroup(pgid, "SIGTERM");
      const timer = setTimeout(() => killGroup(pgid, "SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
