// The simulated cloud: how long each operation takes, how often it fails, and the subnets'
// free IPs shared by all nodes. Seeded, so a run replays exactly.
import type { Decision, ErrorKind, OperationResult, Rng } from "../runtime/pool/index.ts";

export type ApiAction =
  | "CreateNetworkInterface"
  | "AttachNetworkInterface"
  | "AssignPrivateIpAddresses"
  | "UnassignPrivateIpAddresses"
  | "DetachNetworkInterface"
  | "DeleteNetworkInterface";

export const API_ACTIONS: readonly ApiAction[] = [
  "AssignPrivateIpAddresses",
  "AttachNetworkInterface",
  "CreateNetworkInterface",
  "DeleteNetworkInterface",
  "DetachNetworkInterface",
  "UnassignPrivateIpAddresses",
];

/** IPs one Create or Assign call carries (the cloud adapter's maxIpsPerCall, Tencent's 10). */
export const IPS_PER_CALL = 10;

/**
 * The API calls one decision costs, in order: create + attach and detach + delete are two calls
 * each; a Create asking for more IPs than one call carries gets the rest in Assigns before the
 * attach, as the cloud adapter does.
 */
export function callsOf(d: Decision): ApiAction[] {
  switch (d.action) {
    case "bind":
      return ["AssignPrivateIpAddresses"];
    case "create-eni": {
      const assigns = Math.max(0, Math.ceil((d.ips - IPS_PER_CALL) / IPS_PER_CALL));
      return [
        "CreateNetworkInterface",
        ...Array.from({ length: assigns }, (): ApiAction => "AssignPrivateIpAddresses"),
        "AttachNetworkInterface",
      ];
    }
    case "release":
      return ["UnassignPrivateIpAddresses"];
    case "delete-eni":
      return ["DetachNetworkInterface", "DeleteNetworkInterface"];
  }
}

/** Seconds each decision takes end to end (uniform in [min, max]) and error probabilities per decision. */
export interface LatencyProfile {
  name: string;
  bind: [number, number];
  createEni: [number, number];
  release: [number, number];
  deleteEni: [number, number];
  throttledRate: number;
  transientRate: number;
}

export const LATENCY_PROFILES: Record<string, LatencyProfile> = {
  // Async tasks finishing quickly, a healthy account.
  fast: {
    name: "fast",
    bind: [0.2, 0.5],
    createEni: [1, 2],
    release: [0.2, 0.5],
    deleteEni: [1, 2],
    throttledRate: 0,
    transientRate: 0,
  },
  // What the VPC API usually does: seconds for an attach, rare throttling.
  typical: {
    name: "typical",
    bind: [0.5, 1.5],
    createEni: [3, 8],
    release: [0.5, 1.5],
    deleteEni: [2, 5],
    throttledRate: 0.01,
    transientRate: 0.005,
  },
  // A busy region: slow async tasks and frequent throttling.
  slow: {
    name: "slow",
    bind: [1.5, 5],
    createEni: [8, 25],
    release: [1.5, 5],
    deleteEni: [5, 15],
    throttledRate: 0.08,
    transientRate: 0.02,
  },
};

/** A profile from JSON (`--latency my-profile.json`); errors name the field and what is allowed. */
export function parseLatencyProfile(raw: unknown, name: string): LatencyProfile {
  const o = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
  const range = (field: string): [number, number] => {
    const v = o[field];
    if (
      !Array.isArray(v) ||
      v.length !== 2 ||
      !v.every((x) => typeof x === "number" && x >= 0) ||
      (v[0] as number) > (v[1] as number)
    ) {
      throw new Error(`${name}: ${field} (${JSON.stringify(v)}) must be [min, max] seconds with 0 <= min <= max`);
    }
    return [v[0] as number, v[1] as number];
  };
  const rate = (field: string): number => {
    const v = o[field] ?? 0;
    if (typeof v !== "number" || v < 0 || v > 1)
      throw new Error(`${name}: ${field} (${JSON.stringify(v)}) must be a probability between 0 and 1`);
    return v;
  };
  const profile = {
    name,
    bind: range("bind"),
    createEni: range("createEni"),
    release: range("release"),
    deleteEni: range("deleteEni"),
    throttledRate: rate("throttledRate"),
    transientRate: rate("transientRate"),
  };
  if (profile.throttledRate + profile.transientRate > 1)
    throw new Error(`${name}: throttledRate + transientRate must not exceed 1`);
  return profile;
}

export class CloudModel {
  private nextIp = 0;
  private nextEni = 1;
  private readonly enis = new Map<string, string>(); // eni -> subnet
  readonly free: Map<string, number>;

  constructor(
    subnets: Record<string, number>,
    private readonly profile: LatencyProfile,
    private readonly rng: Rng,
  ) {
    this.free = new Map(Object.entries(subnets));
  }

  /** Decides, when the decision starts, how long it takes and what it returns. */
  start(d: Decision): { durationMs: number; result: OperationResult } {
    const range =
      d.action === "bind"
        ? this.profile.bind
        : d.action === "create-eni"
          ? this.profile.createEni
          : d.action === "release"
            ? this.profile.release
            : this.profile.deleteEni;
    const durationMs = Math.round((range[0] + (range[1] - range[0]) * this.rng()) * 1000);
    const roll = this.rng();
    const fail = (kind: ErrorKind) => ({ durationMs, result: { ok: false as const, error: { kind } } });
    if (roll < this.profile.throttledRate) return fail("throttled");
    if (roll < this.profile.throttledRate + this.profile.transientRate) return fail("transient");
    switch (d.action) {
      case "bind": {
        const subnet = this.enis.get(d.eni) ?? "";
        if (!this.take(subnet, d.count)) return fail("subnet-exhausted");
        return { durationMs, result: { ok: true, ips: this.addresses(d.count) } };
      }
      case "create-eni": {
        if (!this.take(d.subnet, d.ips)) return fail("subnet-exhausted");
        const eni = `eni-${(this.nextEni++).toString(36).padStart(8, "0")}`;
        this.enis.set(eni, d.subnet);
        return { durationMs, result: { ok: true, eni, ips: this.addresses(d.ips) } };
      }
      case "release":
        this.give(this.enis.get(d.eni) ?? "", d.ips.length);
        return { durationMs, result: { ok: true } };
      case "delete-eni":
        return { durationMs, result: { ok: true } };
    }
  }

  /** IPs still on an ENI go back to its subnet when the ENI is deleted. */
  deleted(eni: string, ips: number): void {
    this.give(this.enis.get(eni) ?? "", ips);
    this.enis.delete(eni);
  }

  private take(subnet: string, n: number): boolean {
    const free = this.free.get(subnet) ?? 0;
    if (free < n) return false;
    this.free.set(subnet, free - n);
    return true;
  }

  private give(subnet: string, n: number): void {
    if (this.free.has(subnet)) this.free.set(subnet, (this.free.get(subnet) ?? 0) + n);
  }

  private addresses(n: number): string[] {
    return Array.from({ length: n }, () => {
      const i = this.nextIp++;
      return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    });
  }
}
