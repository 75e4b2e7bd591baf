// The words a disk fault is reported in, and what the agent answers while it lasts: the store
// in memory with a write that fails as SQLite fails on a full or read-only disk.
import { describe, expect, test } from "bun:test";
import { CniCode, CniError, type CniAgentApi } from "../cni/protocol.ts";
import { makeState } from "../pool/pool-kit.ts";
import { createLogger } from "./log.ts";
import { NodeStore, StoreFaultError } from "./store.ts";
import { diskFault } from "./store-fault.ts";
import { StoreHealth } from "./store-health.ts";

const sqliteError = (code: string) => Object.assign(new Error("database or disk is full"), { code });

describe("diskFault", () => {
  test("names the database and the cause of each disk fault; other errors are not the disk's", () => {
    const path = "/nonexistent-vpccni/state/node.db";
    expect(diskFault(sqliteError("SQLITE_FULL"), path)?.message).toBe(
      "the state database /nonexistent-vpccni/state/node.db cannot be written: no space left on the device holding /nonexistent-vpccni/state",
    );
    expect(diskFault(sqliteError("EROFS"), path)?.cause).toBe("read-only file system at /nonexistent-vpccni/state");
    // The folder is gone: that is why SQLite could not open or write.
    expect(diskFault(sqliteError("SQLITE_CANTOPEN"), path)?.cause).toBe("/nonexistent-vpccni/state does not exist");
    expect(diskFault(sqliteError("SQLITE_IOERR_WRITE"), "/tmp/node.db")?.cause).toBe(
      "I/O error on the device holding /tmp (SQLITE_IOERR_WRITE)",
    );
    expect(diskFault(sqliteError("SQLITE_CONSTRAINT"), path)).toBeNull();
    expect(diskFault(new Error("bug"), path)).toBeNull();
  });
});

/** A store whose writes fail with `code` while `failing` holds. */
function faultyStore(): { store: NodeStore; fail: (code: string | null) => void } {
  const store = new NodeStore(":memory:");
  let code: string | null = null;
  const commit = store.commit.bind(store);
  store.commit = (...args) => {
    // through the store's own handling, as a failing SQLite statement would go
    (store as unknown as { write: (fn: () => void) => void }).write(() => {
      if (code !== null) throw sqliteError(code);
      commit(...args);
    });
  };
  return { store, fail: (c) => (code = c) };
}

describe("StoreHealth", () => {
  const api: CniAgentApi = {
    add: async () => ({ ip: "10.0.0.9", prefixLength: 32, gateway: "169.254.1.1" }) as never,
    del: async () => ({}),
    check: async () => ({ ok: true }),
    gc: async () => ({ released: [] }),
    status: async () => ({ ready: true, idleIps: 3 }),
    owner: async () => ({ owner: "vpccni", reason: "" }),
  };

  test("a failed write: one error line, not ready with the reason, ADD refused with 11; a write that works: ready", async () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) });
    const { store, fail } = faultyStore();
    let recovered = 0;
    const health = new StoreHealth({ store, log, onRecovered: () => recovered++, retryMs: 10 });
    const guarded = health.guard(api);
    fail("SQLITE_FULL");
    expect(() => store.commit(makeState())).toThrow(StoreFaultError);
    expect(() => store.commit(makeState())).toThrow(StoreFaultError);
    expect(lines.filter((l) => l.includes('"level":"error"'))).toHaveLength(1);
    expect(lines[0]).toContain("the state database :memory: cannot be written: no space left on the device holding");
    const reason = health.reason() as string;
    expect(reason).toContain("no space left");
    expect(await guarded.status({ network: "n" })).toEqual({ ready: false, idleIps: 0, message: reason });
    const refused = await guarded
      .add({ network: "n", containerId: "c", ifname: "eth0", netns: "/x", podNamespace: "a", podName: "b" } as never)
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CniError);
    expect((refused as CniError).code).toBe(CniCode.TryAgainLater);
    expect((refused as CniError).message).toBe(`no IP for a/b: ${reason}; try again later`);
    fail(null);
    await Bun.sleep(50); // the retry's probe writes
    expect(health.reason()).toBeNull();
    expect(recovered).toBe(1);
    expect((await guarded.status({ network: "n" })).ready).toBe(true);
    health.stop();
    store.close();
  });
});
