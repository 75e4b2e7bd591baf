// A compile must not take vpccni's networking off a cluster by accident: an output that drops
// every object (no policy found, a wrong path) or every object of a policy (a deleted or renamed
// policy file) would make Argo CD or Flux prune the agents of those nodes. That is refused
// unless the user says --allow-remove.
import { parse } from "yaml";
import type { Diagnostic, SourcedPolicy } from "../schema/index.ts";
import { isOwned, type OutDirDiff, type OutDirState } from "./outdir.ts";

const INSTANCE = "app.kubernetes.io/instance";

/** Policies that the previous output holds a DaemonSet for, by name, with its file. */
export function previousPolicies(previous: OutDirState): Map<string, string> {
  const out = new Map<string, string>();
  for (const [file, text] of previous.files) {
    if (!isOwned(text) || !text.includes("\nkind: DaemonSet\n")) continue;
    try {
      const name = (parse(text) as { metadata?: { labels?: Record<string, string> } }).metadata?.labels?.[INSTANCE];
      if (name) out.set(name, file);
    } catch {
      // not ours to judge: an owned file that does not parse is rewritten or removed anyway
    }
  }
  return out;
}

export function removals(
  previous: OutDirState,
  policies: readonly SourcedPolicy[],
  diff: OutDirDiff,
  outName: string,
  allowRemove: boolean,
): Diagnostic[] {
  if (diff.stale.length === 0) return [];
  const before = previousPolicies(previous);
  const now = new Set(policies.map((p) => p.policy.metadata.name));
  const gone = [...before].filter(([name]) => !now.has(name)).sort(([a], [b]) => (a < b ? -1 : 1));
  const severity = allowRemove ? "warning" : "error";
  const allowed =
    "allowed: --allow-remove, when taking vpccni off those nodes is intended: first commit spec.enabled: false and wait until every node of the policy shows the condition VpccniDrained=True (docs/operations.md, Switching off)";
  const at = (file: string) => ({ file: `${outName}/${file}`, line: 1, col: 1, length: 1, path: [] });
  const generatedNothing = diff.added.length + diff.changed.length + diff.unchanged.length <= 1;
  if (policies.length === 0 || (generatedNothing && before.size > 0)) {
    return [
      {
        ...at(diff.stale[0]!),
        code: "would-remove-all",
        severity,
        message: `this compile would remove all ${diff.stale.length} files vpccni wrote to ${outName}, and Argo CD or Flux would prune its networking from the cluster; ${allowed}`,
      },
    ];
  }
  return gone.map(([name, file]) => ({
    ...at(file),
    code: "would-remove-policy",
    severity,
    message: `policy ${JSON.stringify(name)} is no longer compiled: its DaemonSet (${outName}/${file}) and the objects with it would be removed, and its nodes would lose pod networking; ${allowed}`,
  }));
}
