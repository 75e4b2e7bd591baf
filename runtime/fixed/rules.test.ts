// One named test per rule of the table in index.ts and docs/fixed-ip.md. A step changes the
// state it is given (types.ts): a test that needs a state twice builds it twice.
import { describe, expect, test } from "bun:test";
import { actions, cluster, ok, SUBNET_A, SUBNET_B, withNode } from "./fixed-kit.ts";
import * as fixed from "./index.ts";
import { bindNodeEni, removeNode, subnetForNodeEni, subnetsOfZone } from "./node.ts";
import { addressInUse, deletePod, effectiveReclaim, pickAddress, podAdded } from "./pod.ts";
import { collectExpired, deleteClaim, nextWakeAt } from "./reclaim.ts";
import { createState, headroom, putClaim, reclaimFromPolicy, stateFromJSON } from "./state.ts";

const web0 = { namespace: "db", name: "web-0" };
const MIN = 60_000;

describe("fixed IP rules", () => {
  test("bindNodeEni: one ENI per node, no secondary IP, the quota reserved in the pool", () => {
    const before = cluster();
    const { state, decisions } = ok(bindNodeEni(before, "n1", 30));
    expect(actions(decisions)).toEqual([{ action: "create-eni", node: "n1", subnet: SUBNET_A }]);
    expect(state.nodes.n1).toEqual({ subnet: SUBNET_A, quota: 30, eni: null });
    expect(headroom(state, SUBNET_A)).toBe(200 - 30);
    expect([...state.addresses.keys()]).toEqual([]);
    // a second call for the same node does not bind a second ENI
    expect(ok(bindNodeEni(state, "n1", 30)).decisions).toEqual([]);
  });

  test("subnetForNodeEni: the subnet with the most free IPs that can hold the whole quota", () => {
    let s = cluster({ a: 50, b: 40 });
    expect(subnetForNodeEni(s, 30)).toBe(SUBNET_A);
    s = ok(bindNodeEni(s, "n1", 30)).state; // A: 20 left unreserved, B: 40
    expect(subnetForNodeEni(s, 30)).toBe(SUBNET_B);
    expect(subnetForNodeEni(s, 45)).toBeNull();
  });

  test("bindNodeEni: no subnet holds the quota: a refusal naming the node, and no partial state", () => {
    const s = cluster({ a: 10, b: 5 });
    const step = bindNodeEni(s, "n1", 20);
    expect(step.ok).toBe(false);
    if (step.ok) return;
    expect(step.refusal.code).toBe("no-subnet-fits");
    expect(step.refusal.message).toContain("node n1");
    expect(step.refusal.message).toContain(`${SUBNET_A}: 10`);
    expect(step.state).toBe(s);
    expect(step.state.nodes).toEqual({});
  });

  /** Zone 3 has a small subnet, zone 4 a large one and a tiny one. */
  const zoned = () =>
    createState({
      reclaim: { kind: "Never" },
      subnets: {
        "subnet-z3": { cidr: "10.0.3.0/24", available: 40, zone: "zone-3" },
        "subnet-z4": { cidr: "10.0.4.0/24", available: 200, zone: "zone-4" },
        "subnet-z4tiny": { cidr: "10.0.5.0/24", available: 5, zone: "zone-4" },
      },
    });

  test("subnetsOfZone: a node's ENI only goes into a subnet of the node's zone, even when another zone's has more room", () => {
    const s = zoned();
    expect(subnetsOfZone(s, "zone-3")).toEqual(["subnet-z3"]);
    expect(subnetsOfZone(s, "zone-4")).toEqual(["subnet-z4", "subnet-z4tiny"]);
    expect(subnetsOfZone(s, "zone-9")).toEqual([]);
    // zone unknown: every subnet (a single-zone caller)
    expect(subnetsOfZone(s, undefined)).toEqual(["subnet-z3", "subnet-z4", "subnet-z4tiny"]);
    expect(subnetForNodeEni(s, 10, "zone-3")).toBe("subnet-z3");
    expect(subnetForNodeEni(s, 10)).toBe("subnet-z4");
    const { state, decisions } = ok(bindNodeEni(s, "n3", 10, "zone-3"));
    expect(actions(decisions)).toEqual([{ action: "create-eni", node: "n3", subnet: "subnet-z3" }]);
    expect(ok(bindNodeEni(state, "n4", 10, "zone-4")).state.nodes.n4?.subnet).toBe("subnet-z4");
  });

  test("bindNodeEni: no subnet in the node's zone, or none there holds the quota: a refusal naming the zone and the subnets with their zones, no partial state", () => {
    const s = zoned();
    const none = bindNodeEni(s, "n9", 10, "zone-9");
    if (none.ok) throw new Error("bound a node of a zone without a subnet");
    expect(none.refusal.code).toBe("no-subnet-in-zone");
    expect(none.refusal.message).toContain("node n9 is in zone zone-9");
    for (const listed of ["subnet-z3 (zone-3)", "subnet-z4 (zone-4)", "subnet-z4tiny (zone-4)"])
      expect(none.refusal.message).toContain(listed);
    expect(none.state).toBe(s);
    expect(s.nodes).toEqual({});
    expect(headroom(s, "subnet-z4")).toBe(200);
    // zone 3's subnet cannot hold 50; zone 4's could, but is not a candidate
    const small = bindNodeEni(s, "n3", 50, "zone-3");
    if (small.ok) throw new Error("bound a node into another zone's subnet");
    expect(small.refusal.code).toBe("no-subnet-fits");
    expect(small.refusal.message).toContain("node n3 is in zone zone-3");
    expect(small.refusal.message).toContain("subnet-z3 (zone-3): 40");
    expect(small.refusal.message).toContain("subnet-z4 (zone-4)");
    expect(s.nodes).toEqual({});
    expect(s.nextOpSeq).toBe(1);
  });

  test("podAdded: an address of the node's ENI subnet, assigned on that ENI by address", () => {
    let s = withNode(cluster(), "n1");
    const room = headroom(s, SUBNET_A);
    const step = podAdded(s, web0, "n1", {});
    expect(step.ok && step.decisions.length > 0 ? step.decisions[0]?.action : null).toBe("assign");
    expect(step.ok ? step.decisions[0]?.id : null).toMatch(/^op-/);
    const { state, decisions } = ok(step);
    expect(actions(decisions)).toEqual([{ action: "assign", eni: "eni-n1", ip: "10.0.1.2", claim: "db/web-0" }]);
    expect(state.addresses.get("10.0.1.2")).toEqual({ subnet: SUBNET_A, claim: "db/web-0", eni: "eni-n1" });
    expect(state.subnets[SUBNET_A]!.available).toBe(199);
    // the reservation covered it: the subnet's unreserved room did not change
    expect(headroom(state, SUBNET_A)).toBe(room);
    s = state;
    expect(ok(podAdded(s, web0, "n1", {})).decisions).toEqual([]); // idempotent
  });

  test("podAdded: refusals: unknown node, ENI not ready, ENI at its quota", () => {
    expect(podAdded(cluster(), web0, "n1", {})).toMatchObject({ ok: false, refusal: { code: "unknown-node" } });
    const s1 = ok(bindNodeEni(cluster(), "n1", 1)).state;
    expect(podAdded(s1, web0, "n1", {})).toMatchObject({ ok: false, refusal: { code: "eni-not-ready" } });
    const s2 = ok(podAdded(withNode(cluster(), "n1", 1), web0, "n1", {})).state;
    const full = podAdded(s2, { namespace: "db", name: "web-1" }, "n1", {});
    expect(full).toMatchObject({ ok: false, refusal: { code: "eni-full" } });
  });

  test("pickAddress: the lowest usable address the cluster does not hold nor the VPC refused", () => {
    let s = withNode(cluster(), "n1");
    expect(pickAddress(s, SUBNET_A)).toBe("10.0.1.2");
    s = ok(podAdded(s, web0, "n1", {})).state;
    s = { ...s, subnets: { ...s.subnets, [SUBNET_A]: { ...s.subnets[SUBNET_A]!, taken: ["10.0.1.3"] } } };
    expect(pickAddress(s, SUBNET_A)).toBe("10.0.1.4");
    s = { ...s, subnets: { ...s.subnets, [SUBNET_A]: { ...s.subnets[SUBNET_A]!, available: 0 } } };
    expect(pickAddress(s, SUBNET_A)).toBeNull();
  });

  test("addressInUse: an address the VPC refused is never picked again; the pod's retry gets the next", () => {
    let s = withNode(cluster(), "n1");
    s = ok(podAdded(s, web0, "n1", {})).state;
    const refused = addressInUse(s, "10.0.1.2");
    expect(refused.subnets[SUBNET_A]!.taken).toEqual(["10.0.1.2"]);
    expect(refused.claims.toJSON()).toEqual({});
    expect(refused.subnets[SUBNET_A]!.available).toBe(200);
    const retry = ok(podAdded(refused, web0, "n1", {}));
    expect(actions(retry.decisions)).toEqual([{ action: "assign", eni: "eni-n1", ip: "10.0.1.3", claim: "db/web-0" }]);
    expect(addressInUse(retry.state, "10.9.9.9")).toBe(retry.state);
  });

  test("podDeleted: Immediate: the address is unassigned, back to the VPC, the claim gone", () => {
    let s = withNode(cluster({ reclaim: { kind: "Immediate" } }), "n1");
    s = ok(podAdded(s, web0, "n1", {})).state;
    const { state, decisions } = ok(deletePod(s, web0, 0));
    expect(actions(decisions)).toEqual([{ action: "unassign", eni: "eni-n1", ip: "10.0.1.2" }]);
    expect(state.claims.toJSON()).toEqual({});
    expect(state.addresses.toJSON()).toEqual({});
    expect(state.subnets[SUBNET_A]!.available).toBe(200);
  });

  test("podAdded: Never: the next pod of the same name gets the same address on another node of the subnet", () => {
    let s = withNode(withNode(cluster({ a: 200, b: 0 }), "n1"), "n2");
    s = ok(podAdded(s, web0, "n1", {})).state;
    s = ok(podAdded(s, { namespace: "db", name: "web-1" }, "n1", {})).state;
    const del = ok(deletePod(s, web0, 0));
    expect(del.decisions).toEqual([]); // kept on the old ENI
    expect(del.state.claims.get("db/web-0")).toMatchObject({ node: null, expiresAt: null });
    const available = del.state.subnets[SUBNET_A]!.available;
    const again = ok(podAdded(del.state, web0, "n2", {}));
    expect(actions(again.decisions)).toEqual([
      { action: "unassign", eni: "eni-n1", ip: "10.0.1.2" },
      { action: "assign", eni: "eni-n2", ip: "10.0.1.2", claim: "db/web-0" },
    ]);
    expect(again.state.addresses.get("10.0.1.2")!.eni).toBe("eni-n2");
    expect(again.state.subnets[SUBNET_A]!.available).toBe(available);
  });

  test("podAdded: a kept address never crosses subnets: wrong-subnet refusal", () => {
    let s = withNode(cluster({ a: 200, b: 0 }), "n1");
    s = ok(podAdded(s, web0, "n1", {})).state;
    s = ok(deletePod(s, web0, 0)).state;
    s = { ...s, subnets: { ...s.subnets, [SUBNET_B]: { ...s.subnets[SUBNET_B]!, available: 500 } } };
    s = withNode(s, "n2");
    expect(s.nodes.n2!.subnet).toBe(SUBNET_B);
    const step = podAdded(s, web0, "n2", {});
    expect(step).toMatchObject({ ok: false, refusal: { code: "wrong-subnet" } });
    if (!step.ok) expect(step.refusal.message).toContain(`place it on a node of ${SUBNET_A}`);
  });

  test("podAdded: the same name running on another node: claim-in-use", () => {
    let s = withNode(withNode(cluster({ b: 0 }), "n1"), "n2");
    s = ok(podAdded(s, web0, "n1", {})).state;
    expect(podAdded(s, web0, "n2", {})).toMatchObject({ ok: false, refusal: { code: "claim-in-use" } });
  });

  test("effectiveReclaim: the pod's annotations override the cluster's reclaim", () => {
    const never = { kind: "Never" } as const;
    expect(effectiveReclaim(never, {})).toEqual(never);
    expect(effectiveReclaim(never, { deletePolicy: "Immediate" })).toEqual({ kind: "Immediate" });
    expect(effectiveReclaim(never, { expiredMs: 30 * MIN })).toEqual({ kind: "After", ms: 30 * MIN });
    expect(effectiveReclaim({ kind: "Immediate" }, { deletePolicy: "Never" })).toEqual(never);
    expect(effectiveReclaim({ kind: "After", ms: MIN }, { deletePolicy: "Never", expiredMs: 5 * MIN })).toEqual({
      kind: "After",
      ms: 5 * MIN,
    });
    expect(reclaimFromPolicy("24h")).toEqual({ kind: "After", ms: 24 * 60 * MIN });
    expect(() => reclaimFromPolicy("soon")).toThrow('fixedIp.reclaim is "soon"');
  });

  test("collectExpired: a kept claim is released once its duration has passed, not before", () => {
    let s = withNode(cluster({ reclaim: { kind: "After", ms: 10 * MIN } }), "n1");
    s = ok(podAdded(s, web0, "n1", {})).state;
    s = ok(podAdded(s, { namespace: "db", name: "web-1" }, "n1", { expiredMs: 30 * MIN })).state;
    s = ok(deletePod(s, web0, 1000)).state;
    s = ok(deletePod(s, { namespace: "db", name: "web-1" }, 1000)).state;
    expect(nextWakeAt(s)).toBe(1000 + 10 * MIN);
    expect(ok(collectExpired(s, 1000 + 10 * MIN - 1)).decisions).toEqual([]);
    const at = ok(collectExpired(s, 1000 + 10 * MIN));
    expect(actions(at.decisions)).toEqual([{ action: "unassign", eni: "eni-n1", ip: "10.0.1.2" }]);
    expect([...at.state.claims.keys()]).toEqual(["db/web-1"]);
    expect(nextWakeAt(at.state)).toBe(1000 + 30 * MIN);
  });

  test("deleteClaim: reclaims a kept address at once; a running pod's address goes with the pod", () => {
    const placed = () => ok(podAdded(withNode(cluster(), "n1"), web0, "n1", {})).state;
    const running = ok(deleteClaim(placed(), "db/web-0"));
    expect(running.decisions).toEqual([]);
    expect(running.state.claims.get("db/web-0")!.deleted).toBe(true);
    const gone = ok(deletePod(running.state, web0, 0));
    expect(actions(gone.decisions)).toEqual([{ action: "unassign", eni: "eni-n1", ip: "10.0.1.2" }]);
    const kept = ok(deletePod(placed(), web0, 0)).state;
    const reclaimed = ok(deleteClaim(kept, "db/web-0"));
    expect(actions(reclaimed.decisions)).toEqual([{ action: "unassign", eni: "eni-n1", ip: "10.0.1.2" }]);
    expect(reclaimed.state.addresses.toJSON()).toEqual({});
  });

  test("removeNode: ENI deleted, released addresses back, kept ones stay reserved for the same name", () => {
    let s = withNode(withNode(cluster({ b: 0 }), "n1"), "n2");
    s = ok(podAdded(s, web0, "n1", {})).state;
    s = ok(podAdded(s, { namespace: "db", name: "tmp" }, "n1", { deletePolicy: "Immediate" })).state;
    const before = headroom(s, SUBNET_A);
    const { state, decisions } = ok(removeNode(s, "n1", 0));
    expect(actions(decisions)).toEqual([{ action: "delete-eni", eni: "eni-n1", node: "n1" }]);
    expect(state.nodes.n1).toBeUndefined();
    expect(state.addresses.toJSON()).toEqual({ "10.0.1.2": { subnet: SUBNET_A, claim: "db/web-0", eni: null } });
    expect(state.claims.get("db/tmp")).toBeUndefined();
    // n1's whole quota (10, two of them in use) returns to the subnet, minus the kept address
    expect(headroom(state, SUBNET_A)).toBe(before + 10 - 1);
    const again = ok(podAdded(state, web0, "n2", {}));
    expect(actions(again.decisions)).toEqual([{ action: "assign", eni: "eni-n2", ip: "10.0.1.2", claim: "db/web-0" }]);
    expect(pickAddress(again.state, SUBNET_A)).toBe("10.0.1.3");
  });

  test("ownership: a step changes the state it is given and returns it; a refusal leaves it as it was", () => {
    const s = withNode(cluster(), "n1", 1);
    const placed = ok(podAdded(s, web0, "n1", {}));
    expect(placed.state).toBe(s);
    const json = JSON.stringify(s);
    const full = podAdded(s, { namespace: "db", name: "web-1" }, "n1", {});
    expect(full).toMatchObject({ ok: false, refusal: { code: "eni-full" } });
    expect(full.state).toBe(s);
    expect(JSON.stringify(s)).toBe(json);
  });

  test("indexState: a state filled from the cluster objects is indexed on first use, and again on demand", () => {
    const s = cluster();
    const claim = { reclaim: { kind: "Never" } as const, expiresAt: null, deleted: false };
    s.nodes.n1 = { subnet: SUBNET_A, quota: 10, eni: "eni-n1" };
    putClaim(s, "db/web-0", { ...claim, address: "10.0.1.2", subnet: SUBNET_A, eni: "eni-n1", node: "n1" });
    putClaim(s, "db/web-1", { ...claim, address: "10.0.1.3", subnet: SUBNET_A, eni: null, node: null });
    expect(headroom(s, SUBNET_A)).toBe(200 - 9 - 1);
    expect(pickAddress(s, SUBNET_A)).toBe("10.0.1.4");
    // a claim put after the API has seen the state is noticed
    putClaim(s, "db/web-2", { ...claim, address: "10.0.1.4", subnet: SUBNET_A, eni: "eni-n1", node: "n1" });
    expect(pickAddress(s, SUBNET_A)).toBe("10.0.1.5");
    expect(headroom(s, SUBNET_A)).toBe(200 - 8 - 1);
    // a node changed in place: the caller says so
    s.nodes.n1.quota = 20;
    expect(headroom(fixed.indexState(s), SUBNET_A)).toBe(200 - 18 - 1);
    // a replaced record is noticed without it
    s.nodes = {};
    expect(headroom(s, SUBNET_A)).toBe(200 - 1);
    // the JSON is the persisted shape, and reads back as the same state
    const back = stateFromJSON(JSON.parse(JSON.stringify(s)));
    expect(back.addresses.toJSON()).toEqual({
      "10.0.1.2": { subnet: SUBNET_A, claim: "db/web-0", eni: "eni-n1" },
      "10.0.1.3": { subnet: SUBNET_A, claim: "db/web-1", eni: null },
      "10.0.1.4": { subnet: SUBNET_A, claim: "db/web-2", eni: "eni-n1" },
    });
    expect(back.claims.get("db/web-1")).toEqual({ ...claim, address: "10.0.1.3", node: null });
    expect(JSON.stringify(back)).toBe(JSON.stringify(s));
  });

  test("every function of the rule table is exported from index.ts", () => {
    for (const name of [
      "bindNodeEni",
      "subnetForNodeEni",
      "subnetsOfZone",
      "podAdded",
      "pickAddress",
      "addressInUse",
      "deletePod",
      "effectiveReclaim",
      "collectExpired",
      "deleteClaim",
      "removeNode",
    ]) {
      expect(typeof (fixed as Record<string, unknown>)[name]).toBe("function");
    }
  });
});
