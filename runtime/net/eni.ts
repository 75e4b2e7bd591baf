// Secondary ENIs: found by MAC, brought up, each with its own route table numbered
// ifindex + base (the product fixes the base at 2000 by default: eth1 with ifindex 3 -> 2003).
import type { Ip, LinkJson, RouteJson } from "./iproute.ts";
import { normalizeMac } from "./names.ts";
import { CVM_METADATA_IP, type EniLink, type EniSpec } from "./types.ts";

/** The ENI table's route that drops pods' packets to the metadata service (ICMP prohibited). */
export const metadataBlockRoute = (table: number) => `prohibit ${CVM_METADATA_IP}/32 table ${table}`;

export function eniLinksByMac(links: LinkJson[], macs: string[], base: number): EniLink[] {
  const wanted = new Set(macs.map(normalizeMac));
  return links
    .filter((l) => l.address !== undefined && wanted.has(l.address.toLowerCase()) && l.link_type === "ether")
    .map((l) => ({ mac: l.address!.toLowerCase(), name: l.ifname, ifindex: l.ifindex, table: l.ifindex + base }));
}

/**
 * The commands that make an ENI's table whole; `replace` makes them idempotent. Pods reach
 * the world through their ENI's table only (rule 1536), so a prohibit route there keeps them
 * from the metadata service while the node, on the main table, still reaches it.
 */
export function eniCommands(link: EniLink, eni: EniSpec, blockMetadata = true): string[] {
  const lines = [`link set dev ${link.name} up`];
  if (eni.primaryIp) lines.push(`addr replace ${eni.primaryIp}/32 dev ${link.name}`);
  lines.push(
    `route replace ${eni.subnetCidr} dev ${link.name} scope link table ${link.table}`,
    // onlink: the gateway is reachable on the link whatever the main table says
    `route replace default via ${eni.gateway} dev ${link.name} onlink table ${link.table}`,
  );
  if (blockMetadata) lines.push(`route replace ${metadataBlockRoute(link.table)}`);
  return lines;
}

const isMetadataBlock = (r: RouteJson, table: number) =>
  r.type === "prohibit" && r.dst === CVM_METADATA_IP && String(r.table ?? "") === String(table);

/**
 * Lines that re-create what is missing in the ENI's table, given the table's routes, and
 * remove the metadata block when the policy allows pods the metadata service.
 */
export function missingEniRoutes(
  link: EniLink,
  eni: EniSpec,
  routes: RouteJson[],
  up: boolean,
  blockMetadata = true,
): string[] {
  const inTable = routes.filter((r) => String(r.table ?? "") === String(link.table) && r.dev === link.name);
  const lines: string[] = [];
  if (!up) lines.push(`link set dev ${link.name} up`);
  if (!inTable.some((r) => r.dst === eni.subnetCidr)) {
    lines.push(`route replace ${eni.subnetCidr} dev ${link.name} scope link table ${link.table}`);
  }
  if (!inTable.some((r) => r.dst === "default" && r.gateway === eni.gateway)) {
    lines.push(`route replace default via ${eni.gateway} dev ${link.name} onlink table ${link.table}`);
  }
  const blocked = routes.some((r) => isMetadataBlock(r, link.table));
  if (blockMetadata && !blocked) lines.push(`route replace ${metadataBlockRoute(link.table)}`);
  if (!blockMetadata && blocked) lines.push(`route del ${metadataBlockRoute(link.table)}`);
  return lines;
}

export async function findEniLinks(ip: Ip, macs: string[], base: number): Promise<EniLink[]> {
  const [links] = await ip.jsonBatch<[LinkJson[]]>(["link show"]);
  return eniLinksByMac(links, macs, base);
}

export async function findEniLink(ip: Ip, mac: string, base: number): Promise<EniLink> {
  const [link] = await findEniLinks(ip, [mac], base);
  if (!link) throw new Error(`no link with MAC ${normalizeMac(mac)} in the node namespace (is the ENI attached yet?)`);
  return link;
}

export function isUp(l: LinkJson): boolean {
  return (l.flags ?? []).includes("UP");
}
