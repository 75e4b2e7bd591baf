// The store and the driver on a real disk that fills up and goes read-only. Run by
// store-faults.test.ts as a child process inside a private mount namespace, with `dir` a
// 512 KiB tmpfs of its own; it prints one JSON report and the test checks it.
import { Database } from "bun:sqlite";
import { execFileSync } from "node:child_process";
import { closeSync, openSync, rmSync, truncateSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { OperationResult } from "../pool/index.ts";
import { FakeCloud, makeState } from "../pool/pool-kit.ts";
import { PoolDriver, type AllocateAnswer } from "./driver.ts";
import { silentLogger } from "./log.ts";
import { durable, NodeStore, StoreFaultError } from "./store.ts";

export interface FaultReport {
  /** Per ADD while the disk filled: the IP, or the error. */
  adds: { key: string; ip?: string; error?: string }[];
  /** After the first failed ADD: memory equals what is on disk, and every pod has its record. */
  memoryIsDisk: boolean;
  podsWithoutRecord: string[];
  faultWhileFull: string | null;
  integrityWhileFull: string;
  /** After the filler was removed. */
  faultAfterFree: string | null;
  addAfterFree: string;
  memoryIsDiskAfterFree: boolean;
  /** Reopening on the read-only file system. */
  readOnlyOpen: string;
  /** Reopened read-write: integrity and content against the last committed state. */
  integrityAfter: string;
  contentAfterIsLast: boolean;
}

const integrity = (path: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return (db.query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check;
  } finally {
    db.close();
  }
};

/**
 * Fills the file system with one file but `room` bytes, so that a few writes still fit;
 * returns its path (remove it to free the space).
 */
function fill(dir: string, room: number): string {
  const path = join(dir, "filler");
  const fd = openSync(path, "w");
  const chunk = Buffer.alloc(4096, 1);
  let size = 0;
  try {
    for (;;) size += writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
  } finally {
    closeSync(fd);
  }
  truncateSync(path, Math.max(0, size - room));
  return path;
}

export async function run(dir: string): Promise<FaultReport> {
  const path = join(dir, "state", "node.db");
  const store = new NodeStore(path);
  const cloud = new FakeCloud();
  const executor = {
    execute: async (i: { decision: Parameters<FakeCloud["result"]>[0] }): Promise<OperationResult> =>
      cloud.result(i.decision),
  };
  const state = makeState({ settings: { minPrebind: 4, maxPrebind: 8, cooldownMs: 0 }, quota: { enis: 3 } });
  const driver = new PoolDriver(state, { store, executor, log: silentLogger });
  driver.start();
  await driver.settled();

  // An ADD as cni-api.ts makes it: the IP and its attachment record in one transaction.
  const add = async (key: string): Promise<AllocateAnswer> => {
    const pending = store.atomically(() => {
      const answer = driver.allocate(key, 2000);
      if (driver.state.pods[key])
        store.putAttachment({
          key,
          netns: `/run/netns/${key}`.padEnd(3000, "x"),
          namespace: "default",
          name: key,
          createdAt: 0,
        });
      return answer;
    });
    const answer = await pending;
    if (answer.ok && !store.attachments().some((a) => a.key === key))
      store.putAttachment({ key, netns: `/run/netns/${key}`, namespace: "default", name: key, createdAt: 0 });
    return answer;
  };
  const onDisk = () => JSON.stringify(store.loadPool()) === JSON.stringify(durable(driver.state));
  const unrecorded = () => {
    const records = new Set(store.attachments().map((a) => a.key));
    return Object.keys(driver.state.pods).filter((k) => !records.has(k));
  };

  const filler = fill(dir, 64 * 1024);
  const adds: FaultReport["adds"] = [];
  for (let i = 0; i < 60 && !adds.some((a) => a.error); i++) {
    const key = `net/c${i}/eth0`;
    try {
      const answer = await add(key);
      adds.push(answer.ok ? { key, ip: answer.ip } : { key, error: answer.message });
    } catch (error) {
      if (!(error instanceof StoreFaultError)) throw error;
      adds.push({ key, error: error.message });
    }
  }
  // Plan passes and cloud answers while full change nothing in memory either.
  driver.kick();
  await Bun.sleep(50);
  const memoryIsDisk = onDisk();
  const podsWithoutRecord = unrecorded();
  const faultWhileFull = store.fault?.message ?? null;
  const integrityWhileFull = integrity(path);

  rmSync(filler);
  const faultAfterFree = store.probe()?.message ?? null;
  driver.kick();
  const again = await add("net/after/eth0");
  await driver.settled();
  const memoryIsDiskAfterFree = onDisk() && unrecorded().length === 0;
  const last = JSON.stringify(durable(driver.state));
  await driver.stop();
  store.close();

  execFileSync("mount", ["-o", "remount,ro", dir]);
  let readOnlyOpen = "opened";
  try {
    new NodeStore(path).close();
  } catch (error) {
    readOnlyOpen = `${(error as Error).name}: ${(error as Error).message}`;
  }
  execFileSync("mount", ["-o", "remount,rw", dir]);
  const reopened = new NodeStore(path);
  const contentAfterIsLast = JSON.stringify(reopened.loadPool()) === last;
  reopened.close();
  return {
    adds,
    memoryIsDisk,
    podsWithoutRecord,
    faultWhileFull,
    integrityWhileFull,
    faultAfterFree,
    addAfterFree: again.ok ? again.ip : again.message,
    memoryIsDiskAfterFree,
    readOnlyOpen,
    integrityAfter: integrity(path),
    contentAfterIsLast,
  };
}

if (import.meta.main) {
  const dir = process.argv[2];
  if (!dir) throw new Error("usage: bun store-faults-kit.ts DIR (a small tmpfs of this mount namespace)");
  process.stdout.write(`${JSON.stringify(await run(dir))}\n`);
}
