// Checks across policies of one repository: names are unique, and no node can be governed
// by two policies of the same cluster (a DaemonSet each would fight over the node's ENIs).
import { byCodePoint, type Diagnostic } from "./diagnostic.ts";
import type { SourcedPolicy } from "./yaml-source.ts";

export function crossCheck(policies: readonly SourcedPolicy[]): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const byName = new Map<string, SourcedPolicy>();
  for (const p of policies) {
    const name = p.policy.metadata.name;
    const first = byName.get(name);
    if (first) {
      diagnostics.push({
        ...p.nameAt,
        code: "duplicate-name",
        severity: "error",
        path: ["metadata", "name"],
        message: `metadata.name ${JSON.stringify(name)} is already used at ${where(first)}; allowed: a name no other policy has`,
        found: JSON.stringify(name),
      });
    } else byName.set(name, p);
  }
  for (let i = 0; i < policies.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = policies[j]!;
      const b = policies[i]!;
      if (a.policy.spec.clusterId !== b.policy.spec.clusterId || a.policy.metadata.name === b.policy.metadata.name)
        continue;
      const common = overlap(a.policy.spec.nodeSelector, b.policy.spec.nodeSelector);
      if (common === undefined) continue;
      diagnostics.push({
        ...b.selectorAt,
        code: "overlapping-node-selector",
        severity: "error",
        path: ["spec", "nodeSelector"],
        message:
          `spec.nodeSelector of ${JSON.stringify(b.policy.metadata.name)} and of ${JSON.stringify(a.policy.metadata.name)} (${where(a)}) ` +
          `can select the same node (${describe(common)}); allowed: selectors that give a shared label key different values`,
      });
    }
  }
  return diagnostics;
}

/** Two equality selectors match a common node unless some key has different values. */
export function overlap(a: Record<string, string>, b: Record<string, string>): Record<string, string> | undefined {
  for (const [key, value] of Object.entries(a)) if (key in b && b[key] !== value) return undefined;
  return { ...a, ...b };
}

function describe(labels: Record<string, string>): string {
  const entries = Object.entries(labels).sort(([x], [y]) => byCodePoint(x, y));
  return entries.length === 0
    ? "both select every node"
    : `a node labelled ${entries.map(([k, v]) => `${k}=${v}`).join(", ")}`;
}

function where(p: SourcedPolicy): string {
  return `${p.nameAt.file}:${p.nameAt.line}:${p.nameAt.col}`;
}
