// Drives the pure pool engine: every event (a CNI ADD or DEL, a cloud answer, a timer, a policy
// or inventory change) becomes a new state, committed to the store together with the intents it
// opens or resolves, before anyone is answered. Cloud calls carry a ClientToken from the
// journal, so replaying an open intent after a crash cannot bind or create twice.
import { randomUUID } from "node:crypto";
import {
  allocate,
  applyResult,
  type Decision,
  idleCount,
  nextWakeAt,
  type OperationResult,
  type PodAssignment,
  plan,
  type PoolState,
  release,
  type Rng,
  applyProgress,
  topUpNewEni,
} from "../pool/index.ts";
import type { Logger } from "./log.ts";
import { type Intent, type NodeStore, StoreFaultError } from "./store.ts";

export type { Intent };

/**
 * Carries out one journaled decision (cloud calls, and for a new ENI the node's data plane).
 * A replay after a crash passes the same intent again: same ClientToken, same opening time.
 */
export interface Executor {
  execute(intent: Intent, hooks?: ExecuteHooks): Promise<OperationResult>;
}

export interface ExecuteHooks {
  /**
   * A create-eni's ENI is attached: how many more IPs it should bind in the same operation (the
   * need pods made while it was being made), already pledged to it in the pool state.
   */
  attached?: () => number;
  /**
   * A create-eni's ENI is attached, its link is set up, and the cloud has bound `ips` on it
   * (called again as the top-up's calls end): they serve pods now, while the operation goes on.
   */
  progress?: (eni: string, ips: string[]) => void;
}

export interface DriverDeps {
  store: NodeStore;
  executor: Executor;
  log: Logger;
  now?: () => number;
  rng?: Rng;
  /** Called after every committed change (extended resource, metrics). */
  onChange?: (state: PoolState) => void;
  /** Called when a decision finishes, with how long it took (metrics). */
  onOperation?: (decision: Decision, result: OperationResult, ms: number) => void;
}

/** How often a cloud answer the store could not record is tried again. */
const STORE_RETRY_MS = 1000;

export type AllocateAnswer =
  | { ok: true; ip: string; eni: string }
  | { ok: false; code: "no-idle-ip" | "switched-off" | "stopped"; message: string };

interface Waiter {
  key: string;
  resolve: (answer: AllocateAnswer) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
  onTaken?: () => void;
}

export class PoolDriver {
  private s: PoolState;
  private readonly deps: Required<Omit<DriverDeps, "onChange" | "onOperation">> &
    Pick<DriverDeps, "onChange" | "onOperation">;
  private readonly waiters: Waiter[] = [];
  private readonly running = new Map<string, Promise<void>>();
  private passQueued = false;
  private wakeTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(initial: PoolState, deps: DriverDeps) {
    this.s = initial;
    this.deps = { now: Date.now, rng: Math.random, ...deps };
    // Pods waiting for an IP wrote nothing, so a disk that fails does not tell them itself: they
    // are refused with the store's fault, as an ADD whose own write failed is, rather than
    // wait out their timeout for an IP that could not be recorded.
    deps.store.onFaultChange((fault) => {
      if (fault !== null) queueMicrotask(() => this.refuseWaiters(new StoreFaultError(fault)));
    });
  }

  get state(): PoolState {
    return this.s;
  }

  /**
   * Starts the loop. Intents left open by a previous run are replayed with their original
   * ClientToken: the cloud either did the call (and answers the same again) or did not.
   */
  start(): void {
    const open = new Map(this.deps.store.openIntents().map((i) => [i.id, i]));
    for (const op of this.s.inflight) {
      const intent = open.get(op.decision.id) ?? {
        id: op.decision.id,
        clientToken: randomUUID(),
        decision: op.decision,
        openedAt: op.startedAt,
      };
      this.deps.log.info("replaying an intent left open by the previous run", {
        op: intent.id,
        action: intent.decision.action,
      });
      this.launch(intent);
    }
    this.kick();
  }

  /**
   * An IP for a pod: at once when one is idle, else when the pool has grown, else no-idle-ip.
   * `onTaken` runs in the same store transaction as the commit that gives the pod its IP (the
   * caller's attachment record), before the answer.
   * Either way the pod is new demand (rule 1's target moves up by one), so a plan pass follows:
   * a pod served from an idle IP leaves bound one short of pods + min, and no other event may
   * come to plan before the next resync.
   */
  allocate(key: string, timeoutMs: number, onTaken?: () => void): Promise<AllocateAnswer> {
    if (this.stopped) return Promise.resolve({ ok: false, code: "stopped", message: "the agent is shutting down" });
    const before = this.s;
    const answer = this.tryAllocate(key);
    if (this.s !== before) this.kick();
    if (answer.ok) onTaken?.();
    if (answer.ok || answer.code === "switched-off") return Promise.resolve(answer);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.dropWaiter(key);
        resolve({ ok: false, code: "no-idle-ip", message: `${answer.message}; gave up after ${timeoutMs} ms` });
      }, timeoutMs);
      this.waiters.push({ key, resolve, reject, timer, ...(onTaken ? { onTaken } : {}) });
      // The ADD that queued this waiter failed to commit: nobody will take its IP.
      this.deps.store.onRollback(() => {
        this.dropWaiter(key);
        resolve({ ok: false, code: "stopped", message: "the ADD was not recorded" });
      });
    });
  }

  /** The pod's IP goes back to the node pool. Idempotent. */
  release(key: string): PodAssignment | null {
    // An ADD of the same pod still waiting for the pool ends now, not at its timeout.
    this.dropWaiter(key, { ok: false, code: "stopped", message: "the pod was deleted while its ADD waited for an IP" });
    const { state, released } = release(this.s, key, this.deps.now());
    if (state !== this.s) this.commit(state);
    this.kick();
    return released;
  }

  /** A change from outside the engine's events: policy, quota, cloud inventory. */
  update(change: (state: PoolState) => PoolState): void {
    this.commit(change(this.s));
    this.kick();
  }

  /**
   * Schedules one plan pass, after the I/O that is ready now: the events of one turn of the
   * event loop (a burst's ADDs read in one poll) make one pass, not one each.
   */
  kick(): void {
    if (this.passQueued || this.stopped) return;
    this.passQueued = true;
    setImmediate(() => {
      this.passQueued = false;
      if (this.stopped) return;
      try {
        this.pass();
      } catch (error) {
        // The store's disk failed: nothing was decided. The agent retries the store and kicks
        // again once it takes writes (store-health.ts).
        if (!(error instanceof StoreFaultError)) throw error;
        this.deps.log.debug("plan pass not recorded", { error: error.message });
      }
    });
  }

  /** Resolves once no cloud operation is running and no pass is queued (tests, shutdown). */
  async settled(): Promise<void> {
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      if (this.running.size === 0 && !this.passQueued) return;
      await Promise.all(this.running.values());
    }
  }

  /** Stops planning; waits for running cloud calls so that their answers are journaled. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.wakeTimer);
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.resolve({ ok: false, code: "stopped", message: "the agent is shutting down" });
    }
    await Promise.all(this.running.values());
  }

  private pass(): void {
    const now = this.deps.now();
    const { state, decisions } = plan(this.s, now);
    const intents: Intent[] = decisions.map((d) => ({
      id: d.id,
      clientToken: randomUUID(),
      decision: d,
      openedAt: now,
    }));
    if (state !== this.s || intents.length > 0) this.commit(state, { open: intents });
    for (const intent of intents) this.launch(intent);
    this.serveWaiters();
    this.scheduleWake(now);
  }

  private launch(intent: Intent): void {
    const started = this.deps.now();
    this.deps.log.debug("cloud operation started", { op: intent.id, action: intent.decision.action });
    const run = (async () => {
      let result: OperationResult;
      try {
        result = await this.deps.executor.execute(intent, {
          attached: () => this.topUp(intent),
          progress: (eni, ips) => this.progress(intent, eni, ips),
        });
      } catch (error) {
        result = { ok: false, error: { kind: "transient", message: (error as Error).message } };
      }
      const now = this.deps.now();
      this.deps.onOperation?.(intent.decision, result, now - started);
      this.deps.log.debug("cloud operation done", {
        op: intent.id,
        action: intent.decision.action,
        ok: result.ok,
        ms: now - started,
      });
      if (!result.ok)
        this.deps.log.warn("cloud operation failed", {
          op: intent.id,
          action: intent.decision.action,
          kind: result.error.kind,
          error: result.error.message,
        });
      await this.commitResult(intent, result, now);
    })().finally(() => {
      this.running.delete(intent.id);
      this.kick();
    });
    this.running.set(intent.id, run);
  }

  /** See ExecuteHooks.attached and runtime/pool/top-up.ts. 0 when the store refuses the pledge. */
  private topUp(intent: Intent): number {
    if (this.stopped) return 0;
    const { state, extra } = topUpNewEni(this.s, intent.id, this.deps.now());
    if (extra === 0) return 0;
    try {
      this.commit(state);
    } catch (error) {
      if (!(error instanceof StoreFaultError)) throw error;
      return 0;
    }
    this.deps.log.debug("the new ENI takes the IPs asked for while it was made", { op: intent.id, ips: extra });
    return extra;
  }

  /**
   * A new ENI's IPs bound so far, into the pool before its operation ends (applyProgress). Not
   * applied while the store refuses writes, nor when the state contradicts them: the operation's
   * answer brings them all the same.
   */
  private progress(intent: Intent, eni: string, ips: string[]): void {
    if (this.stopped) return;
    let state: PoolState;
    try {
      state = applyProgress(this.s, intent.id, eni, ips);
    } catch (error) {
      this.deps.log.warn("a new ENI's first IPs wait for its operation's answer", {
        op: intent.id,
        eni,
        error: (error as Error).message,
      });
      return;
    }
    if (state === this.s) return;
    try {
      this.commit(state);
    } catch (error) {
      if (!(error instanceof StoreFaultError)) throw error;
      return;
    }
    this.deps.log.debug("a new ENI serves pods while its operation goes on", { op: intent.id, eni, ips: ips.length });
    this.kick();
  }

  /**
   * The cloud's answer, into the state and the journal together. While the store's disk fails
   * the answer waits here, retried, so that the state never runs ahead of the journal; a stop
   * gives up and leaves the intent open, to be replayed (with its ClientToken) after a restart.
   */
  private async commitResult(intent: Intent, result: OperationResult, at: number): Promise<void> {
    for (;;) {
      try {
        const [state, outcome] = this.applied(intent, result, at);
        this.commit(state, { resolve: [{ id: intent.id, outcome }] });
        return;
      } catch (error) {
        if (!(error instanceof StoreFaultError)) throw error;
        if (this.stopped) {
          this.deps.log.warn("a cloud answer could not be recorded; its intent is replayed after the restart", {
            op: intent.id,
            error: error.message,
          });
          return;
        }
        await Bun.sleep(STORE_RETRY_MS);
      }
    }
  }

  /**
   * The state with the answer applied. An answer naming IPs the state has on another ENI is
   * applied without them (an ENI created and attached is kept, not forgotten), and one the state
   * still cannot take is recorded as a failed operation: either way nothing is left in flight
   * for ever, which held the pool still (no resync runs while an operation is in flight). The
   * next resync puts the cloud's view in place.
   */
  private applied(intent: Intent, result: OperationResult, at: number): [PoolState, string] {
    try {
      return [applyResult(this.s, intent.id, result, at, { rng: this.deps.rng }), result.ok ? "ok" : result.error.kind];
    } catch (error) {
      if (!result.ok) throw error;
      const d = intent.decision;
      const target = d.action === "bind" ? d.eni : d.action === "create-eni" ? result.eni : undefined;
      const elsewhere = new Set(this.s.enis.filter((e) => e.id !== target).flatMap((e) => e.ips.map((x) => x.ip)));
      const kept = (result.ips ?? []).filter((ip) => !elsewhere.has(ip));
      const dropped = (result.ips ?? []).filter((ip) => elsewhere.has(ip));
      if (dropped.length > 0 && target !== undefined) {
        this.deps.log.error("cloud answer names IPs the pool has on another ENI; applied without them", {
          op: intent.id,
          action: d.action,
          ips: dropped,
          error: (error as Error).message,
        });
        return this.applied(intent, { ...result, ips: kept }, at);
      }
      const message = `the cloud's answer could not be applied: ${(error as Error).message}`;
      this.deps.log.error("cloud operation answer refused; recorded as failed, the next resync reconciles", {
        op: intent.id,
        action: d.action,
        error: (error as Error).message,
      });
      return this.applied(intent, { ok: false, error: { kind: "transient", message } }, at);
    }
  }

  private tryAllocate(key: string): AllocateAnswer {
    const result = allocate(this.s, key, this.deps.now(), this.deps.rng);
    if (result.state !== this.s) this.commit(result.state);
    return result.ok
      ? { ok: true, ip: result.ip, eni: result.eni }
      : { ok: false, code: result.error.code, message: result.error.message };
  }

  /**
   * Oldest waiter first, so that a burst is served in arrival order. A policy that switched
   * vpccni off while pods waited answers them all at once: the pool will not grow for them.
   */
  private serveWaiters(): void {
    if (this.waiters.length === 0) return;
    // Nothing to hand out (and not switched off): no transaction, no copy of the state. In a
    // burst this ran after every ADD that came to wait.
    if (this.s.settings.draining !== true && idleCount(this.s, this.deps.now()).ready === 0) return;
    // Every pod served now in one transaction (one sync, not two per pod: a burst's pods are
    // served together when an ENI arrives), answered once it is on disk.
    const served: [Waiter, AllocateAnswer][] = [];
    try {
      this.deps.store.atomically(() => {
        for (const w of this.waiters) {
          const answer = this.tryAllocate(w.key);
          if (!answer.ok && answer.code !== "switched-off") return;
          if (answer.ok) w.onTaken?.();
          served.push([w, answer]);
        }
      });
    } catch (error) {
      // Not recorded, and rolled back: they wait on; the store's recovery kicks a pass.
      if (!(error instanceof StoreFaultError)) throw error;
      this.deps.log.debug("waiting pods not served: the store refused the write", { error: error.message });
      return;
    }
    for (const [w, answer] of served) {
      const i = this.waiters.indexOf(w);
      if (i >= 0) this.waiters.splice(i, 1);
      clearTimeout(w.timer);
      w.resolve(answer);
    }
  }

  private refuseWaiters(error: StoreFaultError): void {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(error);
    }
  }

  /** Takes the key's waiter out of the queue; with an answer, answers it too. */
  private dropWaiter(key: string, answer?: AllocateAnswer): void {
    const i = this.waiters.findIndex((w) => w.key === key);
    if (i < 0) return;
    const [w] = this.waiters.splice(i, 1);
    clearTimeout(w?.timer);
    if (answer) w?.resolve(answer);
  }

  private scheduleWake(now: number): void {
    clearTimeout(this.wakeTimer);
    const at = nextWakeAt(this.s, now);
    if (at !== null) this.wakeTimer = setTimeout(() => this.kick(), Math.max(0, at - now));
  }

  /** Memory follows the disk: the state changes only once committed, and back on a rollback. */
  private commit(state: PoolState, change?: Parameters<NodeStore["commit"]>[1]): void {
    const before = this.s;
    this.deps.store.commit(state, change, this.deps.now());
    this.s = state;
    this.deps.store.onRollback(() => {
      this.s = before;
      this.deps.onChange?.(before);
    });
    this.deps.onChange?.(state);
  }
}
