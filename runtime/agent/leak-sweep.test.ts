// The leak sweep against the emulator through the real SDK: only this node's ENIs that are
// attached nowhere and older than the age guard go; everything else stays.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TAG_CLUSTER, TAG_CREATED_AT, TAG_NODE } from "../cloud/tencent.ts";
import { INSTANCE, POD_SUBNET, SG, startEmulatedVpc, type EmulatedVpc } from "../cloud/emulated-vpc-kit.ts";
import { silentLogger } from "./log.ts";
import { LEAK_MIN_AGE_MS, sweepLeakedEnis } from "./maintenance.ts";

describe("leak sweep", () => {
  let w: EmulatedVpc;
  beforeAll(async () => {
    w = await startEmulatedVpc();
  });
  afterAll(async () => {
    await w?.stop();
  });

  test("deletes old unattached ENIs of this node, keeps young, attached and other nodes' ones", async () => {
    const now = w.clock.now();
    const old = now - LEAK_MIN_AGE_MS - 60_000;
    const make = (node: string, createdAt: number) =>
      w.api.createEni({ subnetId: POD_SUBNET, securityGroupIds: [SG], node, createdAt, secondaryIps: 1 });
    const leaked = await make("node-a", old);
    const young = await make("node-a", now - 60_000);
    const attached = await make("node-a", old);
    await w.api.attachEni(attached.id, INSTANCE);
    const otherNode = await make("node-b", old);

    const tags = { [TAG_CLUSTER]: leaked.tags[TAG_CLUSTER]!, [TAG_NODE]: "node-a" };
    expect(await sweepLeakedEnis(w.api, tags, TAG_CREATED_AT, silentLogger, now)).toEqual([leaked.id]);
    expect(await w.api.getEni(leaked.id)).toBeUndefined();
    for (const kept of [young, attached, otherNode]) expect((await w.api.getEni(kept.id))?.id).toBe(kept.id);
    // Once the young one is past the guard, it goes too.
    expect(await sweepLeakedEnis(w.api, tags, TAG_CREATED_AT, silentLogger, now + LEAK_MIN_AGE_MS)).toEqual([young.id]);
  });
});
