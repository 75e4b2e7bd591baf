// Cleanup that survives the test process. `bun test` ends without running process 'exit'
// handlers (and a timed-out or SIGKILLed run runs nothing at all), so each test process
// starts one detached janitor: it waits for the process to be gone, then deletes the test-bed
// namespaces and temp directories carrying its pid. Normal teardown (afterAll) does the same
// work earlier; the janitor only finds what was left.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

let started = false;

/** Prefix of temp directories the janitor removes: mkdtemp(join(tmpdir(), tempPrefix("kube"))). */
export function tempPrefix(kind: string): string {
  return `vpccni-${kind}-p${process.pid}-`;
}

/** Prefix of network namespaces the janitor removes (see netns.ts). */
export function netnsPrefix(): string {
  return `vpccni-t${process.pid}x`;
}

const SCRIPT = `
pid=$1 ns_prefix=$2 tmp_glob=$3
while kill -0 "$pid" 2>/dev/null; do sleep 1; done
for ns in $(ip netns list 2>/dev/null | cut -d' ' -f1 | grep "^$ns_prefix"); do
  for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
  ip netns del "$ns" 2>/dev/null
done
# a harness's mounts under its folders (containerd's pod netns, which the host sees) and its
# cgroups (named like its folders): rm cannot remove either
for d in $tmp_glob; do
  awk -v d="$d" '$5 == d || index($5, d "/") == 1 {print $5}' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l
done
for g in /sys/fs/cgroup/*/vpccni-*-p$pid-*; do [ -d "$g" ] && find "$g" -depth -type d -exec rmdir {} + 2>/dev/null; done
rm -rf $tmp_glob
`;

// bun test SIGKILLs the processes a timed-out test spawned, so the janitor is double-forked:
// the process Bun sees exits at once, and the janitor itself runs in a session of its own.
const LAUNCH = `script=$1; shift; setsid bash -c "$script" vpccni-janitor "$@" </dev/null >/dev/null &`;

export function ensureJanitor(): void {
  if (started) return;
  started = true;
  // VPCCNI_JANITOR_LOG=FILE traces what it does (set -x), for debugging cleanup
  const log = process.env.VPCCNI_JANITOR_LOG;
  const script = (log ? "set -x\n" : "") + SCRIPT;
  const launched = Bun.spawnSync(
    [
      "bash",
      "-c",
      LAUNCH,
      "launch",
      script,
      String(process.pid),
      netnsPrefix(),
      `${tmpdir()}/vpccni-*-p${process.pid}-*`,
    ],
    { stdio: ["ignore", "ignore", log ? Bun.file(log) : "ignore"] },
  );
  if (launched.exitCode !== 0)
    throw new Error(`could not start the cleanup janitor (bash exited ${launched.exitCode})`);
}

/**
 * A temp directory the janitor deletes once the test process has ended, however it ended
 * (bun test runs no process 'exit' handlers). Delete it yourself in afterAll as well.
 */
export function makeTempDir(kind: string): string {
  if (!/^[a-z0-9-]+$/.test(kind)) throw new Error(`temp dir kind '${kind}' must match [a-z0-9-]+`);
  ensureJanitor();
  return mkdtempSync(join(tmpdir(), tempPrefix(kind)));
}
