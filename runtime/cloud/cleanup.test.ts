// The pure half of `vpccni cleanup`: which leftover ENIs go, in which steps, and why others stay.
import { describe, expect, test } from "bun:test";
import { TAG_CLUSTER, TAG_CREATED_AT, TAG_NODE } from "../../schema/names.ts";
import { createdAtMs, planCleanup } from "./cleanup.ts";
import type { Eni } from "./types.ts";

const NOW = Date.parse("2025-03-01T12:00:00Z");
const MIN = 60_000;
const OPTS = { now: NOW, olderThanMs: 5 * MIN, forceAttached: false };

function eni(id: string, extra: Partial<Eni> = {}, ageMs = 60 * MIN): Eni {
  return {
    id,
    vpcId: "vpc-1",
    subnetId: "subnet-1",
    zone: "ap-guangzhou-3",
    mac: "20:90:6f:00:00:01",
    primary: false,
    state: "AVAILABLE",
    primaryIp: "10.0.0.2",
    secondaryIps: ["10.0.0.4", "10.0.0.3"],
    ips: [],
    securityGroupIds: ["sg-1"],
    tags: { [TAG_CLUSTER]: "cls-1", [TAG_NODE]: "node-a", [TAG_CREATED_AT]: new Date(NOW - ageMs).toISOString() },
    createdTime: "2025-03-01 11:00:00",
    ...extra,
  };
}

describe("planCleanup", () => {
  test("an old detached ENI: unassign its secondary IPs (sorted), then delete", () => {
    expect(planCleanup([eni("eni-a")], OPTS)).toEqual([
      {
        id: "eni-a",
        node: "node-a",
        subnetId: "subnet-1",
        state: "AVAILABLE",
        secondaryIps: ["10.0.0.3", "10.0.0.4"],
        createdAt: "2025-03-01T11:00:00.000Z",
        ageMs: 60 * MIN,
        steps: [{ action: "unassign", ips: ["10.0.0.3", "10.0.0.4"] }, { action: "delete" }],
      },
    ]);
  });

  test("no secondary IPs: delete only", () => {
    expect(planCleanup([eni("eni-a", { secondaryIps: [] })], OPTS)[0]!.steps).toEqual([{ action: "delete" }]);
  });

  test("attached: kept, naming the instance, unless --force-attached (then detached first)", () => {
    const attached = eni("eni-a", { attachment: { instanceId: "ins-1", deviceIndex: 1 }, secondaryIps: [] });
    const [kept] = planCleanup([attached], OPTS);
    expect(kept!.steps).toEqual([]);
    expect(kept!.keep).toBe("attached to ins-1; a live agent may own it (--force-attached)");
    expect(planCleanup([attached], { ...OPTS, forceAttached: true })[0]!.steps).toEqual([
      { action: "detach", instanceId: "ins-1" },
      { action: "delete" },
    ]);
  });

  test("the age guard: younger is kept, exactly as old goes", () => {
    const plan = planCleanup([eni("eni-young", {}, 5 * MIN - 1), eni("eni-edge", {}, 5 * MIN)], OPTS);
    expect(plan.map((d) => [d.id, d.keep])).toEqual([
      ["eni-edge", undefined],
      ["eni-young", "younger than the age guard"],
    ]);
  });

  test("kept: a primary ENI, a busy one, one without any creation time", () => {
    const plan = planCleanup(
      [
        eni("eni-p", { primary: true }),
        eni("eni-b", { state: "DETACHING" }),
        eni("eni-u", { tags: { [TAG_CLUSTER]: "cls-1" }, createdTime: "" }),
      ],
      OPTS,
    );
    expect(plan.map((d) => [d.id, d.keep])).toEqual([
      ["eni-b", "state DETACHING"],
      ["eni-p", "primary ENI of its instance"],
      ["eni-u", "creation time unknown"],
    ]);
  });
});

describe("createdAtMs", () => {
  test("the created-at tag first, else the cloud's CreatedTime read as UTC", () => {
    expect(
      createdAtMs({ tags: { [TAG_CREATED_AT]: "2025-01-02T03:04:05.000Z" }, createdTime: "2024-01-01 00:00:00" }),
    ).toBe(Date.parse("2025-01-02T03:04:05Z"));
    expect(createdAtMs({ tags: { [TAG_CREATED_AT]: "yesterday" }, createdTime: "2024-01-01 00:00:00" })).toBe(
      Date.parse("2024-01-01T00:00:00Z"),
    );
    expect(createdAtMs({ tags: {}, createdTime: "" })).toBeUndefined();
  });
});
