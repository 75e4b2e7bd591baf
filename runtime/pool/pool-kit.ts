// Helpers for the engine's tests: a state builder, pods placed on it, and a fake cloud that
// always succeeds.
import { allocate } from "./allocate.ts";
import { applyResult } from "./apply-result.ts";
import { cloneState, createState } from "./state.ts";
import type { Decision, EniInventory, OperationResult, PoolSettings, PoolState, Quota } from "./types.ts";

export const SUBNET_A = "subnet-aaaaaaaa";
export const SUBNET_B = "subnet-bbbbbbbb";

export function settings(over: Partial<PoolSettings> = {}): PoolSettings {
  return {
    minPrebind: 5,
    maxPrebind: 5,
    releaseIntervalMs: 120_000,
    cooldownMs: 30_000,
    subnets: [SUBNET_A],
    floor: 0,
    ...over,
  };
}

export function makeState(
  opts: {
    settings?: Partial<PoolSettings>;
    quota?: Partial<Quota>;
    subnets?: Record<string, number>;
    enis?: EniInventory[];
  } = {},
): PoolState {
  return createState({
    settings: settings(opts.settings),
    quota: { enis: 3, ipsPerEni: 10, ipsPerCall: 10, ...opts.quota },
    subnets: opts.subnets ?? { [SUBNET_A]: 1000 },
    ...(opts.enis ? { enis: opts.enis } : {}),
  });
}

/** `n` addresses 10.<eni>.0.<i> for an inventory ENI. */
export function ips(eni: number, n: number, from = 1): string[] {
  return Array.from({ length: n }, (_, i) => `10.${eni}.0.${from + i}`);
}

/** Pods net/c<from>/eth0 ... added through allocate(), which places them by rule 5a. */
export function withPods(state: PoolState, n: number, now = 0, from = 0): PoolState {
  let s = state;
  for (let i = from; i < from + n; i++) {
    const r = allocate(s, `net/c${i}/eth0`, now, fixedRng(0));
    if (!r.ok) throw new Error(r.error.message);
    s = r.state;
  }
  return s;
}

/** Puts a pod on a given IP by hand, to set up a placement that allocate() would not choose. */
export function assignTo(state: PoolState, eni: string, ip: string, key: string): PoolState {
  const s = cloneState(state);
  const slot = s.enis.find((e) => e.id === eni)?.ips.find((x) => x.ip === ip);
  if (slot === undefined) throw new Error(`no ${ip} on ${eni}`);
  slot.pod = key;
  s.pods[key] = { ip, eni, since: 0 };
  return s;
}

/** A cloud that grants every decision, handing out fresh addresses. */
export class FakeCloud {
  private nextIp = 1;
  private nextEni = 100;
  result(d: Decision): OperationResult {
    switch (d.action) {
      case "bind":
        return { ok: true, ips: this.fresh(d.count) };
      case "create-eni":
        return { ok: true, eni: `eni-${String(this.nextEni++).padStart(8, "0")}`, ips: this.fresh(d.ips) };
      default:
        return { ok: true };
    }
  }
  /** Completes every in-flight operation successfully. */
  settle(state: PoolState, now: number): PoolState {
    let s = state;
    for (const op of state.inflight) s = applyResult(s, op.decision.id, this.result(op.decision), now);
    return s;
  }
  private fresh(n: number): string[] {
    return Array.from({ length: n }, () => {
      const i = this.nextIp++;
      return `172.16.${Math.floor(i / 250)}.${(i % 250) + 1}`;
    });
  }
}

export const fixedRng = (value: number) => () => value;
