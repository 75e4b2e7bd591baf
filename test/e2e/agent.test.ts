// The node agent end to end on real parts: emulator + real SDK, kernel namespaces, the compiled
// CNI binary through cnitool, agents as real processes, the Node on a real kube-apiserver.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { useSharedCluster } from "../harness/shared-apiserver-kit.ts";
import { kubeCall } from "../../sandbox/kube-api.ts";
import { statSync } from "node:fs";
import { dirname, join } from "node:path";
import { run } from "../../sandbox/exec.ts";
import { policyYaml, waitFor, EmulatedCluster } from "../../sandbox/emulated-cluster.ts";

const ROOT = join(import.meta.dir, "../..");

describe("node agent, two nodes", () => {
  const cluster = useSharedCluster();
  let world: EmulatedCluster;
  beforeAll(async () => {
    world = await EmulatedCluster.start({
      nodes: 2,
      cluster: cluster(),
      listen: true,
      spec: { prebind: { min: 3, max: 6 }, releaseInterval: "2s", ipCooldown: "0s" },
    });
    await Promise.all(world.nodes.map((n) => n.startAgent()));
  }, 120_000);
  afterAll(async () => {
    await world?.stop();
  }, 60_000);

  test("a fresh node binds pods + min at once, its first ENI in the subnet with most free IPs", async () => {
    const [n1] = world.nodes;
    await waitFor("node1 to bind min prebind", async () => (await n1!.view()).summary.bound === 3);
    const view = await n1!.view();
    expect(view.enis.map((e) => e.subnet)).toEqual(["subnet-pods0001"]);
    expect(view.enis[0]?.routeTable).toBeGreaterThan(2000);
  });

  test("pods on two nodes get VPC IPs and reach each other through the vpc router", async () => {
    const [n1, n2] = world.nodes;
    const a = await n1!.addPod("a");
    const b = await n2!.addPod("b");
    expect(a.ip).toMatch(/^10\.231\.(8|9|12)\./);
    expect(a.ip).not.toBe(b.ip);
    const r = await world.bed.exec(a.pod.ns, ["ping", "-n", "-q", "-c", "2", "-i", "0.1", "-W", "2", b.ip]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  test("the Node carries the eni-ip extended resource: allocatable = bound, capacity = maxBindable", async () => {
    const n1 = world.nodes[0]!;
    await waitFor("the Node status to match the pool", async () => {
      const view = await n1.view();
      const node = (await kubeCall(cluster().admin, "GET", `/api/v1/nodes/${n1.name}`)).json;
      return (
        node.status?.capacity?.["tke.cloud.tencent.com/eni-ip"] === "30" &&
        node.status?.allocatable?.["tke.cloud.tencent.com/eni-ip"] === String(view.summary.bound)
      );
    });
  });

  test("bound stays within pods + min .. pods + max through a burst, and the second ENI comes only when the first is full", async () => {
    const n1 = world.nodes[0]!;
    for (let i = 0; i < 11; i++) await n1.addPod(`burst${i}`);
    const view = await n1.view();
    const pods = view.summary.pods;
    expect(pods).toBe(12);
    // Rule 1, promptly: every ADD, the last one too, is followed by a plan pass, so the pool
    // reaches pods + min within seconds of the last pod, not at the agent's 60 s resync (a pod
    // served from an idle IP used to leave bound one short until then; driver.test.ts has it).
    // The wait covers a throttled bind retried after its back-off (the emulator's default rate
    // limits), when "nothing in flight" alone can be a moment between two binds.
    await waitFor(
      "the pool to reach pods + min with nothing in flight",
      async () => {
        const v = (await n1.view()).summary;
        return v.inflight === 0 && v.bound >= pods + 3;
      },
      15_000,
    );
    const settled = await n1.view();
    expect(settled.summary.bound).toBeLessThanOrEqual(pods + 6);
    expect(settled.enis).toHaveLength(2);
    // ENIs are listed by ID, which is random: order them by size. The first ENI was filled to
    // its quota (10) before a second was made; the second holds the rest.
    const [full, second] = [...settled.enis].sort((a, b) => b.bound - a.bound);
    expect(full!.bound).toBe(10);
    expect(second!.bound).toBe(settled.summary.bound - 10);
  }, 60_000);

  test("idle IPs above pods + max are released after the release interval", async () => {
    const n1 = world.nodes[0]!;
    for (let i = 0; i < 8; i++) await n1.delPod(`burst${i}`);
    const pods = (await n1.view()).summary.pods;
    expect(pods).toBe(4);
    await waitFor("release down to pods + max", async () => {
      const v = await n1.view();
      return v.summary.inflight === 0 && v.summary.bound <= pods + 6;
    });
    expect((await n1.view()).summary.bound).toBeGreaterThanOrEqual(pods + 3);
  });

  test("vpccni status renders the live pool: ENIs, route tables, bound and assigned IPs", async () => {
    const n1 = world.nodes[0]!;
    const view = await n1.view();
    const out = await run([process.execPath, "cli/main.ts", "status", "--socket", n1.socket], { cwd: ROOT });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain(`node ${n1.name} (${n1.instanceId}), policy e2e`);
    expect(out.stdout).toContain(`pods ${view.summary.pods}  bound ${view.summary.bound}/30`);
    for (const eni of view.enis)
      expect(out.stdout).toMatch(
        new RegExp(`${eni.id}\\s+${eni.subnet}\\s+${eni.link}\\s+${eni.routeTable}\\s+${eni.bound}\\s+${eni.assigned}`),
      );
    const missing = await run([process.execPath, "cli/main.ts", "status", "--socket", "/nonexistent/cni.sock"], {
      cwd: ROOT,
    });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      "vpccni status: no agent at /nonexistent/cni.sock: is `vpccni agent` running on this node? (--socket names another path)\n",
    );
  });

  test("a deleted from-pod rule and a deleted ENI default route are put back by the agent's repair loop", async () => {
    const n2 = world.nodes[1]!;
    const b = n2.pods.get("b")!;
    const view = await n2.view();
    const eni = view.pods.find((p) => p.ip === b.ip)?.eni;
    const table = view.enis.find((e) => e.id === eni)?.routeTable;
    expect(table).toBeGreaterThan(2000);
    await world.bed.ip(n2.ns.ns, "rule", "del", "from", b.ip, "lookup", String(table));
    await world.bed.ip(n2.ns.ns, "route", "del", "default", "table", String(table));
    await waitFor(
      "the rule and the route to come back",
      async () => {
        const rules = await world.bed.ip(n2.ns.ns, "rule", "show");
        const routes = await world.bed.ip(n2.ns.ns, "route", "show", "table", String(table));
        return rules.includes(`from ${b.ip} lookup ${table}`) && routes.includes("default");
      },
      30_000,
    );
    const a = world.nodes[0]!.pods.get("a")!;
    const r = await world.bed.exec(a.pod.ns, ["ping", "-n", "-q", "-c", "1", "-W", "2", b.ip]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  test("a graceful restart keeps every pod wired, and the agent comes back with the same pool", async () => {
    const n2 = world.nodes[1]!;
    const before = await n2.view();
    expect(await n2.stopAgent("SIGTERM")).toBe(0);
    const a = world.nodes[0]!.pods.get("a")!;
    const b = n2.pods.get("b")!;
    // While the agent is down, pods already wired keep their network.
    const during = await world.bed.exec(a.pod.ns, ["ping", "-n", "-q", "-c", "1", "-W", "2", b.ip]);
    expect(during.code, during.stdout + during.stderr).toBe(0);
    await n2.startAgent();
    const after = await n2.view();
    expect(after.pods).toEqual(before.pods);
    expect(after.enis.map((e) => [e.id, e.routeTable])).toEqual(before.enis.map((e) => [e.id, e.routeTable]));
  });

  test("health, readiness and Prometheus metrics on the listener; the CNI socket is 0600", async () => {
    const n1 = world.nodes[0]!;
    const base = `http://127.0.0.1:${n1.listenPort}`;
    expect(await (await fetch(`${base}/healthz`)).text()).toBe("ok\n");
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const view = await n1.view();
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain(`vpccni_pool_ips{state="bound"} ${view.summary.bound}`);
    expect(metrics).toContain(`vpccni_pool_ips{state="assigned"} ${view.summary.pods}`);
    expect(metrics).toContain("vpccni_pool_max_bindable 30");
    expect(metrics).toMatch(/vpccni_cloud_operations_total\{action="create-eni",outcome="ok"\} [1-9]/);
    expect(metrics).toMatch(/vpccni_allocations_total\{result="ok"\} [1-9]/);
    expect(statSync(n1.socket).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(n1.socket)).mode & 0o777).toBe(0o700);
  });

  test("an invalid policy reload keeps the old policy and records a PolicyRejected Event on the Node", async () => {
    const n2 = world.nodes[1]!;
    const before = await n2.view();
    n2.writePolicy(policyYaml("e2e", { prebind: { min: 9, max: 1 } }));
    await waitFor("a PolicyRejected event", async () => {
      const events = (
        await kubeCall(
          cluster().admin,
          "GET",
          `/api/v1/namespaces/default/events?fieldSelector=involvedObject.name=${n2.name}`,
        )
      ).json;
      return events.items.some(
        (e: { reason: string; message: string }) =>
          e.reason === "PolicyRejected" && e.message.includes("prebind-min-above-max"),
      );
    });
    expect((await n2.view()).summary.maxBindable).toBe(before.summary.maxBindable);
    // A valid reload after it is applied: the pool grows to the new prebind.min, which the old
    // policy (min 3, max 6) never binds to.
    n2.writePolicy(policyYaml("e2e", { prebind: { min: 9, max: 9 }, releaseInterval: "2s", ipCooldown: "0s" }));
    await waitFor("the pool to grow to the reloaded prebind.min of 9", async () => {
      const s = (await n2.view()).summary;
      return s.bound - s.pods >= 9 && s.inflight === 0;
    });
    n2.writePolicy(policyYaml("e2e", { prebind: { min: 3, max: 6 }, releaseInterval: "2s", ipCooldown: "0s" }));
    expect((await n2.view()).summary.pods).toBe(before.summary.pods);
  });

  test("logs are JSON lines, never carry the cloud credentials used, and show the node found by metadata", async () => {
    const state = await world.emulator.admin.state();
    const secrets = state.credentials.flatMap((c) => [c.secretKey, ...(c.token ? [c.token] : [])]);
    expect(secrets.length).toBeGreaterThan(0);
    for (const node of world.nodes) {
      const lines = node
        .agentLog()
        .split("\n")
        .filter((l) => l.startsWith("{"));
      expect(lines.length).toBeGreaterThan(5);
      for (const line of lines) {
        const record = JSON.parse(line) as Record<string, unknown>;
        expect(Object.keys(record).slice(0, 3)).toEqual(["time", "level", "msg"]);
        for (const secret of secrets) expect(line).not.toContain(secret);
      }
      // Node discovery found eth0 by the primary ENI's MAC from the metadata service.
      const identified = lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((r) => r.msg === "node identified");
      expect(identified).toMatchObject({
        instanceId: node.instanceId,
        zone: "ap-guangzhou-3",
        primaryInterface: "eth0",
      });
    }
  });
});
