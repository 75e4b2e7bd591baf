// The executor's create-eni against the emulator through the real SDK: once the ENI is
// attached it binds the IPs the driver's hook asks for, beside the link's set-up (the data
// plane here is a stand-in that only records the call: test/dataplane runs the real one).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type EmulatedVpc, INSTANCE, POD_SUBNET, SG, startEmulatedVpc } from "../cloud/emulated-vpc-kit.ts";
import type { DataPlane, EniSpec } from "../net/types.ts";
import type { VpcApi } from "../cloud/types.ts";
import { CloudExecutor } from "./executor.ts";
import { createLogger } from "./log.ts";

let vpc: EmulatedVpc;
beforeAll(async () => {
  vpc = await startEmulatedVpc();
});
afterAll(() => vpc.stop());

/** `gate`: the link's set-up ends only once it resolves; `api`: the cloud as the executor sees it. */
function executor(opts: { gate?: Promise<void>; api?: VpcApi } = {}) {
  const links: EniSpec[] = [];
  const lines: string[] = [];
  const dataPlane = {
    setupEni: async (eni: EniSpec) => {
      await opts.gate;
      links.push(eni);
      return { mac: eni.mac, name: `eth${links.length}`, ifindex: 10 + links.length, table: 2010 + links.length };
    },
  } as unknown as DataPlane;
  const subnets = new Map([
    [POD_SUBNET, { id: POD_SUBNET, vpcId: "vpc", cidr: "10.2.16.0/22", zone: "z", availableIps: 1000, totalIps: 1024 }],
  ]);
  const ex = new CloudExecutor(
    opts.api ?? vpc.api,
    dataPlane,
    { node: "node-a", instanceId: INSTANCE, zone: "ap-guangzhou-3", securityGroupIds: [SG] },
    () => subnets,
    createLogger({ level: "warn", write: (l) => lines.push(l) }),
  );
  return { ex, links, lines };
}

const intent = (token: string, ips: number) => ({
  id: `op-${token}`,
  clientToken: token,
  decision: { id: `op-${token}`, action: "create-eni" as const, subnet: POD_SUBNET, ips },
  openedAt: Date.now(),
});

/** The instance takes 3 pod ENIs: each test gives back the ones it made. */
async function remove(r: { ok: boolean; eni?: string }): Promise<void> {
  if (!r.ok || !r.eni) return;
  await vpc.api.detachEni(r.eni, INSTANCE);
  await vpc.api.deleteEni(r.eni);
}

describe("create-eni", () => {
  test("binds what the hook asks once attached, and answers the ENI with all its IPs", async () => {
    const { ex, links } = executor();
    let asked = 0;
    const first = intent("topup-1", 3);
    const r = await ex.execute(first, { attached: () => (asked++, 12) });
    expect(asked).toBe(1);
    expect(r.ok).toBe(true);
    const { eni, ips } = r as { eni: string; ips: string[] };
    expect(new Set(ips).size).toBe(15);
    const cloud = await vpc.api.getEni(eni);
    expect(cloud?.attachment?.instanceId).toBe(INSTANCE);
    expect([...(cloud?.secondaryIps ?? [])].sort()).toEqual([...ips].sort());
    expect(links.map((l) => l.mac)).toEqual([cloud?.mac ?? "?"]);
    // A replay of the same intent (after a crash) asking for as many binds nothing more.
    const again = await ex.execute(first, { attached: () => 12 });
    expect(again).toMatchObject({ ok: true, eni });
    expect(((again as { ips: string[] }).ips ?? []).sort()).toEqual([...ips].sort());
    expect((await vpc.api.getEni(eni))?.secondaryIps).toHaveLength(15);
    await remove(r);
  });

  test("tells the IPs as they come once the link is set up: the create's, then each top-up call's but the last", async () => {
    const { ex, links } = executor();
    const told: { eni: string; ips: string[]; links: number }[] = [];
    // 3 with the create, 12 once attached: two Assigns (10, then 2)
    const r = await ex.execute(intent("topup-6", 3), {
      attached: () => 12,
      progress: (eni, ips) => told.push({ eni, ips, links: links.length }),
    });
    expect(r.ok).toBe(true);
    const { eni, ips } = r as { eni: string; ips: string[] };
    expect(ips).toHaveLength(15);
    expect(told.length).toBeGreaterThanOrEqual(1);
    expect(told.every((t) => t.eni === eni && t.links === 1)).toBe(true); // never before the link
    const all = told.flatMap((t) => t.ips);
    expect(new Set(all).size).toBe(all.length);
    expect(all).toHaveLength(13); // the last call's 2 come with the answer
    expect(all.every((ip) => ips.includes(ip))).toBe(true);
    await remove(r);
  });

  test("IPs bound before the link is set up wait for it, then come together", async () => {
    // The link's set-up ends only after the top-up's first call (10 IPs) has ended.
    let firstCall!: () => void;
    const gate = new Promise<void>((r) => {
      firstCall = r;
    });
    const api: VpcApi = Object.create(vpc.api);
    api.assignIps = (eni, req) =>
      vpc.api.assignIps(eni, {
        ...req,
        onCall: (ips) => {
          req.onCall?.(ips);
          firstCall();
        },
      });
    const { ex, links } = executor({ gate, api });
    const told: { ips: string[]; links: number }[] = [];
    const r = await ex.execute(intent("topup-7", 3), {
      attached: () => 12,
      progress: (_eni, ips) => told.push({ ips, links: links.length }),
    });
    const { ips } = r as { eni: string; ips: string[] };
    expect(ips).toHaveLength(15);
    // one call, after the link: the create's 3 and the first Assign's 10 together
    expect(told).toHaveLength(1);
    expect(told[0]?.links).toBe(1);
    expect(told[0]?.ips).toHaveLength(13);
    expect(told[0]?.ips.every((ip) => ips.includes(ip))).toBe(true);
    await remove(r);
  });

  test("a top-up the cloud refuses fails nothing: the ENI comes with the IPs its create bound", async () => {
    const { ex, lines } = executor();
    // 19 secondary IPs per ENI here: 12 and 10 more is past its quota, so the Assign is refused.
    const r = await ex.execute(intent("topup-2", 12), { attached: () => 10 });
    expect(r.ok).toBe(true);
    expect((r as { ips: string[] }).ips).toHaveLength(12);
    expect(lines.join("")).toContain("the new ENI's extra IPs were not bound");
    await remove(r);
  });

  test("a top-up the cloud undoes (its task FAILED) leaves none of its IPs in the answer, even if Describe listed them", async () => {
    const { ex, lines } = executor();
    vpc.emu.admin.setFaults({ AssignPrivateIpAddresses: { taskFailRate: 1 } });
    try {
      const r = await ex.execute(intent("topup-5", 4), { attached: () => 6 });
      expect(r.ok).toBe(true);
      const { eni, ips } = r as { eni: string; ips: string[] };
      expect(ips).toHaveLength(4);
      expect([...((await vpc.api.getEni(eni))?.secondaryIps ?? [])].sort()).toEqual([...ips].sort());
      expect(lines.join("")).toContain("the new ENI's extra IPs were not bound");
      await remove(r);
    } finally {
      vpc.emu.admin.setFaults({});
    }
  });

  test("without the hook, or when it asks for none, no Assign follows the attach", async () => {
    const { ex } = executor();
    const r = await ex.execute(intent("topup-3", 4));
    expect((r as { ips: string[] }).ips).toHaveLength(4);
    const none = await ex.execute(intent("topup-4", 4), { attached: () => 0 });
    expect((none as { ips: string[] }).ips).toHaveLength(4);
    await remove(r);
    await remove(none);
  });
});
