// Fixed IP mode: when a pod may use its claim's address on this node, and what the CNI error
// says when it may not (docs/fixed-ip.md "Node side").
import { describe, expect, test } from "bun:test";
import type { VpcIPClaim } from "../../schema/fixed-ip-crds.ts";
import { claimDecision, claimTimeoutMessage, nodeEniState } from "./fixed-claim.ts";

const ask = { namespace: "default", name: "web-0", node: "node1" };
const claim = (status: VpcIPClaim["status"]): VpcIPClaim => ({ spec: {}, status });
const bound = { phase: "Bound" as const, address: "10.0.1.7", eniId: "eni-aaaa", subnet: "subnet-a", node: "node1" };

describe("claimDecision", () => {
  test("Bound to this node with an address and an ENI: used", () => {
    expect(claimDecision(claim(bound), ask)).toEqual({
      use: true,
      address: "10.0.1.7",
      eniId: "eni-aaaa",
      subnet: "subnet-a",
    });
  });

  test("no claim, no status, Pending, Kept, Failed: wait, saying why (and the controller's message)", () => {
    expect(claimDecision(null, ask)).toEqual({ use: false, reason: "VpcIPClaim default/web-0 does not exist yet" });
    expect(claimDecision(claim(undefined), ask)).toEqual({ use: false, reason: "VpcIPClaim default/web-0 is Pending" });
    expect(claimDecision(claim({ phase: "Kept", address: "10.0.1.7" }), ask)).toMatchObject({
      use: false,
      reason: "VpcIPClaim default/web-0 is Kept",
    });
    expect(claimDecision(claim({ phase: "Failed", message: "subnet-a is full" }), ask)).toEqual({
      use: false,
      reason: "VpcIPClaim default/web-0 is Failed",
      message: "subnet-a is full",
    });
  });

  test("bound to another node: wait, naming that node", () => {
    expect(claimDecision(claim({ ...bound, node: "node2" }), ask)).toEqual({
      use: false,
      reason: "VpcIPClaim default/web-0 is bound to node node2, not node1",
      boundTo: "node2",
    });
  });

  test("Bound here but without an address or an ENI: wait", () => {
    expect(claimDecision(claim({ ...bound, eniId: undefined }), ask)).toMatchObject({
      use: false,
      reason: "VpcIPClaim default/web-0 is Bound to node1 but has no eniId yet",
    });
    expect(claimDecision(claim({ ...bound, address: undefined }), ask)).toMatchObject({ use: false });
  });

  test("pod uids: compared only when both sides know one", () => {
    expect(claimDecision(claim({ ...bound, podUID: "u-old" }), { ...ask, podUid: "u-new" })).toMatchObject({
      use: false,
      reason: "VpcIPClaim default/web-0 holds 10.0.1.7 for pod uid u-old, not this pod's u-new",
    });
    expect(claimDecision(claim({ ...bound, podUID: "u-1" }), { ...ask, podUid: "u-1" })).toMatchObject({ use: true });
    expect(claimDecision(claim({ ...bound, podUID: "u-1" }), ask)).toMatchObject({ use: true });
    expect(claimDecision(claim(bound), { ...ask, podUid: "u-1" })).toMatchObject({ use: true });
  });
});

describe("claimTimeoutMessage", () => {
  test("names the pod, the node, the claim's state, the controller's message and the wait", () => {
    const last = claimDecision(claim({ phase: "Failed", message: "no subnet fits" }), ask);
    expect(claimTimeoutMessage(ask, last, 2_049)).toBe(
      "no fixed IP for pod default/web-0 on node node1 after 2s: VpcIPClaim default/web-0 is Failed; the controller says: no subnet fits; the cluster controller assigns it, the runtime retries the ADD",
    );
    expect(claimTimeoutMessage(ask, claimDecision(claim({ ...bound, node: "node2" }), ask), 20_000)).toContain(
      "after 20s: VpcIPClaim default/web-0 is bound to node node2, not node1",
    );
    expect(claimTimeoutMessage(ask, { error: "connect ECONNREFUSED" }, 500)).toContain(
      "VpcIPClaim default/web-0 could not be read: connect ECONNREFUSED",
    );
  });
});

describe("nodeEniState", () => {
  test("ready once status.eniId is set; else the controller's message or the wait", () => {
    expect(nodeEniState(null, "node1")).toEqual({
      ready: false,
      quota: 0,
      message: "waiting for the controller to bind this node's ENI (no NodeENIConfig node1 yet)",
    });
    expect(nodeEniState({ spec: { eniIPQuota: 10 } }, "node1")).toMatchObject({
      ready: false,
      message: "waiting for the controller to bind this node's ENI",
    });
    expect(nodeEniState({ spec: { eniIPQuota: 10 }, status: { message: "no subnet fits" } }, "node1")).toMatchObject({
      ready: false,
      quota: 0,
      message: "no subnet fits",
    });
    expect(nodeEniState({ spec: { eniIPQuota: 10 }, status: { eniId: "eni-aaaa" } }, "node1")).toEqual({
      ready: true,
      eniId: "eni-aaaa",
      quota: 10,
      message: "ENI eni-aaaa is bound",
    });
  });
});
