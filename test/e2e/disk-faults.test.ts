// The whole agent on a state disk that fills up and goes read-only. The disk is a 512 KiB
// tmpfs over the node's state folder inside a mount namespace of its own (a holder process
// keeps it alive across agent restarts); the agent runs in it through nsenter, and the host's
// mounts are never touched. Needs root, unshare and nsenter; never skipped.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { EmulatedCluster, type EmulatedNode, waitFor } from "../../sandbox/emulated-cluster.ts";
import { requirePrereq, requireRoot } from "../../sandbox/prereq.ts";
import { type ManagedProcess, spawnManaged } from "../../sandbox/process.ts";

/** A mount namespace with a small tmpfs over `dir`; host mounts (pod netns) still reach it. */
async function smallDisk(dir: string, log: string): Promise<{ pid: number; holder: ManagedProcess }> {
  const pidFile = `${log}.pid`;
  const script = `mount -t tmpfs -o size=512k,mode=0700 vpccni-test "$1" && echo $$ > "$2" && exec sleep infinity`;
  const holder = spawnManaged(
    "state-disk",
    ["unshare", "-m", "--propagation", "slave", "sh", "-c", script, "sh", dir, pidFile],
    { log },
  );
  let pid = 0;
  await waitFor("the state disk's mount namespace", () => {
    pid = Number(readFileSync(pidFile, "utf8").trim() || 0);
    return pid > 0;
  });
  return { pid, holder };
}

describe("agent on a faulty state disk", () => {
  let world: EmulatedCluster;
  let node: EmulatedNode;
  let disk: { pid: number; holder: ManagedProcess };
  const state = () => join(node.dir, "state");
  const inDisk = (script: string) => {
    const r = Bun.spawnSync(["nsenter", "-t", String(disk.pid), "-m", "--", "sh", "-c", script]);
    return { code: r.exitCode, out: `${r.stdout}${r.stderr}` };
  };
  const start = () => node.startAgent({ prefix: ["nsenter", "-t", String(disk.pid), "-m", "--"] });
  const readyz = async () => {
    const res = await fetch(`http://127.0.0.1:${node.listenPort}/readyz`);
    return { status: res.status, body: (await res.text()).trim() };
  };
  const integrity = () =>
    inDisk(
      `"${process.execPath}" -e 'const { Database } = require("bun:sqlite"); console.log(new Database(process.argv[1], { readonly: true }).query("PRAGMA integrity_check").get().integrity_check)' "${join(state(), "node.db")}"`,
    );

  beforeAll(async () => {
    requireRoot();
    for (const bin of ["unshare", "nsenter"])
      requirePrereq(bin, () => Bun.which(bin) !== null || `${bin} is not on PATH`);
    world = await EmulatedCluster.start({
      nodes: 1,
      listen: true,
      spec: { prebind: { min: 2, max: 4 }, releaseInterval: "10m", ipCooldown: "0s" },
    });
    node = world.nodes[0] as EmulatedNode;
    mkdirSync(state(), { recursive: true });
    disk = await smallDisk(state(), join(node.dir, "state-disk.log"));
    await start().catch((e) => {
      console.log(node.agentLog().slice(-3000));
      throw e;
    });
    await waitFor("the agent to be ready", async () => (await readyz()).status === 200, 30_000);
  }, 120_000);
  afterAll(async () => {
    await world?.stop();
    await disk?.holder.stop(1000);
  }, 60_000);

  test("disk full during ADDs: clear error, not ready, no IP without its record; space freed: ready again", async () => {
    for (let i = 0; i < 3; i++) await node.addPod(`a${i}`);
    expect(inDisk(`dd if=/dev/zero of="${state()}/filler" bs=4k 2>/dev/null; true`).code).toBe(0);
    // Add pods until the disk refuses a write (the WAL may have room for a few).
    let refused: { name: string; error: string } | null = null;
    for (let i = 0; i < 40 && refused === null; i++) {
      const name = `f${i}`;
      const pod = await node.newPodNamespace(name);
      await node.addPod(name, pod).catch((e: Error) => {
        refused = { name, error: e.message };
        return node.del(name, pod).catch(() => {});
      });
    }
    const failed = refused as { name: string; error: string } | null;
    expect(failed, "no ADD failed on a full disk").not.toBeNull();
    expect(failed?.error).toContain(`no space left on the device holding ${state()}`);
    const ready = await readyz();
    expect(ready.status).toBe(503);
    expect(ready.body).toBe(
      `the state database ${join(state(), "node.db")} cannot be written: no space left on the device holding ${state()}`,
    );
    const status = await node.execCni("STATUS", "", "", "");
    expect(status.code).not.toBe(0);
    expect(status.stdout).toContain("no space left on the device holding");
    // Another ADD, as a runtime makes it: refused at once, "try again later" with the reason.
    const pod = await node.newPodNamespace("while-full");
    const add = await node.execCni("ADD", pod.path, "whilefull", "K8S_POD_NAMESPACE=default;K8S_POD_NAME=while-full");
    expect(add.code).not.toBe(0);
    const error = JSON.parse(add.stdout) as { code: number; msg: string };
    expect(error.code).toBe(11);
    expect(error.msg).toContain(`no space left on the device holding ${state()}`);
    await node.execCni("DEL", pod.path, "whilefull", "K8S_POD_NAMESPACE=default;K8S_POD_NAME=while-full");
    expect(node.agentLog()).toContain(`"level":"error","msg":"the state database ${join(state(), "node.db")}`);
    expect(integrity().out.trim()).toBe("ok");

    expect(inDisk(`rm "${state()}/filler"`).code).toBe(0);
    await waitFor("the agent to be ready again", async () => (await readyz()).status === 200, 15_000);
    await node.addPod("after");
    await waitFor("the pool to settle", async () => (await node.view()).summary.inflight === 0, 30_000);
    const [view, cloud] = [await node.view(), await node.cloud()];
    // Every pod the runtime has holds its IP, each IP once, and the pool agrees with the cloud.
    expect(view.pods.map((p) => p.ip).sort()).toEqual([...node.pods.values()].map((p) => p.ip).sort());
    expect(new Set(view.pods.map((p) => p.ip)).size).toBe(view.pods.length);
    expect(view.enis.map((e) => e.id).sort()).toEqual(cloud.enis);
    expect(view.summary.bound).toBe(cloud.ips.length);
    expect(integrity().out.trim()).toBe("ok");
  }, 120_000);

  test("restart on a read-only state folder: one clear line and exit; read-write again: the state is intact", async () => {
    const before = await node.view();
    expect(await node.stopAgent()).toBe(0);
    expect(inDisk(`mount -o remount,ro "${state()}"`).code).toBe(0);
    const logBefore = node.agentLog().length;
    await expect(start()).rejects.toThrow(/agent exited with 1/);
    const lines = node.agentLog().slice(logBefore).trim().split("\n");
    const failure = lines.filter((l) => l.includes('"level":"error"'));
    expect(failure).toHaveLength(1);
    expect(failure[0]).toContain(`read-only file system at ${state()}`);
    expect(node.agentLog().slice(logBefore)).not.toMatch(/\n\s+at /);

    expect(inDisk(`mount -o remount,rw "${state()}"`).code).toBe(0);
    expect(integrity().out.trim()).toBe("ok");
    await start();
    await waitFor("the agent to be ready", async () => (await readyz()).status === 200, 30_000);
    const after = await node.view();
    expect(after.pods).toEqual(before.pods);
    const cloud = await node.cloud();
    expect(after.enis.map((e) => e.id).sort()).toEqual(cloud.enis);
    expect(after.summary.bound).toBe(cloud.ips.length);
  }, 120_000);
});
