// The node's durable state: the pool engine's state and the intent journal of cloud
// mutations, in one SQLite database (WAL), plus a few facts in `meta` (sysctls changed, the
// switch-off's progress) and, in fixed IP mode, the attachments wired with a claimed address.
// Every decision is one transaction, so a crash at
// any point leaves either the state before the decision or the state after it, never half.
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { SysctlChange } from "../net/types.ts";
import { type Decision, POOL_STATE_VERSION, type PoolState } from "../pool/index.ts";
import { diskFault, type StoreFault } from "./store-fault.ts";

/** Stamped into the database; bump it and add a step to MIGRATIONS when the tables change. */
export const STORE_VERSION = 3;

const MIGRATIONS: string[][] = [
  [], // version 0: empty database
  [
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE pool (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL, updated_at INTEGER NOT NULL)",
    `CREATE TABLE journal (
       id TEXT PRIMARY KEY,
       client_token TEXT NOT NULL UNIQUE,
       decision TEXT NOT NULL,
       opened_at INTEGER NOT NULL,
       resolved_at INTEGER,
       outcome TEXT
     )`,
    "CREATE INDEX journal_open ON journal (resolved_at) WHERE resolved_at IS NULL",
  ],
  [
    // version 2: which Kubernetes pod and netns an attachment belongs to, so that IPs of pods
    // that are gone can be freed and the data plane re-wired after a restart.
    `CREATE TABLE attachments (
       key TEXT PRIMARY KEY,
       netns TEXT NOT NULL,
       namespace TEXT,
       name TEXT,
       created_at INTEGER NOT NULL
     )`,
  ],
  [
    // version 3: fixed IP mode's attachments. The cluster controller owns the address; the
    // node records which address and ENI it wired for each attachment, so that DEL, CHECK
    // and GC work without asking anyone (and after a restart). Empty on a shared-mode node.
    `CREATE TABLE fixed_attachments (
       key TEXT PRIMARY KEY,
       netns TEXT NOT NULL,
       namespace TEXT NOT NULL,
       name TEXT NOT NULL,
       pod_uid TEXT,
       ip TEXT NOT NULL,
       eni_id TEXT NOT NULL,
       created_at INTEGER NOT NULL
     )`,
  ],
];

const SYSCTLS_KEY = "sysctls";

/** A CNI attachment as the agent recorded it at ADD. */
export interface AttachmentRecord {
  key: string;
  netns: string;
  namespace: string | null;
  name: string | null;
  createdAt: number;
}

/** Fixed IP mode: an attachment wired with the address its pod's claim holds (fixed-cni-api.ts). */
export interface FixedAttachmentRecord {
  key: string;
  netns: string;
  namespace: string;
  name: string;
  podUid: string | null;
  ip: string;
  eniId: string;
  createdAt: number;
}

/** A cloud mutation the agent decided on: written before the call, resolved after it. */
export interface Intent {
  id: string;
  /** Sent as ClientToken so that a retried or replayed call cannot happen twice. */
  clientToken: string;
  decision: Decision;
  openedAt: number;
}

export interface Resolution {
  id: string;
  /** What happened, for the record: "ok", an error kind, or "recovered" after a restart. */
  outcome: string;
}

export class StoreError extends Error {}

/** A write failed because of the disk (store-fault.ts); nothing of it was kept. */
export class StoreFaultError extends StoreError {
  override name = "StoreFaultError";
  constructor(readonly fault: StoreFault) {
    super(fault.message);
  }
}

export class NodeStore {
  readonly path: string;
  private readonly db: Database;
  /** The pool state as last committed (JSON), so that an equal one is not written again. */
  private written: string | undefined;
  /** The disk fault of the last write that failed; null once a write worked again. */
  private lastFault: StoreFault | null = null;
  private readonly faultListeners: ((fault: StoreFault | null) => void)[] = [];
  /** How deep in atomically() we are, and what to undo in memory if it rolls back. */
  private depth = 0;
  private readonly undo: (() => void)[] = [];

  constructor(path: string) {
    this.path = path;
    try {
      if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      this.db = new Database(path, { create: true, strict: true });
      this.db.exec("PRAGMA journal_mode = WAL");
      // FULL: a committed decision survives a power loss, not only a process crash.
      this.db.exec("PRAGMA synchronous = FULL");
      this.db.exec("PRAGMA busy_timeout = 5000");
      this.migrate();
    } catch (error) {
      const fault = diskFault(error, path);
      throw fault ? new StoreFaultError(fault) : error;
    }
  }

  /** Why the last write failed, while the disk has not taken one since; else null. */
  get fault(): StoreFault | null {
    return this.lastFault;
  }

  /** Called when a write fails for the disk (with the fault) and when one works again (null). */
  onFaultChange(listener: (fault: StoreFault | null) => void): void {
    this.faultListeners.push(listener);
  }

  /**
   * Inside atomically(): `fn` runs if the transaction rolls back, so that what the caller
   * changed in memory goes back with it (the driver's pool state). Outside, nothing to undo.
   */
  onRollback(fn: () => void): void {
    if (this.depth > 0) this.undo.push(fn);
  }

  /**
   * A write that changes nothing, to learn whether the disk takes writes again. Returns the
   * fault, or null when it worked (and then the fault is cleared).
   */
  probe(): StoreFault | null {
    try {
      this.write(() =>
        this.db.transaction(() => {
          this.db.query("INSERT OR REPLACE INTO meta (key, value) VALUES ('probe', '')").run();
          this.db.query("DELETE FROM meta WHERE key = 'probe'").run();
        })(),
      );
      return null;
    } catch (error) {
      if (error instanceof StoreFaultError) return error.fault;
      throw error;
    }
  }

  /**
   * Every write goes through here: a disk fault becomes a StoreFaultError, with the
   * transaction rolled back, and is reported once; the first write that works clears it.
   */
  private write<T>(fn: () => T): T {
    let result: T;
    try {
      result = fn();
    } catch (error) {
      if (error instanceof StoreFaultError) throw error;
      const fault = diskFault(error, this.path);
      if (!fault) throw error;
      this.written = undefined;
      // SQLite may leave a transaction open after SQLITE_FULL or an I/O error; end it.
      if (this.depth === 0 && this.db.inTransaction) this.db.exec("ROLLBACK");
      const changed = this.lastFault?.message !== fault.message;
      this.lastFault = fault;
      if (changed) for (const l of this.faultListeners) l(fault);
      throw new StoreFaultError(fault);
    }
    if (this.depth === 0 && this.lastFault !== null) {
      this.lastFault = null;
      for (const l of this.faultListeners) l(null);
    }
    return result;
  }

  private migrate(): void {
    const current = this.version();
    if (current > STORE_VERSION) {
      throw new StoreError(
        `${this.path} has store version ${current}, newer than this agent's ${STORE_VERSION}; allowed: ${STORE_VERSION} or older (roll the agent forward, or move the file aside)`,
      );
    }
    for (let v = current + 1; v <= STORE_VERSION; v++) {
      this.db.transaction(() => {
        for (const statement of MIGRATIONS[v] ?? []) this.db.exec(statement);
        this.db.query("INSERT OR REPLACE INTO meta (key, value) VALUES ('version', ?)").run(String(v));
      })();
    }
  }

  version(): number {
    const table = this.db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
    if (table === null) return 0;
    const row = this.db.query<{ value: string }, []>("SELECT value FROM meta WHERE key = 'version'").get();
    return row === null ? 0 : Number(row.value);
  }

  loadPool(): PoolState | null {
    const row = this.db.query<{ state: string }, []>("SELECT state FROM pool WHERE id = 1").get();
    if (row === null) return null;
    const state = JSON.parse(row.state) as PoolState;
    if (state.version !== POOL_STATE_VERSION) {
      throw new StoreError(
        `${this.path}: pool state version ${JSON.stringify(state.version)} is not ${JSON.stringify(POOL_STATE_VERSION)}; no migration exists for it`,
      );
    }
    // An older agent wrote its waiting pods: their ADDs ended with that process.
    state.waiting = {};
    return state;
  }

  /**
   * The new pool state with the journal entries it opens and resolves, atomically. A state
   * equal to the one last committed, with no journal change, is already durable: it is not
   * written again (the plan pass after every ADD and DEL hands back an equal copy, and each
   * write costs a sync). Pods waiting for an IP are not written: each is an ADD held open on
   * the socket, gone with the process that held it (the runtime repeats the ADD), so a pod that
   * starts to wait costs no sync. In a burst that was a sync per ADD on the agent's only thread.
   */
  commit(state: PoolState, change: { open?: Intent[]; resolve?: Resolution[] } = {}, now = Date.now()): void {
    const json = JSON.stringify(durable(state));
    const opened = change.open ?? [];
    const resolved = change.resolve ?? [];
    if (json === this.written && opened.length === 0 && resolved.length === 0) return;
    this.write(() =>
      this.db.transaction(() => {
        this.db.query("INSERT OR REPLACE INTO pool (id, state, updated_at) VALUES (1, ?, ?)").run(json, now);
        const open = this.db.query("INSERT INTO journal (id, client_token, decision, opened_at) VALUES (?, ?, ?, ?)");
        for (const intent of opened)
          open.run(intent.id, intent.clientToken, JSON.stringify(intent.decision), intent.openedAt);
        const resolve = this.db.query(
          "UPDATE journal SET resolved_at = ?, outcome = ? WHERE id = ? AND resolved_at IS NULL",
        );
        for (const r of resolved) resolve.run(now, r.outcome, r.id);
      })(),
    );
    this.written = json;
  }

  /**
   * Runs `fn` as one transaction: the commits and attachment records it makes reach the disk
   * together, with one sync (an ADD's allocation and its attachment record). `fn` must be
   * synchronous; if it throws, nothing it wrote stays.
   */
  atomically<T>(fn: () => T): T {
    const mark = this.undo.length;
    const inside = () => {
      this.depth++;
      try {
        return fn();
      } finally {
        this.depth--;
      }
    };
    try {
      const result = this.write(() => this.db.transaction(inside)());
      if (this.depth === 0) this.undo.length = 0;
      return result;
    } catch (error) {
      // A commit inside may have been rolled back with the rest: forget what it wrote, and
      // put back what the callers changed in memory, newest first.
      this.written = undefined;
      for (const undo of this.undo.splice(mark).reverse()) undo();
      throw error;
    }
  }

  putAttachment(a: AttachmentRecord): void {
    this.write(() =>
      this.db
        .query("INSERT OR REPLACE INTO attachments (key, netns, namespace, name, created_at) VALUES (?, ?, ?, ?, ?)")
        .run(a.key, a.netns, a.namespace, a.name, a.createdAt),
    );
  }

  deleteAttachment(key: string): void {
    this.write(() => this.db.query("DELETE FROM attachments WHERE key = ?").run(key));
  }

  attachments(): AttachmentRecord[] {
    return this.db
      .query<{ key: string; netns: string; namespace: string | null; name: string | null; created_at: number }, []>(
        "SELECT * FROM attachments ORDER BY key",
      )
      .all()
      .map((r) => ({ key: r.key, netns: r.netns, namespace: r.namespace, name: r.name, createdAt: r.created_at }));
  }

  putFixedAttachment(a: FixedAttachmentRecord): void {
    this.write(() =>
      this.db
        .query(
          "INSERT OR REPLACE INTO fixed_attachments (key, netns, namespace, name, pod_uid, ip, eni_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .run(a.key, a.netns, a.namespace, a.name, a.podUid, a.ip, a.eniId, a.createdAt),
    );
  }

  deleteFixedAttachment(key: string): void {
    this.write(() => this.db.query("DELETE FROM fixed_attachments WHERE key = ?").run(key));
  }

  fixedAttachment(key: string): FixedAttachmentRecord | null {
    return this.fixedAttachments().find((a) => a.key === key) ?? null;
  }

  fixedAttachments(): FixedAttachmentRecord[] {
    return this.db
      .query<
        {
          key: string;
          netns: string;
          namespace: string;
          name: string;
          pod_uid: string | null;
          ip: string;
          eni_id: string;
          created_at: number;
        },
        []
      >("SELECT * FROM fixed_attachments ORDER BY key")
      .all()
      .map((r) => ({
        key: r.key,
        netns: r.netns,
        namespace: r.namespace,
        name: r.name,
        podUid: r.pod_uid,
        ip: r.ip,
        eniId: r.eni_id,
        createdAt: r.created_at,
      }));
  }

  /** A value of the meta table (the store's own keys are `version` and those below). */
  meta(key: string): string | null {
    return this.db.query<{ value: string }, [string]>("SELECT value FROM meta WHERE key = ?").get(key)?.value ?? null;
  }

  /** Sets a meta value; null deletes it. `version` is the store's own. */
  setMeta(key: string, value: string | null): void {
    if (key === "version") throw new StoreError("meta key 'version' belongs to the store's migrations");
    this.write(() =>
      value === null
        ? this.db.query("DELETE FROM meta WHERE key = ?").run(key)
        : this.db.query("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)").run(key, value),
    );
  }

  /**
   * Kernel parameters the agent changed, with the value each had before vpccni first changed it
   * (meta `sysctls`): switching off puts those back. A later change of a key already recorded
   * keeps the first value before.
   */
  rememberSysctls(changes: readonly SysctlChange[]): void {
    if (changes.length === 0) return;
    const known = this.sysctlChanges();
    const have = new Set(known.map((c) => c.key));
    const merged = [...known, ...changes.filter((c) => !have.has(c.key))];
    this.setMeta(SYSCTLS_KEY, JSON.stringify(merged));
  }

  sysctlChanges(): SysctlChange[] {
    const text = this.meta(SYSCTLS_KEY);
    return text === null ? [] : (JSON.parse(text) as SysctlChange[]);
  }

  forgetSysctls(): void {
    this.setMeta(SYSCTLS_KEY, null);
  }

  /** Intents written but never resolved: the agent stopped between the call and its answer. */
  openIntents(): Intent[] {
    const rows = this.db
      .query<{ id: string; client_token: string; decision: string; opened_at: number }, []>(
        "SELECT id, client_token, decision, opened_at FROM journal WHERE resolved_at IS NULL ORDER BY opened_at, id",
      )
      .all();
    return rows.map((r) => ({
      id: r.id,
      clientToken: r.client_token,
      decision: JSON.parse(r.decision) as Decision,
      openedAt: r.opened_at,
    }));
  }

  /** The journal, newest first, for introspection. */
  recentIntents(limit = 50): (Intent & { resolvedAt: number | null; outcome: string | null })[] {
    const rows = this.db
      .query<
        {
          id: string;
          client_token: string;
          decision: string;
          opened_at: number;
          resolved_at: number | null;
          outcome: string | null;
        },
        [number]
      >("SELECT * FROM journal ORDER BY opened_at DESC, id DESC LIMIT ?")
      .all(limit);
    return rows.map((r) => ({
      id: r.id,
      clientToken: r.client_token,
      decision: JSON.parse(r.decision) as Decision,
      openedAt: r.opened_at,
      resolvedAt: r.resolved_at,
      outcome: r.outcome,
    }));
  }

  /** Resolved entries older than `before` are history; keep the journal small. */
  prune(before: number): number {
    return this.write(
      () => this.db.query("DELETE FROM journal WHERE resolved_at IS NOT NULL AND resolved_at < ?").run(before).changes,
    );
  }

  close(): void {
    this.db.close();
  }
}

/** What of a pool state is written: all of it but the pods waiting for an IP (see commit). */
export function durable(state: PoolState): PoolState {
  return Object.keys(state.waiting).length === 0 ? state : { ...state, waiting: {} };
}
