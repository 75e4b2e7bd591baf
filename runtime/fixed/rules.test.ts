// One named test per rule of the table in index.ts and docs/fixed-ip.md. A step changes the
// state it is given (types.ts): a test that needs a state twice builds it twice.
import { describe, expect, test } from "bun:test";
import { actions, cluster, ok, SUBNET_A, SUBNET_B, withNode } from "./fixed-kit.ts";
import * as fixed from "./index.ts";
import { bindNodeEni, removeNode, subnetForNodeEni } from "./node.ts";
import { addressInUse, deletePod, effectiveReclaim, pickAddress, podAdded } from "./pod.ts";
import { collectExpired, deleteClaim, nextWakeAt } from "./reclaim.ts";
import { headroom, reclaimFromPolicy } from "./state.ts";

const web0 = { namespace: "db", name: "web-0" };
const MIN = 60_000;

describe("fixed IP rules", () => {
  test("bindNodeEni: one ENI per node, no secondary IP, the quota reserved in the pool", () => {
    const before = cluster();
    const { state, decisions } = ok(bindNodeEni(before, "n1", 30));
    expect(actions(decisions)).toEqual([{ action: "create-eni", node: "n1", subnet: SUBNET_A }]);
    expect(state.nodes.n1).toEqual({ subnet: SUBNET_A, quota: 30, eni: null });
    expect(headroom(state, SUBNET_A)).toBe(200 - 30);
    expect(Object.keys(state.addresses)).toEqual([]);
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

  test("podAdded: an address of the node's ENI subnet, assigned on that ENI by address", () => {
    let s = withNode(cluster(), "n1");
    const room = headroom(s, SUBNET_A);
    const step = podAdded(s, web0, "n1", {});
    expect(step.ok && step.decisions.length > 0 ? step.decisions[0]?.action : null).toBe("assign");
    expect(step.ok ? step.decisions[0]?.id : null).toMatch(/^op-/);
    const { state, decisions } = ok(step);
    expect(actions(decisions)).toEqual([{ action: "assign", eni: "eni-n1", ip: "10.0.1.2", claim: "db/web-0" }]);
    expect(state.addresses["10.0.1.2"]).toEqual({ subnet: SUBNET_A, claim: "db/web-0", eni: "eni-n1" });
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
    expect(refused.claims).toEqual({});
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
    expect(state.claims).toEqual({});
    expect(state.addresses).toEqual({});
    expect(state.subnets[SUBNET_A]!.available).toBe(200);
  });

  test("podAdded: Never: the next pod of the same name gets the same address on another node of the subnet", () => {
    let s = withNode(withNode(cluster({ a: 200, b: 0 }), "n1"), "n2");
    s = ok(podAdded(s, web0, "n1", {})).state;
    s = ok(podAdded(s, { namespace: "db", name: "web-1" }, "n1", {})).state;
    const del = ok(deletePod(s, web0, 0));
    expect(del.decisions).toEqual([]); // kept on the old ENI
    expect(del.state.claims["db/web-0"]).toMatchObject({ node: null, expiresAt: null });
    const available = del.state.subnets[SUBNET_A]!.available;
    const again = ok(podAdded(del.state, web0, "n2", {}));
    expect(actions(again.decisions)).toEqual([
      { action: "unassign", eni: "eni-n1", ip: "10.0.1.2" },
      { action: "assign", eni: "eni-n2", ip: "10.0.1.2", claim: "db/web-0" },
    ]);
    expect(again.state.addresses["10.0.1.2"]!.eni).toBe("eni-n2");
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
    expect(Object.keys(at.state.claims)).toEqual(["db/web-1"]);
    expect(nextWakeAt(at.state)).toBe(1000 + 30 * MIN);
  });

  test("deleteClaim: reclaims a kept address at once; a running pod's address goes with the pod", () => {
    const placed = () => ok(podAdded(withNode(cluster(), "n1"), web0, "n1", {})).state;
    const running = ok(deleteClaim(placed(), "db/web-0"));
    expect(running.decisions).toEqual([]);
    expect(running.state.claims["db/web-0"]!.deleted).toBe(true);
    const gone = ok(deletePod(running.state, web0, 0));
    expect(actions(gone.decisions)).toEqual([{ action: "unassign", eni: "eni-n1", ip: "10.0.1.2" }]);
    const kept = ok(deletePod(placed(), web0, 0)).state;
    const reclaimed = ok(deleteClaim(kept, "db/web-0"));
    expect(actions(reclaimed.decisions)).toEqual([{ action: "unassign", eni: "eni-n1", ip: "10.0.1.2" }]);
    expect(reclaimed.state.addresses).toEqual({});
  });

  test("removeNode: ENI deleted, released addresses back, kept ones stay reserved for the same name", () => {
    let s = withNode(withNode(cluster({ b: 0 }), "n1"), "n2");
    s = ok(podAdded(s, web0, "n1", {})).state;
    s = ok(podAdded(s, { namespace: "db", name: "tmp" }, "n1", { deletePolicy: "Immediate" })).state;
    const before = headroom(s, SUBNET_A);
    const { state, decisions } = ok(removeNode(s, "n1", 0));
    expect(actions(decisions)).toEqual([{ action: "delete-eni", eni: "eni-n1", node: "n1" }]);
    expect(state.nodes.n1).toBeUndefined();
    expect(state.addresses).toEqual({ "10.0.1.2": { subnet: SUBNET_A, claim: "db/web-0", eni: null } });
    expect(state.claims["db/tmp"]).toBeUndefined();
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
    s.nodes.n1 = { subnet: SUBNET_A, quota: 10, eni: "eni-n1" };
    s.addresses["10.0.1.2"] = { subnet: SUBNET_A, claim: "db/web-0", eni: "eni-n1" };
    s.addresses["10.0.1.3"] = { subnet: SUBNET_A, claim: "db/web-1", eni: null };
    expect(headroom(s, SUBNET_A)).toBe(200 - 9 - 1);
    expect(pickAddress(s, SUBNET_A)).toBe("10.0.1.4");
    // changed in place after the API has seen it: the caller says so
    s.addresses["10.0.1.4"] = { subnet: SUBNET_A, claim: "db/web-2", eni: "eni-n1" };
    expect(pickAddress(fixed.indexState(s), SUBNET_A)).toBe("10.0.1.5");
    expect(headroom(s, SUBNET_A)).toBe(200 - 8 - 1);
    // a replaced record is noticed without it
    s.addresses = { "10.0.1.2": s.addresses["10.0.1.2"]! };
    expect(headroom(s, SUBNET_A)).toBe(200 - 9);
    expect(pickAddress(s, SUBNET_A)).toBe("10.0.1.3");
  });

  test("every function of the rule table is exported from index.ts", () => {
    for (const name of [
      "bindNodeEni",
      "subnetForNodeEni",
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
