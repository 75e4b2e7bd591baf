// The one contract every VpcApi implementation passes (the Tencent adapter against the
// emulator here; any fake the runtime's tests use). Call it from a *.test.ts file.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CloudError, type CloudErrorKind } from "./errors.ts";
import type { VpcApi } from "./types.ts";

export interface VpcApiUnderTest {
  api: VpcApi;
  clusterId: string;
  /** An instance with at least 3 ENIs of at least 14 IPs in its quota, and room for 2 pod ENIs. */
  instanceId: string;
  /** Pod subnet in the instance's zone, with room for 50 IPs. */
  subnetId: string;
  /** A subnet in the instance's zone with exactly `tinyFree` free IPs. */
  tinySubnetId: string;
  tinyFree: number;
  /** A subnet in another zone (an ENI there cannot attach to the instance). */
  otherZoneSubnetId: string;
  securityGroupIds: string[];
  cleanup(): Promise<void>;
}

export async function expectKind(call: Promise<unknown>, kind: CloudErrorKind): Promise<CloudError> {
  try {
    await call;
  } catch (e) {
    expect(e).toBeInstanceOf(CloudError);
    expect({ kind: (e as CloudError).kind, message: (e as CloudError).message }).toMatchObject({ kind });
    return e as CloudError;
  }
  throw new Error(`expected a CloudError of kind ${kind}; the call succeeded`);
}

export function vpcApiContract(name: string, make: () => Promise<VpcApiUnderTest>): void {
  describe(name, () => contract(name, make));
}

function contract(name: string, make: () => Promise<VpcApiUnderTest>): void {
  let w: VpcApiUnderTest;
  beforeAll(async () => {
    w = await make();
  });
  afterAll(() => w.cleanup());
  const inSubnet = (ip: string) => /^\d+\.\d+\.\d+\.\d+$/.test(ip);

  test("instance limits and the primary ENI", async () => {
    const limits = await w.api.instanceLimits(w.instanceId);
    expect(limits.enis).toBeGreaterThanOrEqual(3);
    expect(limits.ipsPerEni).toBeGreaterThanOrEqual(14);
    const enis = await w.api.listEnis(w.instanceId);
    const primary = enis.filter((e) => e.primary);
    expect(primary).toHaveLength(1);
    expect(inSubnet(primary[0]!.primaryIp)).toBe(true);
    expect(primary[0]!.mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    expect(await w.api.getEni("eni-00000000")).toBeUndefined();
  });

  test("create, attach, assign, unassign, detach, delete — each idempotent", async () => {
    const before = (await w.api.describeSubnets([w.subnetId]))[0]!.availableIps;
    const eni = await w.api.createEni({
      subnetId: w.subnetId,
      securityGroupIds: w.securityGroupIds,
      secondaryIps: 2,
      node: "node-a",
      clientToken: `${name}-create-1`,
    });
    expect(eni).toMatchObject({ state: "AVAILABLE", subnetId: w.subnetId, primary: false });
    expect(eni.secondaryIps).toHaveLength(2);
    expect(eni.tags["vpccni.io/cluster"]).toBe(w.clusterId);
    expect(eni.tags["vpccni.io/node"]).toBe("node-a");
    expect(eni.attachment).toBeUndefined();
    const again = await w.api.createEni({
      subnetId: w.subnetId,
      securityGroupIds: w.securityGroupIds,
      secondaryIps: 2,
      node: "node-a",
      clientToken: `${name}-create-1`,
      createdAt: Date.parse(eni.tags["vpccni.io/created-at"]!),
    });
    expect(again.id).toBe(eni.id);
    expect(
      (await w.api.findEnis({ tags: { "vpccni.io/cluster": w.clusterId, "vpccni.io/node": "node-a" } })).map(
        (e) => e.id,
      ),
    ).toEqual([eni.id]);

    const attached = await w.api.attachEni(eni.id, w.instanceId, { clientToken: `${name}-attach-1` });
    expect(attached.attachment?.instanceId).toBe(w.instanceId);
    expect(attached.state).toBe("AVAILABLE");
    await w.api.attachEni(eni.id, w.instanceId, { clientToken: `${name}-attach-1` });
    expect((await w.api.listEnis(w.instanceId)).map((e) => e.id)).toContain(eni.id);

    const ips = await w.api.assignIps(eni.id, { count: 12, clientToken: `${name}-assign-1` });
    expect(new Set(ips).size).toBe(12);
    expect(await w.api.assignIps(eni.id, { count: 12, clientToken: `${name}-assign-1` })).toEqual(ips);
    const bound = (await w.api.getEni(eni.id))!;
    expect(bound.secondaryIps.sort()).toEqual([...eni.secondaryIps, ...ips].sort());
    expect(bound.ips.every((i) => i.state === "AVAILABLE")).toBe(true);
    expect((await w.api.describeSubnets([w.subnetId]))[0]!.availableIps).toBe(before - 15);

    await w.api.unassignIps(eni.id, ips.slice(0, 11));
    await w.api.unassignIps(eni.id, ips.slice(0, 11));
    expect((await w.api.getEni(eni.id))!.secondaryIps.sort()).toEqual([...eni.secondaryIps, ips[11]!].sort());

    await expectKind(w.api.deleteEni(eni.id), "invalid-state");
    await w.api.detachEni(eni.id, w.instanceId);
    await w.api.detachEni(eni.id, w.instanceId);
    expect((await w.api.getEni(eni.id))!.attachment).toBeUndefined();
    await w.api.deleteEni(eni.id);
    await w.api.deleteEni(eni.id);
    expect(await w.api.getEni(eni.id)).toBeUndefined();
    expect((await w.api.describeSubnets([w.subnetId]))[0]!.availableIps).toBe(before);
  });

  test("quota, exhaustion and zone errors are typed", async () => {
    const limits = await w.api.instanceLimits(w.instanceId);
    const have = (await w.api.listEnis(w.instanceId)).length;
    const made: string[] = [];
    try {
      for (let i = have; i < limits.enis; i++) {
        const e = await w.api.createEni({ subnetId: w.subnetId, securityGroupIds: w.securityGroupIds });
        made.push(e.id);
        await w.api.attachEni(e.id, w.instanceId);
      }
      const extra = await w.api.createEni({ subnetId: w.subnetId, securityGroupIds: w.securityGroupIds });
      made.push(extra.id);
      await expectKind(w.api.attachEni(extra.id, w.instanceId), "eni-quota");
      const full = made[0]!;
      await w.api.assignIps(full, { count: limits.ipsPerEni - 1 });
      await expectKind(w.api.assignIps(full, { count: 1 }), "ip-quota");

      await expectKind(
        w.api.createEni({ subnetId: w.tinySubnetId, securityGroupIds: w.securityGroupIds, secondaryIps: w.tinyFree }),
        "subnet-exhausted",
      );
      const far = await w.api.createEni({ subnetId: w.otherZoneSubnetId, securityGroupIds: w.securityGroupIds });
      made.push(far.id);
      await expectKind(w.api.attachEni(far.id, w.instanceId), "zone-mismatch");
    } finally {
      for (const id of made) {
        await w.api.detachEni(id, w.instanceId);
        await w.api.deleteEni(id);
      }
    }
    expect((await w.api.findEnis({ tags: { "vpccni.io/cluster": w.clusterId } })).length).toBe(0);
  });
}
