// The agent's mode: IprouteDataPlane with no netns option acts on the namespace it runs in
// (sysctls through /proc/sys directly). Run inside a node namespace, never the host's.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join, resolve } from "node:path";
import type { FabricEni } from "../../emulator/fabric.ts";
import { NetnsFabric } from "../../sandbox/vpc-fabric.ts";
import { createTestBed, type NodeNs, type TestBed } from "../../sandbox/test-bed.ts";

const ROOT = resolve(import.meta.dir, "../..");
let bed: TestBed;
let node: NodeNs;

beforeAll(async () => {
  bed = await createTestBed();
  node = await bed.addNode();
  const fabric = new NetnsFabric(bed, () => node);
  const eni: FabricEni = {
    eniId: "eni-self",
    mac: "02:00:0a:e8:09:01",
    vpcId: "v",
    subnetId: "s",
    cidrBlock: "10.231.8.0/24",
    gateway: "10.231.8.1",
    primaryIp: "10.231.8.90",
    secondaryIps: [],
    deviceIndex: 2,
  };
  await fabric.onAttach(eni, { instanceId: "ins-self", zone: "z", primaryIp: node.ip, primaryMac: "" });
  await bed.sysctl(node.ns, "net.ipv4.conf.all.rp_filter", "1");
}, 30_000);

afterAll(async () => {
  await bed?.destroy();
});

test("with no netns option the data plane configures the namespace it runs in", async () => {
  const r = await bed.exec(node.ns, [
    process.execPath,
    join(ROOT, "test/dataplane/self-netns-probe.ts"),
    "02:00:0a:e8:09:01",
    "10.231.8.0/24",
    "10.231.8.1",
  ]);
  expect(r.stderr).toBe("");
  const out = JSON.parse(r.stdout) as { link: { name: string; ifindex: number; table: number }; fixed: string[] };
  expect(out.link.name).toBe("eth2");
  expect(out.link.table).toBe(out.link.ifindex + 2000);
  expect(out.fixed).toEqual([]);
  const sysctls = await bed.execOk(node.ns, [
    "sysctl",
    "-n",
    "net.ipv4.conf.all.rp_filter",
    "net.ipv4.conf.eth2.rp_filter",
    "net.ipv4.ip_forward",
  ]);
  expect(sysctls.trim().split("\n")).toEqual(["0", "0", "1"]);
  expect(await bed.ip(node.ns, "route", "show", "table", String(out.link.table))).toContain(
    "default via 10.231.8.1 dev eth2 onlink",
  );
}, 30_000);
