// Pod GC on real network namespaces: the agent's probe sees a test-bed pod's netns path
// (/var/run/netns/..., as containerd makes them) and a process's /proc/<pid>/ns/net, and the
// pass frees an attachment only once its netns is gone at two looks, never within the grace
// period, never one whose netns still exists. Store, pool and data plane are stand-ins here
// (test/e2e/pod-gc.test.ts runs the real agent).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import type { PoolDriver } from "../../runtime/agent/driver.ts";
import { createLogger } from "../../runtime/agent/log.ts";
import { PodGc, probeNetns } from "../../runtime/agent/pod-gc.ts";
import type { AttachmentRecord, NodeStore } from "../../runtime/agent/store.ts";
import type { DataPlane } from "../../runtime/net/types.ts";
import { createTestBed, type TestBed } from "../../sandbox/test-bed.ts";

let bed: TestBed;

beforeAll(async () => {
  bed = await createTestBed();
}, 30_000);

afterAll(async () => {
  await bed?.destroy();
});

describe("probeNetns", () => {
  test("a runtime's netns path: present, then absent once the runtime removed it", async () => {
    const pod = await bed.addPod({ name: "probe" });
    expect(probeNetns(pod.path)).toBe("present");
    await bed.removePod(pod);
    expect(probeNetns(pod.path)).toBe("absent");
  });

  test("/proc/<pid>/ns/net: present while the process lives, absent once it exited", async () => {
    const pod = await bed.addPod({ name: "procns" });
    const child = spawn("ip", ["netns", "exec", pod.ns, "sleep", "60"], { stdio: "ignore" });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    // `ip netns exec` execs sleep: the pid is the sleeping process in the pod's netns
    const path = `/proc/${child.pid}/ns/net`;
    expect(probeNetns(path)).toBe("present");
    child.kill("SIGKILL");
    await exited;
    expect(probeNetns(path)).toBe("absent");
  });

  test("a folder the agent cannot see (a mount missing) is no judgement", () => {
    expect(probeNetns("/nonexistent-netns-mount/cni-1")).toBe("unknown");
    expect(probeNetns("relative/path")).toBe("unknown");
  });
});

describe("PodGc on real netns paths", () => {
  function world(records: AttachmentRecord[], opts: { failUnwire?: boolean } = {}) {
    let now = 1_000_000;
    const rows = new Map(records.map((r) => [r.key, r]));
    const pods: Record<string, { ip: string }> = Object.fromEntries(
      records.map((r, i) => [r.key, { ip: `10.231.8.${10 + i}` }]),
    );
    const released: string[] = [];
    const unwired: string[] = [];
    const store = {
      attachments: () => [...rows.values()],
      deleteAttachment: (key: string) => rows.delete(key),
      atomically: <T>(fn: () => T) => fn(),
    } as unknown as NodeStore;
    const driver = {
      get state() {
        return { pods };
      },
      release: (key: string) => {
        released.push(key);
        delete pods[key];
        return null;
      },
    } as unknown as PoolDriver;
    const dataPlane = {
      unwirePod: async (ref: { containerId: string }) => {
        if (opts.failUnwire) throw new Error("netlink busy");
        unwired.push(ref.containerId);
      },
    } as unknown as DataPlane;
    const gc = new PodGc({
      store,
      driver,
      dataPlane,
      log: createLogger({ level: "error" }),
      intervalMs: 10_000,
      graceMs: 25_000,
      now: () => now,
    });
    return {
      gc,
      released,
      unwired,
      rows,
      advance: (ms: number) => {
        now += ms;
      },
    };
  }

  test("a pod whose netns the runtime removed is freed at the second look; a live one and a young one stay", async () => {
    const gone = await bed.addPod({ name: "gone" });
    const live = await bed.addPod({ name: "live" });
    const young = await bed.addPod({ name: "young" });
    const w = world([
      { key: "vpccni/gone/eth0", netns: gone.path, namespace: "shop", name: "gone", createdAt: 0 },
      { key: "vpccni/live/eth0", netns: live.path, namespace: "shop", name: "live", createdAt: 0 },
      { key: "vpccni/young/eth0", netns: young.path, namespace: null, name: null, createdAt: 1_000_000 - 5_000 },
    ]);
    expect(await w.gc.collect()).toEqual([]);
    await bed.removePod(gone);
    await bed.removePod(young);
    // first look at the absent netns: a suspect only
    w.advance(10_000);
    expect(await w.gc.collect()).toEqual([]);
    // second look, an interval later: freed, unwired before its IP went back
    w.advance(10_000);
    expect(await w.gc.collect()).toEqual(["vpccni/gone/eth0"]);
    expect(w.unwired).toEqual(["gone"]);
    expect(w.released).toEqual(["vpccni/gone/eth0"]);
    expect([...w.rows.keys()]).toEqual(["vpccni/live/eth0", "vpccni/young/eth0"]);
    // the young one left its grace period (25 s after its ADD) at that look: a suspect then,
    // freed at the next
    w.advance(10_000);
    expect(await w.gc.collect()).toEqual(["vpccni/young/eth0"]);
    expect([...w.rows.keys()]).toEqual(["vpccni/live/eth0"]);
  });

  test("an unwire that fails keeps the IP and the record, and is retried at the next look", async () => {
    const pod = await bed.addPod({ name: "stuck" });
    const w = world([{ key: "vpccni/stuck/eth0", netns: pod.path, namespace: null, name: null, createdAt: 0 }], {
      failUnwire: true,
    });
    await bed.removePod(pod);
    await w.gc.collect();
    w.advance(10_000);
    expect(await w.gc.collect()).toEqual([]);
    expect(w.released).toEqual([]);
    expect(w.rows.size).toBe(1);
  });
});
