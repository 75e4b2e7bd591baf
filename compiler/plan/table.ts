// The plan as text tables: one row per policy, one per subnet, then what cannot be met.
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
      `${p.prebind.min}/${p.prebind.max}`,
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
  if (plan.subnets.length > 0) {
    const subnetRows = plan.subnets.map((s) => [
      s.subnetId,
      s.cidr || "-",
      String(s.free),
      String(s.needed),
      String(s.left),
      s.policies.join(","),
      s.left < 0 ? `SHORT by ${-s.left}` : "ok",
    ]);
    parts.push(table(["subnet", "cidr", "free", "needed", "left", "policies", "status"], subnetRows));
  }
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
