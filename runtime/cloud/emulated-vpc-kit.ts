// For tests: an emulator and a TencentVpcApi sharing one fake clock. The adapter's sleeps move
// the clock (plus a real pause of `realPauseMs` so servers get to run), so waits, backoff and
// token buckets cost no wall time and no assertion depends on timing.
import { startEmulator, type Emulator, type EmulatorConfigInput } from "../../emulator/index.ts";
import type { Clock } from "./clock.ts";
import type { CredentialSource } from "./credentials.ts";
import { TencentVpcApi, type TencentVpcApiOptions } from "./tencent.ts";

export const VPC = "vpc-cccccccc";
export const SG = "sg-cccccccc";
export const NODE_SUBNET = "subnet-nodes002";
export const POD_SUBNET = "subnet-pods0002";
export const TINY_SUBNET = "subnet-tiny0002";
export const FAR_SUBNET = "subnet-zone4002";
export const INSTANCE = "ins-cccccccc";

export function testConfig(extra: Partial<EmulatorConfigInput> = {}): EmulatorConfigInput {
  return {
    seed: 11,
    vpcs: [{ vpcId: VPC, cidrBlock: "10.2.0.0/16" }],
    subnets: [
      { subnetId: NODE_SUBNET, vpcId: VPC, cidrBlock: "10.2.0.0/24", zone: "ap-guangzhou-3" },
      { subnetId: POD_SUBNET, vpcId: VPC, cidrBlock: "10.2.16.0/22", zone: "ap-guangzhou-3" },
      { subnetId: TINY_SUBNET, vpcId: VPC, cidrBlock: "10.2.32.0/29", zone: "ap-guangzhou-3" },
      { subnetId: FAR_SUBNET, vpcId: VPC, cidrBlock: "10.2.48.0/24", zone: "ap-guangzhou-4" },
    ],
    securityGroups: [SG],
    instanceTypes: { "S5.2XLARGE16": { eniQuota: 4, ipsPerEni: 20 } },
    instances: [{ instanceId: INSTANCE, instanceType: "S5.2XLARGE16", zone: "ap-guangzhou-3", subnetId: NODE_SUBNET }],
    ...extra,
  };
}

export class FakeClock implements Clock {
  t = Date.now();
  constructor(public realPauseMs = 0) {}
  now = () => this.t;
  sleep = async (ms: number) => {
    this.t += ms;
    await Bun.sleep(this.realPauseMs);
  };
}

export interface EmulatedVpc {
  emu: Emulator;
  api: TencentVpcApi;
  clock: FakeClock;
  stop(): Promise<void>;
}

export async function startEmulatedVpc(
  opts: {
    config?: EmulatorConfigInput;
    statePath?: string;
    port?: number;
    clock?: FakeClock;
    credentials?: CredentialSource;
    api?: Partial<TencentVpcApiOptions>;
    seed?: number;
  } = {},
): Promise<EmulatedVpc> {
  const clock = opts.clock ?? new FakeClock();
  const emu = await startEmulator({
    config: opts.config ?? testConfig(),
    now: clock.now,
    log: () => {},
    statePath: opts.statePath,
    port: opts.port,
  });
  const api = newApi(emu, clock, opts.credentials, opts.api, opts.seed);
  return { emu, api, clock, stop: () => emu.stop() };
}

export function newApi(
  emu: Emulator,
  clock: Clock,
  credentials?: CredentialSource,
  extra: Partial<TencentVpcApiOptions> = {},
  seed = 1,
): TencentVpcApi {
  let s = seed;
  const random = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  return new TencentVpcApi({
    region: emu.region,
    endpoint: `http://${emu.endpoint}`,
    credentials: credentials ?? { description: "emulator key", get: async () => emu.credentials },
    clusterId: "cls-test0001",
    vpcId: VPC,
    clock,
    random,
    ...extra,
  });
}
