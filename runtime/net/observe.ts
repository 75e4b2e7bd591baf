// Reading the node's data plane back from the kernel in one `ip -json -batch` process.
import type { Ip, LinkJson, RouteJson, RuleJson } from "./iproute.ts";
import { tableOf } from "./iproute.ts";
import { parseAlias, vethMacs } from "./names.ts";
import { FROM_POD_PRIORITY, type PodWiring } from "./types.ts";

export interface Observed {
  links: LinkJson[];
  routes: RouteJson[];
  rules: RuleJson[];
}

export async function observe(ip: Ip): Promise<Observed> {
  const [links, routes, rules] = await ip.jsonBatch<[LinkJson[], RouteJson[], RuleJson[]]>([
    "link show",
    "route show table all",
    "rule show",
  ]);
  return { links, routes, rules };
}

/** `10.0.1.5` or `10.0.1.5/32` -> `10.0.1.5` (ip -json omits /32). */
export function hostOf(dst: string | undefined): string | undefined {
  if (dst === undefined) return undefined;
  return dst.endsWith("/32") ? dst.slice(0, -3) : dst.includes("/") ? undefined : dst;
}

export function ruleSrc(r: RuleJson): string | undefined {
  return r.src !== undefined && r.src !== "all" && (r.srclen ?? 32) === 32 ? r.src : undefined;
}

export function ruleDst(r: RuleJson): string | undefined {
  return r.dst !== undefined && r.dst !== "all" && (r.dstlen ?? 32) === 32 ? r.dst : undefined;
}

/** Pods wired by this data plane: host veths carrying our alias, with their route and rule. */
export function wiredPods(o: Observed): PodWiring[] {
  const out: PodWiring[] = [];
  for (const l of o.links) {
    const key = parseAlias(l.ifalias);
    if (!key) continue;
    const route = o.routes.find(
      (r) => r.dev === l.ifname && tableOf(r.table) === "main" && hostOf(r.dst) !== undefined,
    );
    const ip = hostOf(route?.dst) ?? "";
    const rule = o.rules.find((r) => r.priority === FROM_POD_PRIORITY && ruleSrc(r) === ip);
    out.push({
      ...key,
      ip,
      table: rule ? Number(rule.table) : 0,
      hostVeth: l.ifname,
      hostMac: (l.address ?? "").toLowerCase(),
      podMac: vethMacs(key).pod,
    });
  }
  return out.sort((a, b) => a.hostVeth.localeCompare(b.hostVeth));
}
