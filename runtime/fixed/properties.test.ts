// fast-check properties over seeded random event sequences: nodes bound and removed, pods added
// and deleted, claims deleted, the clock moving, the state rebuilt from its JSON. The driver acts
// like the controller: it applies every decision at once to a fake cloud that refuses what the
// VPC refuses. After every event the index (state-index.ts) must agree with a recomputation.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { usableAddresses } from "./ipv4.ts";
import { bindNodeEni, eniReady, removeNode } from "./node.ts";
import { addressInUse, deletePod, pickAddress, podAdded } from "./pod.ts";
import { collectExpired, deleteClaim } from "./reclaim.ts";
import { createState, headroom, setSubnets, stateFromJSON } from "./state.ts";
import { buildIndex, indexOf, type StateIndex } from "./state-index.ts";
import type { Decision, FixedState, PodAsk, Reclaim, Step } from "./types.ts";

const SUBNETS = { "subnet-a": "10.0.1.0/28", "subnet-b": "10.0.2.0/27" } as const;
const USABLE = Object.fromEntries(Object.entries(SUBNETS).map(([id, cidr]) => [id, [...usableAddresses(cidr)]]));

type Event =
  | { kind: "node"; n: number; quota: number }
  | { kind: "remove-node"; n: number }
  | { kind: "pod"; p: number; n: number; ask: PodAsk }
  | { kind: "delete-pod"; p: number }
  | { kind: "delete-claim"; p: number }
  | { kind: "tick"; ms: number }
  | { kind: "foreign"; pick: number }
  | { kind: "rebuild" };

const ask: fc.Arbitrary<PodAsk> = fc.record(
  {
    deletePolicy: fc.constantFrom("Immediate" as const, "Never" as const),
    expiredMs: fc.integer({ min: 1, max: 600_000 }),
  },
  { requiredKeys: [] },
);
const event: fc.Arbitrary<Event> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("node" as const), n: fc.nat(5), quota: fc.integer({ min: 1, max: 8 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("remove-node" as const), n: fc.nat(5) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("pod" as const), p: fc.nat(15), n: fc.nat(5), ask }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("delete-pod" as const), p: fc.nat(15) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("delete-claim" as const), p: fc.nat(15) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: 0, max: 300_000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("foreign" as const), pick: fc.nat(1000) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("rebuild" as const) }) },
);
const reclaim: fc.Arbitrary<Reclaim> = fc.oneof(
  fc.constant({ kind: "Immediate" as const }),
  fc.constant({ kind: "Never" as const }),
  fc.record({ kind: fc.constant("After" as const), ms: fc.integer({ min: 1, max: 600_000 }) }),
);

/** The VPC as far as the cluster's addresses go: which ENI holds each address; others' addresses. */
class FakeCloud {
  readonly holder = new Map<string, string>();
  readonly foreign = new Set(["10.0.1.4", "10.0.2.3", "10.0.2.10"]);
  readonly enis = new Map<string, string>(); // eni -> subnet
  private seq = 0;
  /** Another tenant of the VPC takes a free address: possibly one the cluster keeps with no ENI. */
  grab(pick: number): void {
    const free = Object.values(USABLE)
      .flat()
      .filter((ip) => !this.holder.has(ip) && !this.foreign.has(ip));
    if (free.length > 0) this.foreign.add(free[pick % free.length]!);
  }
  apply(d: Decision): string | undefined {
    switch (d.action) {
      case "create-eni": {
        const eni = `eni-${++this.seq}`;
        this.enis.set(eni, d.subnet);
        return eni;
      }
      case "assign": {
        const subnet = this.enis.get(d.eni);
        if (subnet === undefined) throw new Error(`${d.id}: assign on unknown ENI ${d.eni}`);
        if (!USABLE[subnet]!.includes(d.ip)) throw new Error(`${d.id}: ${d.ip} is not in ${subnet}`);
        if (this.foreign.has(d.ip)) return "in-use";
        const other = this.holder.get(d.ip);
        if (other !== undefined) throw new Error(`${d.id}: ${d.ip} is already held by ${other}`);
        this.holder.set(d.ip, d.eni);
        return;
      }
      case "unassign":
        if (this.holder.get(d.ip) !== d.eni) throw new Error(`${d.id}: ${d.ip} is not on ${d.eni}`);
        this.holder.delete(d.ip);
        return;
      case "delete-eni":
        for (const [ip, eni] of this.holder) if (eni === d.eni) this.holder.delete(ip);
        this.enis.delete(d.eni);
        return;
    }
  }
  freeIn(subnet: string): number {
    return USABLE[subnet]!.filter((ip) => !this.holder.has(ip) && !this.foreign.has(ip)).length;
  }
}

/** What the runs exercised, so that a generator change cannot quietly stop testing a path. */
const seen = new Map<string, number>();
const see = (what: string) => seen.set(what, (seen.get(what) ?? 0) + 1);

function run(reclaimPolicy: Reclaim, events: Event[]): void {
  const cloud = new FakeCloud();
  let s: FixedState = createState({
    reclaim: reclaimPolicy,
    subnets: Object.fromEntries(
      Object.entries(SUBNETS).map(([id, cidr]) => [id, { cidr, available: cloud.freeIn(id) }]),
    ),
  });
  const running = new Map<string, string>(); // pod key -> node
  let now = 0;
  let grabbed = false; // another tenant may eat into the cluster's reservations
  let before = "";
  const take = (step: Step): boolean => {
    s = step.state;
    if (!step.ok) {
      see(step.refusal.code);
      expect(JSON.stringify(s), `${step.refusal.code} changed the state`).toBe(before);
      return false;
    }
    if (step.decisions.some((d) => d.action === "unassign") && step.decisions.some((d) => d.action === "assign")) {
      see("move");
    }
    for (const d of step.decisions) {
      see(d.action);
      const result = cloud.apply(d);
      if (d.action === "create-eni") s = eniReady(s, d.node, result!);
      if (d.action === "assign" && result === "in-use") {
        see("in-use");
        s = addressInUse(s, d.ip);
        return false;
      }
    }
    return true;
  };
  for (const e of events) {
    before = JSON.stringify(s);
    const pod = (p: number) => ({ namespace: "ns", name: `pod-${p}` });
    if (e.kind === "node") take(bindNodeEni(s, `n${e.n}`, e.quota));
    else if (e.kind === "remove-node") {
      take(removeNode(s, `n${e.n}`, now));
      for (const [k, n] of running) if (n === `n${e.n}`) running.delete(k);
    } else if (e.kind === "pod") {
      if (running.has(`ns/pod-${e.p}`)) continue; // a StatefulSet runs one pod of a name
      if (take(podAdded(s, pod(e.p), `n${e.n}`, e.ask))) running.set(`ns/pod-${e.p}`, `n${e.n}`);
    } else if (e.kind === "delete-pod") {
      take(deletePod(s, pod(e.p), now));
      running.delete(`ns/pod-${e.p}`);
    } else if (e.kind === "delete-claim") take(deleteClaim(s, `ns/pod-${e.p}`));
    else if (e.kind === "rebuild")
      s = stateFromJSON(JSON.parse(before)); // as a controller's next pass
    else if (e.kind === "foreign") {
      cloud.grab(e.pick);
      grabbed = true;
      s = setSubnets(s, Object.fromEntries(Object.keys(SUBNETS).map((id) => [id, cloud.freeIn(id)])));
    } else {
      now += e.ms;
      take(collectExpired(s, now));
    }
    checkInvariants(s, cloud, running, grabbed);
  }
}

function checkInvariants(s: FixedState, cloud: FakeCloud, running: Map<string, string>, grabbed: boolean): void {
  // the allocation table is the cloud: one holder per address, no address twice
  const attached = [...s.addresses.entries()].filter(([, a]) => a.eni !== null);
  expect(new Map(attached.map(([ip, a]) => [ip, a.eni!]))).toEqual(cloud.holder);
  // one claim per address and one address per claim
  expect(s.claims.size).toBe(s.addresses.size);
  for (const [key, c] of s.claims) expect(s.addresses.get(c.address)!.claim).toBe(key);
  // every running pod holds its address on its node's ENI, in its node's subnet
  for (const [key, node] of running) {
    const c = s.claims.get(key)!;
    expect(c.node).toBe(node);
    expect(s.addresses.get(c.address)).toEqual({ subnet: s.nodes[node]!.subnet, claim: key, eni: s.nodes[node]!.eni });
  }
  for (const [name, n] of Object.entries(s.nodes)) {
    const held = [...cloud.holder.values()].filter((eni) => eni === n.eni).length;
    expect(held, `node ${name}`).toBeLessThanOrEqual(n.quota);
  }
  for (const id of Object.keys(SUBNETS)) {
    expect(s.subnets[id]!.available, id).toBe(cloud.freeIn(id));
    if (!grabbed) expect(headroom(s, id), id).toBeGreaterThanOrEqual(0);
  }
  checkIndex(s);
}

/** The index kept current through the steps equals one built from scratch, and its answers the walks'. */
function checkIndex(s: FixedState): void {
  const shape = (ix: StateIndex) => ({
    loads: Object.fromEntries([...ix.loads].filter(([, l]) => l.reserved !== 0 || l.parked !== 0)),
    onEni: Object.fromEntries([...ix.onEni].map(([eni, ips]) => [eni, [...ips].sort()])),
    nodeOfEni: Object.fromEntries(ix.nodeOfEni),
  });
  expect(shape(indexOf(s))).toEqual(shape(buildIndex(s)));
  for (const [id, sub] of Object.entries(s.subnets)) {
    let reserved = 0;
    for (const n of Object.values(s.nodes).filter((n) => n.subnet === id)) {
      const used = [...s.addresses.values()].filter((a) => n.eni !== null && a.eni === n.eni).length;
      reserved += Math.max(0, n.quota - used);
    }
    const parked = [...s.addresses.values()].filter((a) => a.subnet === id && a.eni === null).length;
    expect(headroom(s, id), `headroom ${id}`).toBe(sub.available - reserved - parked);
    const lowest = USABLE[id]!.find((ip) => !s.addresses.has(ip) && !sub.taken.includes(ip)) ?? null;
    expect(pickAddress(s, id), `pickAddress ${id}`).toBe(sub.available > 0 ? lowest : null);
  }
}

describe("fixed IP allocator properties", () => {
  test("two pods never get one address; the table matches the cloud; quotas and reservations hold", () => {
    fc.assert(
      fc.property(reclaim, fc.array(event, { minLength: 20, maxLength: 200, size: "max" }), (r, events) =>
        run(r, events),
      ),
      { seed: 20261130, numRuns: 300 },
    );
    for (const what of [
      "create-eni",
      "assign",
      "unassign",
      "delete-eni",
      "move",
      "no-subnet-fits",
      "eni-full",
      "wrong-subnet",
      "in-use",
    ]) {
      expect(seen.get(what) ?? 0, what).toBeGreaterThan(0);
    }
  });
});
