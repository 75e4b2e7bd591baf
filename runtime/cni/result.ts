// CNI results built from the agent's ADD answer, and the reverse: finding our IP in a
// prevResult for CHECK. 1.0.0 and 1.1.0 share the format; 0.4.0 also names each IP's version.
import type { AddResponse } from "./protocol.ts";

export interface CniResult {
  cniVersion: string;
  interfaces: { name: string; mac: string; sandbox?: string }[];
  ips: { address: string; gateway?: string; interface?: number; version?: "4" | "6" }[];
  routes: { dst: string; gw?: string }[];
  dns: Record<string, unknown>;
  [k: string]: unknown;
}

/** Appends our interfaces and IP to a previous plugin's result (or starts a new one). */
export function addResult(
  version: string,
  ifname: string,
  netns: string,
  a: AddResponse,
  prev?: Record<string, unknown>,
): CniResult {
  const base = (prev ?? {}) as Partial<CniResult>;
  const interfaces = [...(base.interfaces ?? [])];
  interfaces.push({ name: a.hostVeth, mac: a.hostMac });
  interfaces.push({ name: ifname, mac: a.podMac, sandbox: netns });
  return {
    ...base,
    cniVersion: version,
    interfaces,
    ips: [
      ...(base.ips ?? []),
      {
        ...(version === "0.4.0" ? { version: "4" as const } : {}),
        address: `${a.ip}/${a.prefixLength}`,
        gateway: a.gateway,
        interface: interfaces.length - 1,
      },
    ],
    routes: [...(base.routes ?? []), { dst: "0.0.0.0/0", gw: a.gateway }],
    dns: base.dns ?? {},
  };
}

/** The IPv4 address prevResult gives the sandbox interface `ifname`, if any. */
export function ipFromPrevResult(
  prev: Record<string, unknown> | undefined,
  ifname: string,
  netns: string,
): string | undefined {
  const r = (prev ?? {}) as Partial<CniResult>;
  const idx = (r.interfaces ?? []).findIndex((i) => i.name === ifname && i.sandbox === netns);
  const ip = (r.ips ?? []).find((i) => i.interface === idx && idx >= 0 && /^\d+\.\d+\.\d+\.\d+\//.test(i.address));
  return ip?.address.split("/")[0];
}
