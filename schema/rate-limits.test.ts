// spec.cloud.rateLimits: the node's budget of mutating calls, located diagnostics when it is wrong.
import { expect, test } from "bun:test";
import { DEFAULT_NODE_BUDGET, fullJitterMs, MUTATING_ACTIONS } from "./cloud-budget.ts";
import { Cloud } from "./policy.ts";
import { loadYamlText } from "./yaml-source.ts";

const policy = (cloud: string) => `apiVersion: vpccni.io/v1alpha1
kind: VpcCniPolicy
metadata: { name: general }
spec:
  clusterId: cls-demo0001
  region: ap-guangzhou
  vpcId: vpc-demo0001
  subnets: [subnet-pods0001]
  cloud:
    rateLimits: ${cloud}
`;

const found = (cloud: string) =>
  loadYamlText(policy(cloud), "p.yaml").diagnostics.map(
    (d) => `${d.file}:${d.line}:${d.col} ${d.code} ${d.path.join(".")}: ${d.message}`,
  );

test("a budget in calls per second and a whole burst is valid; unset is too (the default share)", () => {
  expect(found("{ mutationsPerSecond: 0.5, burst: 20 }")).toEqual([]);
  expect(found("{ mutationsPerSecond: 100, burst: 1000 }")).toEqual([]);
  const doc = loadYamlText(policy("{ mutationsPerSecond: 2, burst: 5 }"), "p.yaml");
  expect(doc.policies[0]?.policy.spec.cloud.rateLimits).toEqual({ mutationsPerSecond: 2, burst: 5 });
  expect(
    loadYamlText(policy("{ mutationsPerSecond: 2, burst: 5 }").replace(/ {2}cloud:\n.*\n/, ""), "p.yaml"),
  ).toMatchObject({ diagnostics: [] });
});

test("a budget of 0, above the account's limit, a fractional burst or an unknown key points at the field", () => {
  expect(found("{ mutationsPerSecond: 0, burst: 20 }")).toEqual([
    "p.yaml:10:39 out-of-range spec.cloud.rateLimits.mutationsPerSecond: spec.cloud.rateLimits.mutationsPerSecond must be at least 0.001, found 0",
  ]);
  expect(found("{ mutationsPerSecond: 500, burst: 2.5 }")).toEqual([
    "p.yaml:10:39 out-of-range spec.cloud.rateLimits.mutationsPerSecond: spec.cloud.rateLimits.mutationsPerSecond must be at most 100, found 500",
    "p.yaml:10:51 invalid-type spec.cloud.rateLimits.burst: spec.cloud.rateLimits.burst must be an integer, found 2.5",
  ]);
  expect(found("{ mutationsPerSecond: 1 }")).toEqual([
    "p.yaml:10:5 missing-field spec.cloud.rateLimits.burst: spec.cloud.rateLimits.burst is required (Mutating calls the node may make at once after a quiet spell, before the rate paces it); allowed: an integer",
  ]);
  expect(found("{ mutationsPerSecond: 1, burst: 2, perAction: 3 }")).toEqual([
    'p.yaml:10:52 unknown-field spec.cloud.rateLimits.perAction: spec.cloud.rateLimits has no field "perAction"',
  ]);
});

test("the documented default is the one the agent and the simulator use", () => {
  const text = Cloud.shape.rateLimits.meta()?.description ?? "";
  expect(text).toContain(
    `Unset: ${DEFAULT_NODE_BUDGET.mutationsPerSecond} calls/s with a burst of ${DEFAULT_NODE_BUDGET.burst}`,
  );
});

test("a throttled call's wait is uniform below min(max, base x 2^(failures-1)), from the first failure on", () => {
  const top = (failures: number) => fullJitterMs(1_000, 60_000, failures, () => 1);
  expect([0, 1, 2, 3, 6, 7, 8].map(top)).toEqual([1_000, 1_000, 2_000, 4_000, 32_000, 60_000, 60_000]);
  expect(fullJitterMs(1_000, 60_000, 3, () => 0.25)).toBe(1_000);
  expect(fullJitterMs(1_000, 60_000, 3, () => 0)).toBe(0);
});

test("the budget counts the six calls that change the VPC, not reads or task polls", () => {
  expect([...MUTATING_ACTIONS].sort()).toEqual([
    "AssignPrivateIpAddresses",
    "AttachNetworkInterface",
    "CreateNetworkInterface",
    "DeleteNetworkInterface",
    "DetachNetworkInterface",
    "UnassignPrivateIpAddresses",
  ]);
});
