// The containerd harness itself, with the reference plugins (ptp + host-local) instead of vpccni:
// its CRI wires a sandbox in a test-bed node, and nothing of it stays on the host, after stop()
// or after the test process was SIGKILLed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ptpConflist } from "./cnitool.ts";
import {
  type Containerd,
  cniBinFolder,
  containerdConfig,
  requireContainerd,
  startContainerd,
  sweepStaleContainerd,
} from "./containerd.ts";
import { runOk } from "./exec.ts";
import { makeTempDir } from "./janitor.ts";
import { paths } from "./paths.ts";
import { createTestBed, type TestBed } from "./test-bed.ts";

const hostMounts = (dir: string) =>
  readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((m) => m.startsWith(dir));
const cgroupsNamed = (name: string) =>
  readdirSync("/sys/fs/cgroup").filter((h) => existsSync(join("/sys/fs/cgroup", h, name)));
const alive = (pid: number) => existsSync(`/proc/${pid}`);

/** A ptp + host-local conf dir and a bin dir with the reference plugins. */
function referenceCni(dir: string): { cniBinDir: string; cniConfDir: string } {
  const cniConfDir = join(dir, "net.d");
  mkdirSync(cniConfDir, { recursive: true });
  writeFileSync(
    join(cniConfDir, "10-ptp.conflist"),
    JSON.stringify(ptpConflist("ptp", "10.77.0.0/24", join(dir, "ipam"))),
  );
  const cniBinDir = cniBinFolder(
    join(dir, "bin"),
    ["ptp", "host-local", "loopback"].map((p) => join(paths.cniPluginDir, p)),
  );
  return { cniBinDir, cniConfDir };
}

test("the config keeps root, state, socket and CNI folders under the test's own paths", () => {
  const text = containerdConfig({
    root: "/t/root",
    state: "/t/state",
    socket: "/t/c.sock",
    temp: "/t/tmp",
    cniBinDir: "/t/bin",
    cniConfDir: "/t/net.d",
    snapshotter: "native",
  });
  for (const system of ["/var/lib/containerd", "/run/containerd", "/opt/", "/etc/cni"])
    expect(text).not.toContain(system);
  expect(text).toContain('bin_dir = "/t/bin"');
  expect(text).toContain('"io.containerd.internal.v1.opt"');
  expect(text).toContain("SystemdCgroup = false");
});

describe("containerd in a test-bed node", () => {
  let bed: TestBed;
  let dir: string;
  let c: Containerd;
  beforeAll(async () => {
    requireContainerd();
    bed = await createTestBed();
    dir = makeTempDir("cri-self");
    c = await startContainerd({ bed, node: await bed.addNode(), ...referenceCni(dir) });
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
    await bed?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  test("runp: the reference plugins wire the sandbox, reachable from its node", async () => {
    const pod = await c.runPod({ name: "self", namespace: "harness" });
    expect(pod.state).toBe("SANDBOX_READY");
    expect(pod.ip).toMatch(/^10\.77\.0\./);
    await bed.execOk(c.node.ns, ["ping", "-c", "1", "-W", "2", pod.ip]);
    expect((await c.execInPod(pod, ["ip", "-4", "-o", "addr", "show", "dev", "eth0"])).stdout).toContain(pod.ip);
  });

  test("the host sees only the pod netns folder: shim sockets, rootfs and shm stay in the daemon's namespace", async () => {
    // the shims' sockets are hard-coded under /run/containerd/s: a tmpfs only the daemon sees
    const inside = await runOk(["nsenter", "-t", String(c.initPid), "-m", "--", "ls", "/run/containerd/s"]);
    const sockets = inside.split("\n").filter(Boolean);
    expect(sockets.length).toBeGreaterThan(0);
    for (const s of sockets) expect(existsSync(join("/run/containerd/s", s))).toBe(false);
    const netnsDir = join(c.dir, "state", "io.containerd.grpc.v1.cri", "netns");
    expect(hostMounts(c.dir).every((m) => m.startsWith(netnsDir))).toBe(true);
    expect(hostMounts(c.dir).length).toBe(2);
    // libcni's result cache went to the daemon's folder, not /var/lib/cni
    expect(readdirSync(join(c.dir, "cni-cache", "results")).some((f) => f.startsWith("ptp-"))).toBe(true);
  });

  test("stop() removes the sandboxes and leaves no process, mount, cgroup or folder", async () => {
    const init = c.initPid;
    const group = c.cgroup;
    expect(cgroupsNamed(group).length).toBeGreaterThan(0);
    await c.stop();
    expect(alive(init)).toBe(false);
    expect(hostMounts(c.dir)).toEqual([]);
    expect(cgroupsNamed(group)).toEqual([]);
    expect(existsSync(c.dir)).toBe(false);
    // host-local freed the address: the CNI DEL ran
    expect(readdirSync(join(dir, "ipam", "ptp")).filter((f) => /^\d/.test(f))).toEqual([]);
  });
});

test("after a SIGKILLed test process, no daemon, shim or pause survives, and the next start sweeps mounts and cgroups", async () => {
  requireContainerd();
  const dir = makeTempDir("cri-victim");
  try {
    const script = join(dir, "victim.ts");
    await Bun.write(
      script,
      `
      import { createTestBed } from ${JSON.stringify(join(import.meta.dir, "test-bed.ts"))};
      import { startContainerd } from ${JSON.stringify(join(import.meta.dir, "containerd.ts"))};
      const bed = await createTestBed();
      const c = await startContainerd({ bed, node: await bed.addNode(), ...${JSON.stringify(referenceCni(dir))} });
      const pod = await c.runPod({ name: "victim" });
      console.log(JSON.stringify({ dir: c.dir, init: c.initPid, netns: pod.netns, cgroup: c.cgroup }));
      await Bun.sleep(100000);
    `,
    );
    const victim = Bun.spawn([process.execPath, script], { stdout: "pipe", stderr: "inherit" });
    const first = await victim.stdout.getReader().read();
    const v = JSON.parse(new TextDecoder().decode(first.value)) as {
      dir: string;
      init: number;
      netns: string;
      cgroup: string;
    };
    // every process of the daemon's PID namespace: its init's descendants
    const family = descendants(v.init);
    expect(family.length).toBeGreaterThanOrEqual(3); // containerd, shim, pause
    victim.kill("SIGKILL");
    await victim.exited;
    const deadline = Date.now() + 10_000;
    while ([v.init, ...family].some(alive) && Date.now() < deadline) await Bun.sleep(100);
    expect([v.init, ...family].filter(alive)).toEqual([]);
    // the pod netns the host saw and the cgroups: the next start's sweep (or the janitor) removes them
    sweepStaleContainerd();
    const gone = () => hostMounts(v.dir).length === 0 && cgroupsNamed(v.cgroup).length === 0 && !existsSync(v.dir);
    while (!gone() && Date.now() < deadline + 5_000) await Bun.sleep(100);
    expect({ mounts: hostMounts(v.dir), cgroups: cgroupsNamed(v.cgroup), dir: existsSync(v.dir) }).toEqual({
      mounts: [],
      cgroups: [],
      dir: false,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const p of readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      parent.set(Number(p), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const [child, ppid] of parent) if (ppid === pid) out.push(child), walk(child);
  };
  walk(root);
  return out;
}
