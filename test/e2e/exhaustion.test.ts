// A subnet that runs out: the pool stops growing, a pod that cannot get an IP hears "try again
// later" (CNI code 11) instead of hanging, and the Node tells the user why through Events.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { kubeCall } from "../../sandbox/kube-api.ts";
import { useSharedCluster } from "../harness/shared-apiserver-kit.ts";
import { emulatorConfig, SUBNETS, VPC, waitFor, EmulatedCluster } from "../../sandbox/emulated-cluster.ts";

describe("an exhausted pod subnet", () => {
  const cluster = useSharedCluster();
  let world: EmulatedCluster;
  beforeAll(async () => {
    const base = emulatorConfig(1);
    world = await EmulatedCluster.start({
      nodes: 1,
      cluster: cluster(),
      caller: "direct",
      // A /28 pod subnet: a handful of usable addresses, each ENI's primary IP included.
      emulator: {
        subnets: [
          base.subnets![0]!,
          { subnetId: SUBNETS.large, vpcId: VPC, cidrBlock: "10.231.8.0/28", zone: "ap-guangzhou-3" },
        ],
      },
      spec: { subnets: [SUBNETS.large], prebind: { min: 1, max: 1 }, ipCooldown: "0s" },
      agentArgs: ["--add-timeout", "2s"],
    });
    await world.nodes[0]!.startAgent();
  }, 120_000);
  afterAll(async () => {
    await world?.stop();
  }, 60_000);

  test("pods get IPs until the subnet is full; the next ADD fails with code 11 and Events say why", async () => {
    const n1 = world.nodes[0]!;
    let wired = 0;
    let refusal = "";
    for (let i = 0; i < 20 && refusal === ""; i++) {
      const ns = await n1.newPodNamespace(`x${i}`);
      const r = await n1.execCni("ADD", ns.path, `x${i}`, `K8S_POD_NAMESPACE=default;K8S_POD_NAME=x${i}`);
      if (r.code === 0) wired++;
      else refusal = r.stdout;
    }
    expect(wired).toBeGreaterThan(0);
    const error = JSON.parse(refusal) as { code: number; msg: string };
    expect(error.code).toBe(11);
    expect(error.msg).toContain("no IP for default/x");
    // Every IP the pool could get went to a pod: not even prebind.min (1) is idle, the subnet
    // had nothing more to give, and the node is far from its quota (30).
    const view = await n1.view();
    expect(view.summary.pods).toBe(wired);
    expect(view.summary.bound).toBe(wired);
    expect(view.summary.maxBindable).toBe(30);
    // STATUS tells the runtime before the next ADD: error 50, the subnet named.
    const status = await n1.execCni("STATUS", "", "", "");
    expect(status.code).not.toBe(0);
    const statusError = JSON.parse(status.stdout) as { code: number; msg: string };
    expect(statusError.code).toBe(50);
    expect(statusError.msg).toContain("no pod subnet has a free IP (subnet-pods0001)");
    await waitFor("SubnetExhausted and PoolExhausted Events on the Node", async () => {
      const events = (
        await kubeCall(
          cluster().admin,
          "GET",
          `/api/v1/namespaces/default/events?fieldSelector=involvedObject.name=${n1.name}`,
        )
      ).json;
      const reasons = new Set(events.items.map((e: { reason: string }) => e.reason));
      return reasons.has("SubnetExhausted") && reasons.has("PoolExhausted");
    });
  }, 120_000);
});
