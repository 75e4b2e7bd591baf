// The driver against an in-memory executor. The same driver runs against the emulator through
// the real cloud adapter in the end-to-end suite (test/e2e).
import { afterEach, describe, expect, test } from "bun:test";
import {
  createState,
  type Decision,
  extendedResource,
  type OperationResult,
  type PoolState,
  seededRng,
  summary,
} from "../pool/index.ts";
import { type Executor, type Intent, PoolDriver } from "./driver.ts";
import { createLogger, type Logger, silentLogger } from "./log.ts";
import { NodeStore } from "./store.ts";

/** A cloud in memory: ENIs of 10 IPs from one /16, every call succeeds unless told otherwise. */
class MemoryCloud implements Executor {
  calls: { decision: Decision; token: string }[] = [];
  fail: OperationResult | null = null;
  private nextIp = 1;
  private nextEni = 1;
  private readonly byToken = new Map<string, OperationResult>();

  async execute({ decision, clientToken: token }: Intent): Promise<OperationResult> {
    this.calls.push({ decision, token });
    await Promise.resolve();
    if (this.fail) return this.fail;
    const seen = this.byToken.get(token);
    if (seen) return seen; // ClientToken idempotency, as the real API has it
    const ips = (n: number) =>
      Array.from({ length: n }, () => `10.1.${Math.floor(this.nextIp / 250)}.${(this.nextIp++ % 250) + 1}`);
    let result: OperationResult;
    if (decision.action === "bind") result = { ok: true, ips: ips(decision.count) };
    else if (decision.action === "create-eni")
      result = { ok: true, eni: `eni-${String(this.nextEni++).padStart(8, "0")}`, ips: ips(decision.ips) };
    else result = { ok: true };
    this.byToken.set(token, result);
    return result;
  }
}

function freshState(prebind = { min: 5, max: 5 }): PoolState {
  return createState({
    settings: {
      minPrebind: prebind.min,
      maxPrebind: prebind.max,
      releaseIntervalMs: 120_000,
      cooldownMs: 30_000,
      subnets: ["subnet-a"],
      floor: 0,
    },
    quota: { enis: 3, ipsPerEni: 10, ipsPerCall: 10 },
    subnets: { "subnet-a": 1000 },
  });
}

/** After the plan pass the events so far scheduled (the driver plans once per turn of the event loop). */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

const open: PoolDriver[] = [];
afterEach(async () => {
  for (const d of open.splice(0)) await d.stop();
});

function driver(store: NodeStore, cloud: Executor, initial = freshState(), log: Logger = silentLogger): PoolDriver {
  const d = new PoolDriver(initial, { store, executor: cloud, log, rng: seededRng(7) });
  open.push(d);
  return d;
}

/** Numbers each outermost transaction, so that a test can tell which writes went together. */
class TransactionCountingStore extends NodeStore {
  transaction = 0;
  private nesting = 0;
  override atomically<T>(fn: () => T): T {
    if (this.nesting === 0) this.transaction++;
    this.nesting++;
    try {
      return super.atomically(fn);
    } finally {
      this.nesting--;
    }
  }
  /** The transaction a write made now belongs to; 0 outside any. */
  get current(): number {
    return this.nesting > 0 ? this.transaction : 0;
  }
}

describe("PoolDriver", () => {
  test("a DEL of a pod whose ADD waits for the pool ends that ADD at once, not at its timeout", async () => {
    // The cloud answers only at the end of the test: the pool cannot grow meanwhile.
    const answers: ((r: OperationResult) => void)[] = [];
    const slow: Executor = { execute: () => new Promise<OperationResult>((r) => answers.push(r)) };
    const d = driver(new NodeStore(":memory:"), slow);
    d.start();
    const waiting = d.allocate("net/gone/eth0", 60_000);
    await Promise.resolve();
    expect(d.release("net/gone/eth0")).toBeNull();
    expect(await waiting).toEqual({
      ok: false,
      code: "stopped",
      message: "the pod was deleted while its ADD waited for an IP",
    });
    for (const answer of answers) answer({ ok: false, error: { kind: "transient", message: "test over" } });
  });

  test("pods that waited for the pool are served together: their IPs and records in one transaction, each answered after it", async () => {
    const store = new TransactionCountingStore(":memory:");
    const d = driver(store, new MemoryCloud());
    const taken: { key: string; transaction: number }[] = [];
    const answered: { key: string; recorded: boolean }[] = [];
    const keys = Array.from({ length: 8 }, (_, i) => `net/w${i}/eth0`);
    // Eight ADDs before the pool has an IP: each waits; its record is written when it is served.
    const all = keys.map((key) =>
      store
        .atomically(() =>
          d.allocate(key, 10_000, () => {
            store.putAttachment({ key, netns: `/run/netns/${key}`, namespace: null, name: null, createdAt: 0 });
            taken.push({ key, transaction: store.current });
          }),
        )
        .then((answer) => {
          expect(answer.ok).toBe(true);
          answered.push({ key, recorded: store.attachments().some((a) => a.key === key) });
        }),
    );
    expect(taken).toEqual([]);
    d.start();
    await Promise.all(all);
    expect(taken.map((t) => t.key)).toEqual(keys);
    expect(new Set(taken.map((t) => t.transaction)).size).toBe(1);
    expect(taken[0]?.transaction).toBeGreaterThan(0);
    expect(answered).toEqual(keys.map((key) => ({ key, recorded: true })));
  });

  test("a burst of 25 pods on an empty node: every pod gets its own IP, the pool ends at pods + min", async () => {
    const cloud = new MemoryCloud();
    const d = driver(new NodeStore(":memory:"), cloud);
    d.start();
    const answers = await Promise.all(Array.from({ length: 25 }, (_, i) => d.allocate(`net/c${i}/eth0`, 10_000)));
    await d.settled();
    const ips = answers.map((a) => (a.ok ? a.ip : a.message));
    expect(new Set(ips).size).toBe(25);
    expect(answers.every((a) => a.ok)).toBe(true);
    const s = summary(d.state, Date.now());
    expect(s.pods).toBe(25);
    expect(s.bound).toBe(30); // capped by maxBindable = 3 x 10
    expect(extendedResource(d.state)).toEqual({ allocatable: 30, capacity: 30 });
  });

  test("a new ENI binds, once attached, the IPs pods asked for while it was made: no bind after it", async () => {
    const decisions: Decision[] = [];
    let attach!: () => void;
    const attached = new Promise<void>((r) => {
      attach = r;
    });
    let nextIp = 1;
    const ips = (n: number) => Array.from({ length: n }, () => `10.1.0.${nextIp++}`);
    const cloud: Executor = {
      async execute({ decision }, hooks) {
        decisions.push(decision);
        if (decision.action !== "create-eni") return { ok: true, ips: ips((decision as { count: number }).count) };
        const made = ips(decision.ips);
        await attached; // the create and the attach take a while
        const extra = hooks?.attached?.() ?? 0;
        return { ok: true, eni: "eni-00000001", ips: [...made, ...ips(extra)] };
      },
    };
    const d = driver(new NodeStore(":memory:"), cloud);
    d.start();
    await nextTurn();
    expect(decisions).toEqual([{ id: "op-1", action: "create-eni", subnet: "subnet-a", ips: 5 }]);
    // 4 pods while it is made: 9 wanted, its room (10) holds them, so they wait for it
    const answers = Array.from({ length: 4 }, (_, i) => d.allocate(`net/c${i}/eth0`, 10_000));
    await nextTurn();
    expect(d.state.inflight.map((o) => o.decision.id)).toEqual(["op-1"]);
    attach();
    const got = await Promise.all(answers);
    await d.settled();
    expect(got.every((a) => a.ok)).toBe(true);
    expect(new Set(got.map((a) => (a.ok ? a.ip : ""))).size).toBe(4);
    expect(decisions).toHaveLength(1); // their 4 came with the create's operation
    expect(summary(d.state, Date.now())).toMatchObject({ pods: 4, bound: 9, inflight: 0 });
  });

  test("a new ENI's IPs serve waiting pods as they come, before its operation ends", async () => {
    let finish!: () => void;
    const finished = new Promise<void>((r) => {
      finish = r;
    });
    let nextIp = 6;
    const cloud: Executor = {
      async execute({ decision }, hooks) {
        if (decision.action === "bind")
          return { ok: true, ips: Array.from({ length: decision.count }, () => `10.1.0.${nextIp++}`) };
        if (decision.action !== "create-eni") return { ok: true };
        hooks?.attached?.();
        hooks?.progress?.("eni-00000001", ["10.1.0.1", "10.1.0.2", "10.1.0.3"]); // link set up
        await finished; // its top-up still runs
        return { ok: true, eni: "eni-00000001", ips: ["10.1.0.1", "10.1.0.2", "10.1.0.3", "10.1.0.4", "10.1.0.5"] };
      },
    };
    const d = driver(new NodeStore(":memory:"), cloud);
    d.start();
    const answers = Array.from({ length: 3 }, (_, i) => d.allocate(`net/c${i}/eth0`, 10_000));
    const got = await Promise.all(answers);
    expect(got.every((a) => a.ok)).toBe(true);
    expect(d.state.inflight.map((o) => o.decision)).toEqual([
      // 3 pods + 5 asked for; 3 bound so far, 5 to come
      { id: "op-1", action: "create-eni", subnet: "subnet-a", ips: 5, eni: "eni-00000001" },
    ]);
    expect(summary(d.state, Date.now())).toMatchObject({ pods: 3, bound: 3, pendingBind: 5 });
    finish();
    await d.settled();
    // its answer brought 2 of the 5; a bind made up the rest
    expect(summary(d.state, Date.now())).toMatchObject({ pods: 3, bound: 8, inflight: 0 });
  });

  test("an answer naming an IP the pool has on another ENI is applied without it; one it cannot take at all fails the operation", async () => {
    const lines: string[] = [];
    let nextIp = 1;
    let answers = 0;
    const cloud: Executor = {
      // The first bind on eni-00000001 is answered with an address the pool has on eni-00000009
      // besides a new one; later binds get new addresses. A create answers without an ENI id.
      execute: async ({ decision }) => {
        if (decision.action === "create-eni") return { ok: true, eni: "", ips: [] };
        const fresh = Array.from({ length: (decision as { count: number }).count }, () => `10.1.1.${nextIp++}`);
        return { ok: true, ips: answers++ === 0 ? ["10.9.0.1", ...fresh.slice(1)] : fresh };
      },
    };
    const initial = createState({
      settings: {
        minPrebind: 3,
        maxPrebind: 3,
        releaseIntervalMs: 120_000,
        cooldownMs: 0,
        subnets: ["subnet-a"],
        floor: 0,
      },
      quota: { enis: 3, ipsPerEni: 10, ipsPerCall: 10 },
      subnets: { "subnet-a": 1000 },
      enis: [
        { id: "eni-00000001", subnet: "subnet-a", primary: false, ips: ["10.1.0.1"] },
        { id: "eni-00000009", subnet: "subnet-a", primary: false, ips: ["10.9.0.1"] },
      ],
    });
    const log = createLogger({ level: "error", write: (l) => lines.push(l) });
    const d = driver(new NodeStore(":memory:"), cloud, initial, log);
    d.start();
    await d.settled();
    expect(lines.join("")).toContain("cloud answer names IPs the pool has on another ENI; applied without them");
    expect(d.state.enis.find((e) => e.id === "eni-00000009")?.ips.map((x) => x.ip)).toEqual(["10.9.0.1"]);
    expect(summary(d.state, Date.now())).toMatchObject({ bound: 3, inflight: 0 });
    // A create answered without its ENI's id cannot be applied at all: a failed operation.
    const fresh = driver(new NodeStore(":memory:"), cloud, freshState(), log);
    fresh.start();
    await fresh.settled();
    expect(lines.join("")).toContain("cloud operation answer refused; recorded as failed");
    expect(fresh.state.inflight).toEqual([]);
    expect(fresh.state.backoff["create-eni"].failures).toBeGreaterThan(0);
  });

  test("a pod served at once from an idle IP moves rule 1's target: the pool binds the next IP with no other event", async () => {
    const cloud = new MemoryCloud();
    const d = driver(new NodeStore(":memory:"), cloud);
    d.start();
    await d.settled();
    expect(summary(d.state, Date.now())).toMatchObject({ pods: 0, bound: 5, inflight: 0 });
    const answer = await d.allocate("net/c1/eth0", 10_000); // the warm path: an idle IP, no waiting
    expect(answer.ok).toBe(true);
    await d.settled();
    // pods 1 + min 5: without a plan pass after the warm ADD the pool would sit at 5 until the
    // next unrelated event (the agent's 60 s resync).
    expect(summary(d.state, Date.now())).toMatchObject({ pods: 1, waiting: 0, bound: 6, inflight: 0 });
    expect(cloud.calls.map((c) => c.decision)).toEqual([
      { id: "op-1", action: "create-eni", subnet: "subnet-a", ips: 5 },
      { id: "op-2", action: "bind", eni: "eni-00000001", count: 1 },
    ]);
  });

  test("pods added one after another (the e2e burst, prebind 3..6): bound ends at pods + min after the last pod", async () => {
    const cloud = new MemoryCloud();
    const d = driver(new NodeStore(":memory:"), cloud, freshState({ min: 3, max: 6 }));
    d.start();
    await d.settled();
    // As in the e2e suite: pod a first, and the agent's periodic resync plans once (bound 4).
    expect((await d.allocate("net/a/eth0", 10_000)).ok).toBe(true);
    d.kick();
    await d.settled();
    for (let i = 0; i < 11; i++) {
      const answer = await d.allocate(`net/burst${i}/eth0`, 10_000);
      expect(answer.ok).toBe(true);
      // Each pod's ADD is answered, then its wiring takes a while: the pool catches up meanwhile,
      // so that most pods (the last one too) take an idle IP at once.
      await d.settled();
    }
    const s = summary(d.state, Date.now());
    expect(s).toMatchObject({ pods: 12, waiting: 0, bound: 15, inflight: 0, enis: 2 });
    expect(d.state.enis.map((e) => e.ips.length).sort((a, b) => b - a)).toEqual([10, 5]);
  });

  test("every committed state is in the store before the pod hears its IP", async () => {
    const store = new NodeStore(":memory:");
    const d = driver(store, new MemoryCloud());
    d.start();
    const answer = await d.allocate("net/c1/eth0", 10_000);
    expect(answer.ok).toBe(true);
    expect(store.loadPool()?.pods["net/c1/eth0"]?.ip).toBe(answer.ok ? answer.ip : "");
  });

  test("a pod gets no-idle-ip when the cloud cannot grow the pool", async () => {
    const cloud = new MemoryCloud();
    cloud.fail = { ok: false, error: { kind: "subnet-exhausted", message: "no free IP" } };
    const d = driver(new NodeStore(":memory:"), cloud);
    d.start();
    const answer = await d.allocate("net/c1/eth0", 200);
    expect(answer).toMatchObject({ ok: false, code: "no-idle-ip" });
  });

  test("release returns the IP to the node pool, not to the VPC", async () => {
    const cloud = new MemoryCloud();
    const d = driver(new NodeStore(":memory:"), cloud);
    d.start();
    const answer = await d.allocate("net/c1/eth0", 10_000);
    await d.settled();
    const before = summary(d.state, Date.now()).bound;
    expect(d.release("net/c1/eth0")?.ip).toBe(answer.ok ? answer.ip : "");
    expect(d.release("net/c1/eth0")).toBeNull(); // DEL is idempotent
    await d.settled();
    expect(summary(d.state, Date.now())).toMatchObject({ pods: 0, bound: before });
    expect(cloud.calls.filter((c) => c.decision.action === "release")).toEqual([]);
  });

  test("after a crash, open intents are replayed with their ClientToken and nothing is bound twice", async () => {
    const cloud = new MemoryCloud();
    const store = new NodeStore(":memory:");
    // First run: the decision is journaled, the call is made, and the agent dies before the answer.
    const first = new PoolDriver(freshState(), {
      store,
      executor: {
        execute: (intent) => {
          void cloud.execute(intent);
          return new Promise(() => {});
        },
      },
      log: silentLogger,
    });
    first.start();
    await nextTurn();
    const [intent] = store.openIntents();
    expect(intent?.decision.action).toBe("create-eni");
    // Second run from what the store holds.
    const second = driver(store, cloud, store.loadPool() as PoolState);
    second.start();
    await second.settled();
    expect(cloud.calls.map((c) => c.token).filter((t) => t === intent?.clientToken)).toHaveLength(2);
    expect(store.openIntents()).toEqual([]);
    expect(summary(second.state, Date.now())).toMatchObject({ bound: 5, enis: 1, inflight: 0 });
    expect(cloud.calls.filter((c) => c.decision.action === "create-eni")).toHaveLength(2); // the replay, same token
  });

  test("a crash after a new ENI's first IPs served pods: the replay's answer adds the rest, the pods keep theirs", async () => {
    const store = new NodeStore(":memory:");
    const all = ["10.1.0.1", "10.1.0.2", "10.1.0.3", "10.1.0.4", "10.1.0.5", "10.1.0.6", "10.1.0.7", "10.1.0.8"];
    // First run: 3 pods wait; the ENI's first 3 IPs come in and serve them; the agent dies
    // before the operation's answer.
    const first = new PoolDriver(freshState(), {
      store,
      executor: {
        execute: (_intent, hooks) => {
          hooks?.progress?.("eni-00000001", all.slice(0, 3));
          return new Promise(() => {});
        },
      },
      log: silentLogger,
    });
    first.start();
    const served = await Promise.all(Array.from({ length: 3 }, (_, i) => first.allocate(`net/c${i}/eth0`, 10_000)));
    expect(served.every((a) => a.ok)).toBe(true);
    const saved = store.loadPool() as PoolState;
    expect(saved.inflight.map((o) => o.decision)).toMatchObject([
      { action: "create-eni", ips: 5, eni: "eni-00000001" },
    ]);
    const [intent] = store.openIntents();
    // Second run: the replay (same ClientToken) answers with every IP the ENI has.
    const replayed: string[] = [];
    const second = driver(
      store,
      {
        execute: async (intent) => {
          replayed.push(intent.clientToken);
          if (intent.decision.action === "create-eni") return { ok: true, eni: "eni-00000001", ips: all };
          return { ok: true, ips: [] };
        },
      },
      saved,
    );
    second.start();
    await second.settled();
    expect(replayed[0]).toBe(intent?.clientToken ?? "no open intent");
    expect(store.openIntents()).toEqual([]);
    const eni = second.state.enis.find((e) => e.id === "eni-00000001");
    expect(eni?.ips.map((x) => x.ip)).toEqual(all);
    expect(Object.keys(second.state.pods).sort()).toEqual(["net/c0/eth0", "net/c1/eth0", "net/c2/eth0"]);
    expect(summary(second.state, Date.now())).toMatchObject({ pods: 3, bound: 8, inflight: 0 });
  });
});
