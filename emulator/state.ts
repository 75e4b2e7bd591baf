// The emulated cloud's state: the static world (VPCs, subnets, instances, credentials) and
// what clients changed (ENIs, IPs, tasks, ClientTokens). It is plain JSON so that --state can
// persist it and a restarted emulator continues where it stopped, tasks included.
import { randomBytes } from "node:crypto";
import { renameSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import { type EmulatorConfig, type Faults, type Settings } from "./config.ts";
import { parseCidr, within, overlaps } from "./cidr.ts";
import { allocate } from "./ipam.ts";
import { Rng } from "./rng.ts";

export const STATE_VERSION = "vpccni-emulator/1";

export type EniState = "PENDING" | "AVAILABLE" | "ATTACHING" | "DETACHING" | "DELETING";
export interface IpRec {
  ip: string;
  primary: boolean;
  state: "PENDING" | "AVAILABLE" | "DELETING";
}
export interface EniRec {
  eniId: string;
  name: string;
  description: string;
  vpcId: string;
  subnetId: string;
  zone: string;
  mac: string;
  primary: boolean;
  state: EniState;
  ips: IpRec[];
  groups: string[];
  tags: Record<string, string>;
  attachment?: { instanceId: string; deviceIndex: number; attachTime: string };
  createdTime: string;
}
export interface SubnetRec {
  subnetId: string;
  vpcId: string;
  cidrBlock: string;
  zone: string;
  name: string;
  tags: Record<string, string>;
}
export interface InstanceRec {
  instanceId: string;
  instanceType: string;
  zone: string;
  vpcId: string;
  subnetId: string;
  role: string;
  primaryEniId: string;
}
export interface TaskRec {
  taskId: string;
  action: string;
  eniId: string;
  status: "RUNNING" | "SUCCESS" | "FAILED";
  /** Emulator clock (ms) at which the task completes. */
  doneAt: number;
  ips?: string[];
  instanceId?: string;
  output?: string;
  /** Ends FAILED and undoes the call (the taskFailRate fault). */
  fail?: boolean;
}
export interface ClientTokenRec {
  paramsHash: string;
  response: Record<string, unknown>;
}
export interface CredentialRec {
  secretId: string;
  secretKey: string;
  token?: string;
  /** Unix seconds after which the credential is refused (temporary credentials). */
  expiresAt?: number;
  /** Actions the credential may call; unset: all. */
  actions?: string[];
}
export interface State {
  version: typeof STATE_VERSION;
  region: string;
  rngPosition: number;
  vpcs: { vpcId: string; cidrBlock: string }[];
  subnets: SubnetRec[];
  securityGroups: string[];
  instanceTypes: Record<string, { eniQuota: number; ipsPerEni: number }>;
  instances: InstanceRec[];
  enis: Record<string, EniRec>;
  tasks: Record<string, TaskRec>;
  /** Keyed by `${action}/${ClientToken}`. */
  clientTokens: Record<string, ClientTokenRec>;
  credentials: CredentialRec[];
  settings: Settings;
  faults: Faults;
}

/** Default instance type: 4 vCPU / 8 GB; 4 ENIs of 10 IPs each, as the CVM quota table lists for this size. */
export const DEFAULT_INSTANCE_TYPE = "S5.LARGE8";

/** `YYYY-MM-DD hh:mm:ss` as the API prints times (the emulator uses UTC, the cloud UTC+8). */
export function apiTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}

export interface BuildOptions {
  instances?: number;
  env?: Record<string, string | undefined>;
  nowMs: number;
}

export function buildState(config: EmulatorConfig, opts: BuildOptions): { state: State; rng: Rng } {
  const rng = new Rng(config.seed);
  const vpcs = config.vpcs ?? [{ vpcId: rng.id("vpc"), cidrBlock: "10.0.0.0/16" }];
  const defaultVpc = vpcs[0]!.vpcId;
  // Two zones, as a real region has: a node subnet and pod subnets in each. The first three
  // subnets keep the IDs and places they had when the default world had one zone.
  const [zoneA, zoneB] = [`${config.region}-3`, `${config.region}-4`];
  const subnet = (cidrBlock: string, zone: string, name: string): SubnetRec => ({
    subnetId: rng.id("subnet"),
    vpcId: defaultVpc,
    cidrBlock,
    zone,
    name,
    tags: {},
  });
  const subnets: SubnetRec[] = (
    config.subnets ?? [
      subnet("10.0.0.0/24", zoneA, "nodes"),
      subnet("10.0.16.0/20", zoneA, "pods-large"),
      subnet("10.0.32.0/26", zoneA, "pods-small"),
      subnet("10.0.1.0/24", zoneB, "nodes-4"),
      subnet("10.0.48.0/20", zoneB, "pods-4"),
    ]
  ).map((s) => ({ ...s }));
  checkTopology(vpcs, subnets);
  const securityGroups = config.securityGroups ?? [rng.id("sg")];
  const instanceTypes = config.instanceTypes ?? { [DEFAULT_INSTANCE_TYPE]: { eniQuota: 4, ipsPerEni: 10 } };
  const count = opts.instances ?? config.instanceCount;
  // Default instances alternate over the zones' node subnets (the default world's two, or the
  // first configured subnet).
  const nodeSubnets = config.subnets ? [subnets[0]!] : subnets.filter((s) => s.name.startsWith("nodes"));
  const instanceSpecs =
    config.instances ??
    Array.from({ length: count }, (_, i) => {
      const nodeSubnet = nodeSubnets[i % nodeSubnets.length]!;
      return {
        instanceId: rng.id("ins"),
        instanceType: Object.keys(instanceTypes)[0] ?? DEFAULT_INSTANCE_TYPE,
        zone: nodeSubnet.zone,
        subnetId: nodeSubnet.subnetId,
        role: "vpccni-node",
      };
    });
  const state: State = {
    version: STATE_VERSION,
    region: config.region,
    rngPosition: 0,
    vpcs,
    subnets,
    securityGroups,
    instanceTypes,
    instances: [],
    enis: {},
    tasks: {},
    clientTokens: {},
    credentials: config.credentials ?? [defaultCredential(opts.env ?? {})],
    settings: config.settings,
    faults: config.faults,
  };
  for (const spec of instanceSpecs) addInstance(state, rng, spec, opts.nowMs);
  state.rngPosition = rng.position;
  return { state, rng };
}

export interface InstanceSpec {
  instanceId: string;
  instanceType: string;
  zone: string;
  subnetId: string;
  role: string;
}

/** A new instance with its primary ENI (and primary IP) in `spec.subnetId`. */
export function addInstance(state: State, rng: Rng, spec: InstanceSpec, nowMs: number): InstanceRec {
  const { subnets, instanceTypes } = state;
  if (state.instances.some((i) => i.instanceId === spec.instanceId))
    throw new Error(`instance ${spec.instanceId} exists already`);
  const subnet = subnets.find((s) => s.subnetId === spec.subnetId);
  if (!subnet)
    throw new Error(
      `instance ${spec.instanceId}: subnetId '${spec.subnetId}' is not a configured subnet; allowed: ${subnets.map((s) => s.subnetId).join(", ")}`,
    );
  if (!instanceTypes[spec.instanceType])
    throw new Error(
      `instance ${spec.instanceId}: instanceType '${spec.instanceType}' is not configured; allowed: ${Object.keys(instanceTypes).join(", ")}`,
    );
  if (subnet.zone !== spec.zone)
    throw new Error(`instance ${spec.instanceId}: zone '${spec.zone}' differs from its subnet's zone '${subnet.zone}'`);
  const primaryIp = allocate(state, subnet, 1)?.[0];
  if (primaryIp === undefined)
    throw new Error(
      `instance ${spec.instanceId}: subnet ${subnet.subnetId} (${subnet.cidrBlock}) has no address left for its primary IP`,
    );
  let eniId = rng.id("eni");
  while (state.enis[eniId]) eniId = rng.id("eni");
  state.enis[eniId] = {
    eniId,
    name: "primary",
    description: "",
    vpcId: subnet.vpcId,
    subnetId: subnet.subnetId,
    zone: subnet.zone,
    mac: rng.mac(),
    primary: true,
    state: "AVAILABLE",
    ips: [{ ip: primaryIp, primary: true, state: "AVAILABLE" }],
    groups: state.securityGroups.slice(0, 1),
    tags: {},
    attachment: { instanceId: spec.instanceId, deviceIndex: 0, attachTime: apiTime(nowMs) },
    createdTime: apiTime(nowMs),
  };
  const inst = { ...spec, vpcId: subnet.vpcId, primaryEniId: eniId };
  state.instances.push(inst);
  return inst;
}

function checkTopology(vpcs: State["vpcs"], subnets: SubnetRec[]): void {
  subnets.forEach((s, i) => {
    const vpc = vpcs.find((v) => v.vpcId === s.vpcId);
    if (!vpc)
      throw new Error(
        `subnets[${i}].vpcId '${s.vpcId}' is not a configured VPC; allowed: ${vpcs.map((v) => v.vpcId).join(", ")}`,
      );
    if (!within(parseCidr(s.cidrBlock), parseCidr(vpc.cidrBlock)))
      throw new Error(`subnets[${i}].cidrBlock '${s.cidrBlock}' is outside VPC ${vpc.vpcId} (${vpc.cidrBlock})`);
    subnets.slice(0, i).forEach((o) => {
      if (o.vpcId === s.vpcId && overlaps(parseCidr(o.cidrBlock), parseCidr(s.cidrBlock)))
        throw new Error(`subnets[${i}].cidrBlock '${s.cidrBlock}' overlaps ${o.subnetId} (${o.cidrBlock})`);
    });
  });
}

/** The API key from the environment when set, else a fresh random pair (printed at start). */
function defaultCredential(env: Record<string, string | undefined>): CredentialRec {
  const id = env.TENCENTCLOUD_SECRET_ID;
  const key = env.TENCENTCLOUD_SECRET_KEY;
  if (id && key) return { secretId: id, secretKey: key };
  return { secretId: "AKIDemu" + randomBytes(14).toString("hex"), secretKey: randomBytes(16).toString("hex") };
}

export function saveState(path: string, state: State): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(state));
  renameSync(tmp, path);
}

export function loadState(path: string): State | undefined {
  if (!existsSync(path)) return undefined;
  const data = JSON.parse(readFileSync(path, "utf8")) as Partial<State>;
  if (data.version !== STATE_VERSION)
    throw new Error(
      `state file ${path}: version '${String(data.version)}' is not supported; allowed: ${STATE_VERSION}`,
    );
  return data as State;
}
