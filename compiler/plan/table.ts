// The plan as text tables: one row per policy, one per zone (when the subnets' zones are
// known), one per subnet, then what cannot be met.
import type { Plan } from "./capacity.ts";

export function renderPlan(plan: Plan): string {
  const policyRows = plan.policies.map((p) => {
    // An unknown quota leaves every derived figure unknown too.
    const known = p.enisPerNode > 0 && p.ipsPerEni > 0;
    const q = (n: number) => (known ? String(n) : "?");
    return [
      p.policy,
      String(p.nodes),
      known ? `${p.podsPerNode}${p.fullNodes ? " (full)" : ""}` : "?",
      // a fixed-IP node keeps no warm pool: its ENI's whole quota is reserved
      p.ipMode === "fixed" ? "fixed IP" : `${p.prebind.min}/${p.prebind.max}`,
      known ? `${p.enisPerNode} x ${p.ipsPerEni} = ${p.maxBindable}` : "?",
      q(p.ipsPerNode),
      q(p.enisUsedPerNode),
      q(p.subnetIpsPerNode),
      q(p.subnetIpsPerNode * p.nodes),
      p.problems.length ? "CANNOT" : "ok",
    ];
  });
  const parts = [
    table(
      [
        "policy",
        "nodes",
        "pods/node",
        "prebind min/max",
        "ENIs x IPs = max",
        "IPs/node",
        "ENIs/node",
        "subnet IPs/node",
        "subnet IPs",
        "status",
      ],
      policyRows,
    ),
  ];
  if (plan.zones.length > 0) {
    const zoneRows = plan.zones.map((z) => [
      z.zone,
      String(z.nodes),
      z.policies.join(",") || "-",
      z.subnets.join(",") || "-",
      String(z.free),
      String(z.needed),
      String(z.left),
      z.ok ? "ok" : "CANNOT",
    ]);
    parts.push(table(["zone", "nodes", "policies", "subnets", "free", "needed", "left", "status"], zoneRows));
  }
  if (plan.subnets.length > 0) {
    const zoned = plan.zones.length > 0;
    const subnetRows = plan.subnets.map((s) => [
      s.subnetId,
      s.cidr || "-",
      ...(zoned ? [s.zone ?? "-"] : []),
      String(s.free),
      String(s.needed),
      String(s.left),
      s.policies.join(","),
      s.left < 0 ? `SHORT by ${-s.left}` : "ok",
    ]);
    const head = ["subnet", "cidr", ...(zoned ? ["zone"] : []), "free", "needed", "left", "policies", "status"];
    parts.push(table(head, subnetRows));
  }
  if (plan.notes.length) parts.push(plan.notes.map((n) => `note: ${n}`).join("\n"));
  if (plan.warnings.length) parts.push(plan.warnings.map((w) => `warning: ${w}`).join("\n"));
  if (plan.problems.length) parts.push(plan.problems.map((p) => `cannot be met: ${p}`).join("\n"));
  else
    parts.push(
      plan.subnets.length
        ? "the policies can be met"
        : "the ENI quotas can be met (subnets not checked: pass --subnets FILE)",
    );
  return `${parts.join("\n\n")}\n`;
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
  return [line(head), ...rows.map(line)].join("\n");
}
