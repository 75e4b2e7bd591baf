// From a policy and the instance quota to the numbers the rules compare against.
import type { PolicySpec } from "../../schema/policy.ts";
import { parseDuration } from "../../schema/duration.ts";
import type { PoolSettings, PoolState, Quota } from "./types.ts";

/** The engine's view of a validated policy. Throws, naming the field, on a duration the schema should have refused. */
export function settingsFromPolicy(spec: PolicySpec): PoolSettings {
  return {
    minPrebind: spec.prebind.min,
    maxPrebind: spec.prebind.max,
    releaseIntervalMs: durationField("releaseInterval", spec.releaseInterval),
    cooldownMs: durationField("ipCooldown", spec.ipCooldown),
    subnets: [...spec.subnets],
    ...(spec.limits?.maxEnisPerNode !== undefined ? { maxEnisPerNode: spec.limits.maxEnisPerNode } : {}),
    ...(spec.limits?.ipsPerEni !== undefined ? { ipsPerEni: spec.limits.ipsPerEni } : {}),
    floor: 0,
    ...(spec.enabled === false ? { draining: true } : {}),
  };
}

function durationField(field: string, value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined)
    throw new Error(`spec.${field} ${JSON.stringify(value)} is not a duration; allowed: "30s", "2m", "1h30m"`);
  return ms;
}

/** Checks that keep a hand-built state (the simulator, tests) from silently misbehaving. */
export function checkSettings(settings: PoolSettings, quota: Quota): void {
  const ints: [string, number][] = [
    ["settings.minPrebind", settings.minPrebind],
    ["settings.maxPrebind", settings.maxPrebind],
    ["settings.floor", settings.floor],
    ["settings.releaseIntervalMs", settings.releaseIntervalMs],
    ["settings.cooldownMs", settings.cooldownMs],
    ["quota.enis", quota.enis],
    ["quota.ipsPerEni", quota.ipsPerEni],
  ];
  for (const [field, value] of ints) {
    if (!Number.isInteger(value) || value < 0) throw new Error(`${field} (${value}) must be an integer >= 0`);
  }
  if (!Number.isInteger(quota.ipsPerCall) || quota.ipsPerCall < 1)
    throw new Error(`quota.ipsPerCall (${quota.ipsPerCall}) must be an integer >= 1`);
  if (settings.minPrebind > settings.maxPrebind) {
    throw new Error(
      `settings.minPrebind (${settings.minPrebind}) must not be greater than settings.maxPrebind (${settings.maxPrebind}); allowed: min <= max`,
    );
  }
}

export interface Limits {
  maxEnis: number;
  ipsPerEni: number;
  /** maxBindable = maxEnis x ipsPerEni, after the policy's lower-only limits. */
  maxBindable: number;
  ipsPerCall: number;
}

/** Policy limits may only lower the instance quota, never raise it. */
export function limitsOf(state: Pick<PoolState, "settings" | "quota">): Limits {
  const { settings, quota } = state;
  const maxEnis = Math.min(quota.enis, settings.maxEnisPerNode ?? Infinity);
  const ipsPerEni = Math.min(quota.ipsPerEni, settings.ipsPerEni ?? Infinity);
  return { maxEnis, ipsPerEni, maxBindable: maxEnis * ipsPerEni, ipsPerCall: quota.ipsPerCall };
}
