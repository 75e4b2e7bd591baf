// The pure half of `vpccni cleanup`: which leftover ENIs go, in which steps, and why others stay.
import { describe, expect, test } from "bun:test";
import { TAG_CLUSTER, TAG_CREATED_AT, TAG_NODE } from "../../schema/names.ts";
import { applyCleanup, createdAtMs, planCleanup } from "./cleanup.ts";
import type { Eni, VpcApi } from "./types.ts";

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

describe("a decision's fields", () => {
  test("node, instance and creation time when known; IPs sorted; an age never below 0", () => {
    const [attached, future] = planCleanup(
      [
        eni("eni-a", { attachment: { instanceId: "ins-1", deviceIndex: 1 } }),
        eni("eni-f", { tags: { [TAG_CREATED_AT]: new Date(NOW + MIN).toISOString() } }),
      ],
      { ...OPTS, olderThanMs: 0 },
    );
    expect(attached).toEqual({
      id: "eni-a",
      node: "node-a",
      subnetId: "subnet-1",
      state: "AVAILABLE",
      instanceId: "ins-1",
      secondaryIps: ["10.0.0.3", "10.0.0.4"],
      createdAt: "2025-03-01T11:00:00.000Z",
      ageMs: 60 * MIN,
      steps: [],
      keep: "attached to ins-1; a live agent may own it (--force-attached)",
    });
    expect(future).toMatchObject({ ageMs: 0, keep: "younger than the age guard" }); // a clock behind the tag's
    expect(Object.keys(future as object)).not.toContain("node");
    expect(Object.keys(future as object)).not.toContain("instanceId");
  });
  test("CreatedTime with a T or a space; a date that is not one is unknown", () => {
    expect(createdAtMs({ tags: {}, createdTime: "2024-01-01T00:00:00+08:00" })).toBe(
      Date.parse("2024-01-01T00:00:00Z"),
    );
    expect(createdAtMs({ tags: {}, createdTime: "2024-13-45 10:00:00" })).toBeUndefined();
    expect(createdAtMs({ tags: {}, createdTime: "x2024-01-01 00:00:00" })).toBeUndefined();
  });
});

describe("applyCleanup", () => {
  /** A cloud holding `enis`, recording each call; `fail` makes a call throw. */
  function cloud(enis: Eni[], fail: Partial<Record<string, unknown>> = {}) {
    const calls: string[] = [];
    const byId = new Map(enis.map((e) => [e.id, e]));
    const api = {
      getEni: async (id: string) => {
        calls.push(`get ${id}`);
        if (fail[`get ${id}`] !== undefined) throw fail[`get ${id}`];
        return byId.get(id);
      },
      unassignIps: async (id: string, ips: string[]) => {
        calls.push(`unassign ${id} ${ips.join(",")}`);
        return fail[`unassign ${id}`] === undefined ? ips : ips.slice(1);
      },
      detachEni: async (id: string, instance: string) => {
        calls.push(`detach ${id} ${instance}`);
        if (fail[`detach ${id}`] !== undefined) throw fail[`detach ${id}`];
      },
      deleteEni: async (id: string) => {
        calls.push(`delete ${id}`);
      },
    };
    return { api: api as unknown as VpcApi, calls };
  }

  test("each ENI read again and decided again, then its steps in order; a failed step ends that ENI only", async () => {
    const attached = eni("eni-a", { attachment: { instanceId: "ins-1", deviceIndex: 1 } });
    const enis = [attached, eni("eni-b"), eni("eni-c", { secondaryIps: [] }), eni("eni-p", { primary: true })];
    const force = { ...OPTS, forceAttached: true };
    const plan = planCleanup(enis, force);
    const { api, calls } = cloud(enis, { "detach eni-a": new Error("task failed"), "unassign eni-b": true });
    const reported: string[] = [];
    const results = await applyCleanup(api, plan, force, (r) => reported.push(r.eniId));
    expect(results).toEqual([
      { eniId: "eni-a", action: "unassign", ok: true, detail: "unassigned 2 of 2 IPs" },
      { eniId: "eni-a", action: "detach", ok: false, detail: "task failed" },
      { eniId: "eni-b", action: "unassign", ok: false, detail: "unassigned 1 of 2 IPs" },
      { eniId: "eni-c", action: "delete", ok: true, detail: "deleted" },
    ]);
    expect(reported).toEqual(["eni-a", "eni-a", "eni-b", "eni-c"]);
    expect(calls).toEqual([
      "get eni-a",
      "unassign eni-a 10.0.0.3,10.0.0.4",
      "detach eni-a ins-1",
      "get eni-b",
      "unassign eni-b 10.0.0.3,10.0.0.4",
      "get eni-c",
      "delete eni-c",
    ]);
  });

  test("gone, unreadable, or changed since the listing: skipped, saying why", async () => {
    const enis = [eni("eni-g"), eni("eni-r"), eni("eni-s"), eni("eni-x")];
    const plan = planCleanup(enis, OPTS);
    const now = [eni("eni-r"), eni("eni-s", { state: "ATTACHING" }), eni("eni-x", { secondaryIps: [] })];
    const { api } = cloud(now, { "get eni-r": "503" });
    expect(await applyCleanup(api, plan, OPTS)).toEqual([
      { eniId: "eni-g", action: "skip", ok: true, detail: "already gone" },
      { eniId: "eni-r", action: "skip", ok: false, detail: "re-reading it failed: 503" },
      { eniId: "eni-s", action: "skip", ok: true, detail: "kept: state ATTACHING" },
      { eniId: "eni-x", action: "delete", ok: true, detail: "deleted" },
    ]);
    const detached = eni("eni-d", { attachment: { instanceId: "ins-2", deviceIndex: 1 }, secondaryIps: [] });
    const forced = await applyCleanup(
      cloud([detached]).api,
      planCleanup([detached], { ...OPTS, forceAttached: true }),
      {
        ...OPTS,
        forceAttached: true,
      },
    );
    expect(forced.map((r) => r.detail)).toEqual(["detached from ins-2", "deleted"]);
  });
});
