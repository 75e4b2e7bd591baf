// Deterministic names and MACs of a pod's veth pair, derived from the attachment key, so
// DEL finds the host end without the pod's netns and CHECK knows what to expect.
import { createHash } from "node:crypto";
import type { PodKey } from "./types.ts";

export const HOST_VETH_PREFIX = "vpc";
const ALIAS_TAG = "vpccni";
const FIELD = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;

function digest(key: PodKey): string {
  return createHash("sha256").update(`${key.network}\0${key.containerId}\0${key.ifname}`).digest("hex");
}

/** `vpc` + 12 hex = 15 characters, the Linux limit. */
export function hostVethName(key: PodKey): string {
  return HOST_VETH_PREFIX + digest(key).slice(0, 12);
}

function mac(firstByte: string, hex: string): string {
  return [firstByte, ...(hex.match(/../g) ?? []).slice(0, 5)].join(":");
}

/** Locally administered unicast MACs (0e:, 0a:), different for the two ends. */
export function vethMacs(key: PodKey): { host: string; pod: string } {
  const d = digest(key);
  return { host: mac("0e", d.slice(12, 22)), pod: mac("0a", d.slice(22, 32)) };
}

/** The host veth's alias records the key, so listing needs nothing but the kernel. */
export function aliasFor(key: PodKey): string {
  for (const field of ["network", "containerId", "ifname"] as const) {
    if (!FIELD.test(key[field])) throw new Error(`${field} '${key[field]}' must match ${FIELD}`);
  }
  return `${ALIAS_TAG} ${key.network} ${key.containerId} ${key.ifname}`;
}

export function parseAlias(alias: string | undefined): PodKey | undefined {
  const parts = (alias ?? "").split(" ");
  if (parts.length !== 4 || parts[0] !== ALIAS_TAG) return undefined;
  return { network: parts[1]!, containerId: parts[2]!, ifname: parts[3]! };
}

export function normalizeMac(m: string): string {
  const lower = m.trim().toLowerCase();
  if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(lower)) throw new Error(`MAC '${m}' must look like 02:00:0a:00:01:05`);
  return lower;
}
