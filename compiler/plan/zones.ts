// The capacity plan by zone. A node's ENIs go only into subnets of the node's zone (the cloud
// refuses to attach an ENI to an instance of another zone), so each zone's nodes must be met by
// that zone's subnets alone. Where the nodes are is the user's to say (--nodes-per-zone); when
// not said, a policy's nodes are spread evenly over the zones of its subnets, and the plan notes
// that it assumed so.
import type { SubnetRow } from "./capacity.ts";

export interface ZoneRow {
  zone: string;
  /** Nodes in the zone, all policies. */
  nodes: number;
  /** `policy=nodes` per policy with nodes in the zone. */
  policies: string[];
  /** The zone's subnets that some policy lists. */
  subnets: string[];
  free: number;
  needed: number;
  left: number;
  /** False when some node of the zone cannot be met: no subnet there, or a subnet short. */
  ok: boolean;
}

/**
 * Nodes of one policy per zone, in zone order: as given, or `total` spread evenly over the
 * zones of `subnets` (the first zones take the remainder), with a note saying so.
 */
export function nodesByZone(
  policy: string,
  total: number,
  subnets: readonly SubnetRow[],
  given?: ReadonlyMap<string, number>,
): { nodes: Map<string, number>; note?: string } {
  if (given !== undefined) return { nodes: new Map([...given].sort(([a], [b]) => (a < b ? -1 : 1))) };
  const zones = [...new Set(subnets.map((s) => s.zone ?? ""))].sort();
  const nodes = new Map(
    zones.map((z, i) => [z, Math.floor(total / zones.length) + (i < total % zones.length ? 1 : 0)]),
  );
  const where =
    zones.length === 1
      ? `in ${zones[0]}, the only zone of its subnets`
      : `spread evenly over the zones of its subnets: ${[...nodes].map(([z, n]) => `${z} ${n}`).join(", ")}`;
  return {
    nodes,
    note: `${policy}: ${total} node${total === 1 ? "" : "s"} assumed ${where} (--nodes-per-zone says where they are)`,
  };
}

/** One row per zone that has nodes or a listed subnet, in zone order. */
export function zoneRows(
  placed: readonly { zone: string; policy: string; nodes: number; subnets: number }[],
  subnets: readonly SubnetRow[],
): ZoneRow[] {
  const zones = [...new Set([...placed.map((p) => p.zone), ...subnets.map((s) => s.zone ?? "")])].sort();
  return zones.map((zone) => {
    const here = placed.filter((p) => p.zone === zone && p.nodes > 0);
    const mine = subnets.filter((s) => s.zone === zone);
    const sum = (f: (s: SubnetRow) => number) => mine.reduce((n, s) => n + f(s), 0);
    return {
      zone,
      nodes: here.reduce((n, p) => n + p.nodes, 0),
      policies: here.map((p) => `${p.policy}=${p.nodes}`),
      subnets: mine.map((s) => s.subnetId),
      free: sum((s) => s.free),
      needed: sum((s) => s.needed),
      left: sum((s) => s.left),
      ok: here.every((p) => p.subnets > 0) && mine.every((s) => s.left >= 0),
    };
  });
}
