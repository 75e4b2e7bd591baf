// Switching off, the kernel side: once the node has no vpccni pod and no ENI, whatever vpccni
// may still have in the node namespace is removed. Normally DEL and the ENI teardown took all of
// it; this is the sweep after a crash or a missed DEL. Planned as a pure function of what the
// kernel shows, like drift repair.
import { tableOf } from "./iproute.ts";
import { parseAlias } from "./names.ts";
import { type Observed, ruleDst, ruleSrc } from "./observe.ts";
import { metadataBlockRoute } from "./eni.ts";
import { CVM_METADATA_IP, FROM_POD_PRIORITY, TO_POD_PRIORITY } from "./types.ts";

export interface LeftoverPlan {
  /** ip -batch lines, each independent (applied with -force). */
  lines: string[];
  /** One line per thing removed, for the log. */
  removed: string[];
}

/**
 * Ours, and only ours:
 * - rules at vpccni's two priorities that name one /32 address (to a pod: lookup main; from a
 *   pod: lookup an ENI table);
 * - routes in a table numbered ifindex + base that go out of that very link: an ENI table
 *   (another program's table with a number >= base does not follow that pattern). A table
 *   whose link is gone needs nothing: the kernel dropped its routes with the link, all but
 * - the metadata block (`prohibit 169.254.0.23/32`, eni.ts) in a table >= base, which has no
 *   link and stays when the ENI goes;
 * - host veths carrying vpccni's alias.
 */
export function planLeftoverRemoval(o: Observed, base: number): LeftoverPlan {
  const plan: LeftoverPlan = { lines: [], removed: [] };
  for (const r of o.rules) {
    if (r.priority === TO_POD_PRIORITY && ruleDst(r) !== undefined && tableOf(r.table) === "main") {
      plan.lines.push(`rule del to ${ruleDst(r)}/32 lookup main pref ${TO_POD_PRIORITY}`);
      plan.removed.push(`rule to ${ruleDst(r)} lookup main`);
    }
    if (r.priority === FROM_POD_PRIORITY && ruleSrc(r) !== undefined && Number(r.table) >= base) {
      plan.lines.push(`rule del from ${ruleSrc(r)}/32 lookup ${r.table} pref ${FROM_POD_PRIORITY}`);
      plan.removed.push(`rule from ${ruleSrc(r)} lookup ${r.table}`);
    }
  }
  const byIndex = new Map(o.links.map((l) => [l.ifindex, l.ifname]));
  const tables = new Set<number>();
  const blocks = new Set<number>();
  for (const r of o.routes) {
    const table = Number(r.table);
    if (!Number.isInteger(table) || table < base) continue;
    if (r.dev !== undefined && byIndex.get(table - base) === r.dev) tables.add(table);
    else if (r.type === "prohibit" && r.dst === CVM_METADATA_IP) blocks.add(table);
  }
  for (const t of [...tables].sort((a, b) => a - b)) {
    plan.lines.push(`route flush table ${t}`);
    plan.removed.push(`routes of table ${t}`);
  }
  for (const t of [...blocks].filter((t) => !tables.has(t)).sort((a, b) => a - b)) {
    plan.lines.push(`route del ${metadataBlockRoute(t)}`);
    plan.removed.push(`metadata block of table ${t}`);
  }
  for (const l of o.links) {
    if (!parseAlias(l.ifalias)) continue;
    plan.lines.push(`link del dev ${l.ifname}`);
    plan.removed.push(`veth ${l.ifname}`);
  }
  return plan;
}
