// The subnet gauges: set from each DescribeSubnets answer, with series of subnets no longer
// watched dropped; and the resync path (Maintenance.refreshSubnets) feeding them.
import { describe, expect, test } from "bun:test";
import type { VpcCniPolicy } from "../../schema/index.ts";
import type { Subnet, VpcApi } from "../cloud/types.ts";
import type { PoolState } from "../pool/index.ts";
import { makeState, SUBNET_A } from "../pool/pool-kit.ts";
import type { PoolDriver } from "./driver.ts";
import { silentLogger } from "./log.ts";
import { Maintenance, type MaintenanceDeps } from "./maintenance.ts";
import { AgentMetrics } from "./metrics.ts";

const subnet = (id: string, zone: string, availableIps: number, totalIps = 253): Subnet => ({
  id,
  vpcId: "vpc-4tg8xk2m",
  cidr: "10.0.0.0/24",
  zone,
  availableIps,
  totalIps,
});

async function series(m: AgentMetrics, name: string): Promise<Record<string, number>> {
  const json = await m.registry.getSingleMetric(name)?.get();
  const out: Record<string, number> = {};
  for (const v of json?.values ?? []) out[`${v.labels.subnet}/${v.labels.zone}`] = v.value;
  return out;
}

describe("vpccni_subnet_free_ips", () => {
  test("one series per described subnet, by subnet and zone", async () => {
    const m = new AgentMetrics();
    m.subnets([subnet("subnet-aaaa0001", "ap-guangzhou-3", 200), subnet("subnet-aaaa0002", "ap-guangzhou-4", 0, 61)]);
    expect(await series(m, "vpccni_subnet_free_ips")).toEqual({
      "subnet-aaaa0001/ap-guangzhou-3": 200,
      "subnet-aaaa0002/ap-guangzhou-4": 0,
    });
    expect(await series(m, "vpccni_subnet_total_ips")).toEqual({
      "subnet-aaaa0001/ap-guangzhou-3": 253,
      "subnet-aaaa0002/ap-guangzhou-4": 61,
    });
    expect(await m.text()).toContain('vpccni_subnet_free_ips{subnet="subnet-aaaa0001",zone="ap-guangzhou-3"} 200');
  });

  test("a later answer replaces the figures and drops subnets no longer watched", async () => {
    const m = new AgentMetrics();
    m.subnets([subnet("subnet-aaaa0001", "ap-guangzhou-3", 200), subnet("subnet-aaaa0002", "ap-guangzhou-3", 9)]);
    m.subnets([subnet("subnet-aaaa0001", "ap-guangzhou-3", 150)]);
    expect(await series(m, "vpccni_subnet_free_ips")).toEqual({ "subnet-aaaa0001/ap-guangzhou-3": 150 });
    expect(await series(m, "vpccni_subnet_total_ips")).toEqual({ "subnet-aaaa0001/ap-guangzhou-3": 253 });
  });

  test("Maintenance.refreshSubnets feeds the gauge from its DescribeSubnets answer", async () => {
    const metrics = new AgentMetrics();
    const asked: string[][] = [];
    const api = {
      describeSubnets: async (ids: string[]) => {
        asked.push(ids);
        return [subnet(SUBNET_A, "ap-guangzhou-3", 42)];
      },
    } as unknown as VpcApi;
    let state = makeState({ subnets: { [SUBNET_A]: 1000 } });
    const driver = {
      get state() {
        return state;
      },
      update: (f: (s: PoolState) => PoolState) => {
        state = f(state);
      },
    } as unknown as PoolDriver;
    const policy = { spec: { subnets: [SUBNET_A] } } as unknown as VpcCniPolicy;
    const deps = {
      api,
      driver,
      metrics,
      log: silentLogger,
      policy: () => policy,
      subnets: new Map<string, Subnet>(),
    } as unknown as MaintenanceDeps;
    await new Maintenance(deps).refreshSubnets();
    expect(asked).toEqual([[SUBNET_A]]);
    expect(await series(metrics, "vpccni_subnet_free_ips")).toEqual({ [`${SUBNET_A}/ap-guangzhou-3`]: 42 });
    // The pool engine got the same figure (the gauge and the pool agree).
    expect(state.subnets).toEqual([{ id: SUBNET_A, available: 42, pausedUntil: 0 }]);
  });
});
