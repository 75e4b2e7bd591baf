// Fixed mode's side of the switch-off against fakes: the node is empty only once it holds no
// attachment and the controller has given its ENI back, and the last look waits for the cloud.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TAG_CLUSTER } from "../../schema/names.ts";
import type { Eni, VpcApi } from "../cloud/types.ts";
import type { NodeEniState } from "./fixed-claim.ts";
import { fixedDrain } from "./fixed-drain.ts";
import { silentLogger } from "./log.ts";
import { NodeStore } from "./store.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const BOUND: NodeEniState = { ready: true, eniId: "eni-00000001", quota: 10, message: "ENI eni-00000001 is bound" };
const GONE: NodeEniState = { ready: false, quota: 0, message: "waiting (no NodeENIConfig node1 yet)" };

function world() {
  const dir = mkdtempSync(join(tmpdir(), "vpccni-fixed-drain-"));
  dirs.push(dir);
  const store = new NodeStore(join(dir, "node.db"));
  const w = {
    store,
    eni: BOUND,
    cloud: [] as Eni[],
    forgotten: 0,
    drain: undefined as unknown as ReturnType<typeof fixedDrain>,
  };
  w.drain = fixedDrain({
    instanceId: "ins-1",
    clusterId: () => "cls-1",
    store,
    api: { listEnis: async () => w.cloud } as unknown as VpcApi,
    log: silentLogger,
    eni: () => w.eni,
    readEni: async () => w.eni,
    forgetLinks: () => {
      w.forgotten++;
    },
  });
  return w;
}

describe("fixedDrain", () => {
  test("empty once no attachment is left and the NodeENIConfig names no ENI; the last look waits for the cloud", async () => {
    const w = world();
    w.store.putFixedAttachment({
      key: "vpccni/c1/eth0",
      netns: "/proc/1/ns/net",
      namespace: "default",
      name: "web-0",
      podUid: null,
      ip: "10.0.0.5",
      eniId: "eni-00000001",
      createdAt: 0,
    });
    expect(w.drain.pods()).toBe(1);
    expect(w.drain.empty()).toBe(false);
    w.store.deleteFixedAttachment("vpccni/c1/eth0");
    // the pods are gone, the controller has not given the ENI back yet
    expect(w.drain.empty()).toBe(false);
    expect(await w.drain.confirm()).toBeNull();
    // the NodeENIConfig is gone, but the cloud still lists the cluster's ENI on this instance
    w.eni = GONE;
    expect(w.drain.empty()).toBe(true);
    w.cloud = [
      { id: "eni-00000001", primary: false, tags: { [TAG_CLUSTER]: "cls-1" } } as unknown as Eni,
      { id: "eni-primary", primary: true, tags: {} } as unknown as Eni,
    ];
    expect(await w.drain.confirm()).toBeNull();
    expect(w.forgotten).toBe(0);
    // detached: the node may be cleaned up; ENIs of other clusters are not this one's business
    w.cloud = [{ id: "eni-other", primary: false, tags: { [TAG_CLUSTER]: "cls-2" } } as unknown as Eni];
    expect(await w.drain.confirm()).toEqual({ nodeEni: "given back by the cluster controller" });
    expect(w.forgotten).toBe(1);
    w.store.close();
  });
});
