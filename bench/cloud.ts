// Cloud benchmarks: what the emulator sustains, what the adapter adds per call over the raw
// SDK, and what importing the SDK costs at start-up. Prints figures; never fails on time.
// Loopback only, bounded loops. Run: node_modules/.bin/bun bench/cloud.ts
import http from "node:http";
import { vpc } from "tencentcloud-sdk-nodejs/tencentcloud/services/vpc";
import { startEmulator, type Emulator } from "../emulator/index.ts";
import { TencentVpcApi } from "../runtime/cloud/index.ts";
import { signingAsVpc } from "../runtime/cloud/sdk.ts";

const READS = 3_000;
const CONCURRENCY = 16;
const SEQUENTIAL = 400;
const STARTS = 5;

function rawClient(emu: Emulator) {
  // Bun's fetch reads http_proxy itself; keep loopback off any proxy.
  process.env.NO_PROXY = [process.env.NO_PROXY, "127.0.0.1"].filter(Boolean).join(",");
  return new vpc.v20170312.Client({
    credential: emu.credentials,
    region: emu.region,
    profile: {
      httpProfile: {
        endpoint: signingAsVpc(emu.endpoint),
        protocol: "http://",
        agent: new http.Agent({ keepAlive: true }),
      },
    },
  });
}

async function throughput(emu: Emulator): Promise<void> {
  const client = rawClient(emu);
  const instanceId = emu.inventory().instances[0]!.instanceId;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < READS) {
        next++;
        await client.DescribeNetworkInterfaces({ Filters: [{ Name: "attachment.instance-id", Values: [instanceId] }] });
      }
    }),
  );
  const s = (performance.now() - t0) / 1000;
  console.log(
    `emulator: ${READS} signed DescribeNetworkInterfaces, ${CONCURRENCY} in flight: ${(READS / s).toFixed(0)} requests/s`,
  );

  const w = emu.inventory();
  const t1 = performance.now();
  const CYCLES = 100;
  for (let i = 0; i < CYCLES; i++) {
    const c = await client.CreateNetworkInterface({
      VpcId: w.vpcs[0]!.vpcId,
      SubnetId: w.subnets[1]!.subnetId,
      NetworkInterfaceName: "bench",
      SecurityGroupIds: w.securityGroups,
      SecondaryPrivateIpAddressCount: 5,
    });
    await emu.admin.tick();
    await client.DeleteNetworkInterface({ NetworkInterfaceId: c.NetworkInterface!.NetworkInterfaceId! });
  }
  const s1 = (performance.now() - t1) / 1000;
  console.log(
    `emulator: ${CYCLES} create+delete ENI cycles (sequential, tasks of 0 ms): ${((CYCLES * 2) / s1).toFixed(0)} mutations/s`,
  );
}

async function overhead(emu: Emulator): Promise<void> {
  const raw = rawClient(emu);
  const unlimited = Object.fromEntries(
    ["DescribeNetworkInterfaceLimit", "DescribeSubnets"].map((a) => [a, { perSecond: 1e9, burst: 1e9 }]),
  );
  const api = new TencentVpcApi({
    region: emu.region,
    endpoint: `http://${emu.endpoint}`,
    credentials: { description: "bench", get: async () => emu.credentials },
    clusterId: "cls-bench",
    vpcId: emu.inventory().vpcs[0]!.vpcId,
    rates: unlimited,
  });
  const instanceId = emu.inventory().instances[0]!.instanceId;
  const time = async (fn: () => Promise<unknown>) => {
    for (let i = 0; i < 50; i++) await fn(); // warm-up
    const t = performance.now();
    for (let i = 0; i < SEQUENTIAL; i++) await fn();
    return ((performance.now() - t) / SEQUENTIAL) * 1000;
  };
  const rawUs = await time(() => raw.DescribeNetworkInterfaceLimit({ InstanceId: instanceId }));
  const adapterUs = await time(() => api.instanceLimits(instanceId));
  console.log(
    `adapter: DescribeNetworkInterfaceLimit raw SDK ${rawUs.toFixed(0)} µs/call, TencentVpcApi ${adapterUs.toFixed(0)} µs/call (overhead ${(adapterUs - rawUs).toFixed(0)} µs, ratio ${(adapterUs / rawUs).toFixed(2)})`,
  );
}

async function startup(): Promise<void> {
  const bun = process.execPath;
  const median = async (code: string) => {
    await Bun.spawn([bun, "-e", code], { cwd: `${import.meta.dir}/..`, stdout: "ignore", stderr: "ignore" }).exited; // warm the file cache
    const runs: number[] = [];
    for (let i = 0; i < STARTS; i++) {
      const t = performance.now();
      const p = Bun.spawn([bun, "-e", code], { cwd: `${import.meta.dir}/..`, stdout: "ignore", stderr: "ignore" });
      await p.exited;
      runs.push(performance.now() - t);
    }
    return runs.sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
  };
  const empty = await median("0");
  const vpcOnly = await median('await import("tencentcloud-sdk-nodejs/tencentcloud/services/vpc")');
  const index = await median('await import("tencentcloud-sdk-nodejs")');
  const cloud = await median('await import("./runtime/cloud/index.ts")');
  console.log(
    `start-up (median of ${STARTS}): bun alone ${empty.toFixed(0)} ms, + VPC service only ${vpcOnly.toFixed(0)} ms, + whole SDK index ${index.toFixed(0)} ms, + runtime/cloud ${cloud.toFixed(0)} ms`,
  );
}

const emu = await startEmulator({
  config: {
    settings: {
      asyncMs: { create: 0, attach: 0, detach: 0, delete: 0, assign: 0, unassign: 0 },
      // the bench measures the adapter, not the cloud's default rate limits
      rateLimits: { CreateNetworkInterface: 0, DeleteNetworkInterface: 0, DescribeNetworkInterfaceLimit: 0 },
    },
  },
  log: () => {},
});
try {
  await throughput(emu);
  await overhead(emu);
} finally {
  await emu.stop();
}
await startup();
