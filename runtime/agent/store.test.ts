import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createState, type Decision, type PoolState } from "../pool/index.ts";
import { NodeStore, STORE_VERSION, StoreError } from "./store.ts";

const dirs: string[] = [];
function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), "vpccni-store-"));
  dirs.push(dir);
  return join(dir, "state", "node.db");
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function state(): PoolState {
  return createState({
    settings: {
      minPrebind: 5,
      maxPrebind: 5,
      releaseIntervalMs: 120_000,
      cooldownMs: 30_000,
      subnets: ["subnet-a"],
      floor: 0,
    },
    quota: { enis: 3, ipsPerEni: 10, ipsPerCall: 10 },
    subnets: { "subnet-a": 100 },
  });
}
const bind: Decision = { id: "op-1", action: "bind", eni: "eni-1", count: 5 };

/** When the pool row was last written, read beside the store. */
function poolUpdatedAt(path: string): number {
  const raw = new (require("bun:sqlite").Database)(path, { readonly: true });
  const row = raw.query("SELECT updated_at FROM pool WHERE id = 1").get() as { updated_at: number };
  raw.close();
  return row.updated_at;
}

describe("NodeStore", () => {
  test("a new database is migrated to the current version and holds no pool", () => {
    const store = new NodeStore(tempDb());
    expect(store.version()).toBe(STORE_VERSION);
    expect(store.loadPool()).toBeNull();
    store.close();
  });

  test("fixed IP attachments survive a reopen and are deleted by key", () => {
    const path = tempDb();
    const first = new NodeStore(path);
    const a = {
      key: "vpccni/c1/eth0",
      netns: "/var/run/netns/p1",
      namespace: "default",
      name: "web-0",
      podUid: "uid-1",
      ip: "10.0.1.7",
      eniId: "eni-1",
      createdAt: 5,
    };
    first.putFixedAttachment(a);
    first.putFixedAttachment({ ...a, key: "vpccni/c2/eth0", podUid: null, ip: "10.0.1.8" });
    first.close();
    const second = new NodeStore(path);
    expect(second.fixedAttachment("vpccni/c1/eth0")).toEqual(a);
    expect(second.fixedAttachments().map((x) => [x.key, x.podUid])).toEqual([
      ["vpccni/c1/eth0", "uid-1"],
      ["vpccni/c2/eth0", null],
    ]);
    second.deleteFixedAttachment("vpccni/c1/eth0");
    second.deleteFixedAttachment("vpccni/c1/eth0");
    expect(second.fixedAttachment("vpccni/c1/eth0")).toBeNull();
    expect(second.attachments()).toEqual([]);
    second.close();
  });

  test("state and journal survive a reopen", () => {
    const path = tempDb();
    const first = new NodeStore(path);
    first.commit(state(), { open: [{ id: "op-1", clientToken: "t-1", decision: bind, openedAt: 10 }] });
    first.close();
    const second = new NodeStore(path);
    expect(second.loadPool()).toEqual(state());
    expect(second.openIntents()).toEqual([{ id: "op-1", clientToken: "t-1", decision: bind, openedAt: 10 }]);
    second.commit(state(), { resolve: [{ id: "op-1", outcome: "ok" }] }, 20);
    expect(second.openIntents()).toEqual([]);
    expect(second.recentIntents()[0]).toMatchObject({ id: "op-1", outcome: "ok", resolvedAt: 20 });
    second.close();
  });

  test("a failed transaction changes nothing", () => {
    const store = new NodeStore(tempDb());
    store.commit(state(), { open: [{ id: "op-1", clientToken: "t-1", decision: bind, openedAt: 1 }] });
    const changed = { ...state(), nextOpSeq: 99 };
    // The same client token twice violates UNIQUE: the state update must roll back with it.
    expect(() =>
      store.commit(changed, { open: [{ id: "op-2", clientToken: "t-1", decision: bind, openedAt: 2 }] }),
    ).toThrow();
    expect(store.loadPool()?.nextOpSeq).toBe(1);
    expect(store.openIntents().map((i) => i.id)).toEqual(["op-1"]);
    store.close();
  });

  test("a state equal to the one last committed is not written again; a journal change is", () => {
    const path = tempDb();
    const store = new NodeStore(path);
    const updatedAt = () => poolUpdatedAt(path);
    store.commit(state(), {}, 10);
    store.commit(structuredClone(state()), {}, 20); // the plan pass's equal copy
    expect(updatedAt()).toBe(10);
    store.commit(state(), { open: [{ id: "op-1", clientToken: "t-1", decision: bind, openedAt: 30 }] }, 30);
    expect(updatedAt()).toBe(30);
    expect(store.openIntents().map((i) => i.id)).toEqual(["op-1"]);
    store.commit({ ...state(), nextOpSeq: 7 }, {}, 40);
    expect(updatedAt()).toBe(40);
    expect(store.loadPool()?.nextOpSeq).toBe(7);
    store.close();
  });

  test("pods waiting for an IP are not written: starting to wait costs no sync, and a reopen finds none", () => {
    const path = tempDb();
    const store = new NodeStore(path);
    const updatedAt = () => poolUpdatedAt(path);
    store.commit(state(), {}, 10);
    const waiting = { ...state(), waiting: { "vpccni/c1/eth0": 15 } };
    store.commit(waiting, {}, 20);
    expect(updatedAt()).toBe(10);
    // Written with the next change, still without them; the state in memory keeps them.
    store.commit({ ...waiting, nextOpSeq: 3 }, {}, 30);
    expect(updatedAt()).toBe(30);
    expect(waiting.waiting).toEqual({ "vpccni/c1/eth0": 15 });
    store.close();
    const reopened = new NodeStore(path);
    expect(reopened.loadPool()).toMatchObject({ nextOpSeq: 3, waiting: {} });
    reopened.close();
  });

  test("a state an older agent wrote with waiting pods loads without them: their ADDs ended with it", () => {
    const path = tempDb();
    const store = new NodeStore(path);
    store.commit(state(), {}, 10);
    store.close();
    const raw = new (require("bun:sqlite").Database)(path);
    raw
      .query("UPDATE pool SET state = ? WHERE id = 1")
      .run(JSON.stringify({ ...state(), waiting: { "net/a/eth0": 5 } }));
    raw.close();
    const reopened = new NodeStore(path);
    expect(reopened.loadPool()?.waiting).toEqual({});
    reopened.close();
  });

  test("atomically: a commit and an attachment record are durable together, or not at all", () => {
    const path = tempDb();
    const store = new NodeStore(path);
    store.commit(state(), {}, 1);
    const changed = { ...state(), nextOpSeq: 5 };
    const record = {
      key: "k8s/c1/eth0",
      netns: "/var/run/netns/p1",
      namespace: "default",
      name: "web-1",
      createdAt: 2,
    };
    expect(() =>
      store.atomically(() => {
        store.commit(changed, {}, 2);
        store.putAttachment(record);
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(store.loadPool()?.nextOpSeq).toBe(1);
    expect(store.attachments()).toEqual([]);
    // The rolled-back state is not taken for written: committing it again writes it.
    store.commit(changed, {}, 3);
    expect(store.loadPool()?.nextOpSeq).toBe(5);

    const result = store.atomically(() => {
      store.commit({ ...state(), nextOpSeq: 6 }, {}, 4);
      store.putAttachment(record);
      return "done";
    });
    expect(result).toBe("done");
    store.close();
    const reopened = new NodeStore(path);
    expect(reopened.loadPool()?.nextOpSeq).toBe(6);
    expect(reopened.attachments()).toEqual([record]);
    reopened.close();
  });

  test("a database from a newer agent is refused with the versions named", () => {
    const path = tempDb();
    const store = new NodeStore(path);
    store.close();
    const raw = new (require("bun:sqlite").Database)(path);
    raw.query("UPDATE meta SET value = '99' WHERE key = 'version'").run();
    raw.close();
    expect(() => new NodeStore(path)).toThrow(StoreError);
    expect(() => new NodeStore(path)).toThrow(`store version 99, newer than this agent's ${STORE_VERSION}`);
  });

  test("a version 1 database is migrated to the current version and keeps its pool and journal", () => {
    const path = tempDb();
    mkdirSync(dirname(path), { recursive: true });
    const { Database } = require("bun:sqlite");
    const raw = new Database(path, { create: true });
    // The version 1 tables, exactly as the first agent release created them.
    raw.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    raw.exec(
      "CREATE TABLE pool (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL, updated_at INTEGER NOT NULL)",
    );
    raw.exec(
      "CREATE TABLE journal (id TEXT PRIMARY KEY, client_token TEXT NOT NULL UNIQUE, decision TEXT NOT NULL, opened_at INTEGER NOT NULL, resolved_at INTEGER, outcome TEXT)",
    );
    raw.query("INSERT INTO meta VALUES ('version', '1')").run();
    raw.query("INSERT INTO pool VALUES (1, ?, 1)").run(JSON.stringify(state()));
    raw
      .query("INSERT INTO journal (id, client_token, decision, opened_at) VALUES ('op-1', 't-1', ?, 5)")
      .run(JSON.stringify(bind));
    raw.close();
    const store = new NodeStore(path);
    expect(store.version()).toBe(STORE_VERSION);
    expect(store.loadPool()).toEqual(state());
    expect(store.fixedAttachments()).toEqual([]);
    expect(store.openIntents().map((i) => i.clientToken)).toEqual(["t-1"]);
    store.putAttachment({
      key: "k8s/c1/eth0",
      netns: "/var/run/netns/p1",
      namespace: "default",
      name: "web-1",
      createdAt: 7,
    });
    expect(store.attachments()).toEqual([
      { key: "k8s/c1/eth0", netns: "/var/run/netns/p1", namespace: "default", name: "web-1", createdAt: 7 },
    ]);
    store.close();
  });

  test("kill -9 during a stream of commits leaves a consistent database", async () => {
    const path = tempDb();
    new NodeStore(path).close();
    // A child commits decisions as fast as it can; each commit bumps nextOpSeq and opens one
    // intent in the same transaction. Whenever it dies, the two must still agree.
    const child = Bun.spawn(
      [
        process.execPath,
        "-e",
        `
      const { NodeStore } = await import(${JSON.stringify(join(import.meta.dir, "store.ts"))});
      const { createState } = await import(${JSON.stringify(join(import.meta.dir, "../pool/index.ts"))});
      const store = new NodeStore(${JSON.stringify(path)});
      let s = createState({ settings: { minPrebind: 1, maxPrebind: 1, releaseIntervalMs: 1, cooldownMs: 0, subnets: ["subnet-a"], floor: 0 }, quota: { enis: 1, ipsPerEni: 1, ipsPerCall: 1 }, subnets: { "subnet-a": 1 } });
      for (let i = 1; ; i++) {
        s = { ...s, nextOpSeq: i + 1 };
        store.commit(s, { open: [{ id: "op-" + i, clientToken: "t-" + i, decision: { id: "op-" + i, action: "bind", eni: "eni-1", count: 1 }, openedAt: i }] });
        if (i === 200) console.log("running");
      }
    `,
      ],
      { stdout: "pipe", stderr: "inherit" },
    );
    const reader = child.stdout.getReader();
    await reader.read(); // at least 200 commits happened
    child.kill("SIGKILL");
    await child.exited;
    const store = new NodeStore(path);
    const seq = store.loadPool()?.nextOpSeq ?? 0;
    const intents = store.openIntents();
    expect(seq).toBeGreaterThan(200);
    expect(intents).toHaveLength(seq - 1);
    expect(intents.at(-1)?.id).toBe(`op-${seq - 1}`);
    store.close();
  }, 30_000);
});
