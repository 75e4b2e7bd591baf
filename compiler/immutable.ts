// Changes a running cluster cannot take, found by comparing the new output with the previous
// one in the output folder. Two kinds: policy fields whose change would strand what nodes
// already hold (ENIs tagged with a cluster, IPs in a mode), and object fields the API server
// rejects on update (a DaemonSet's selector, a binding's roleRef).
import type { V1ConfigMap } from "@kubernetes/client-node";
import { parse } from "yaml";
import type { Diagnostic, SourcedPolicy } from "../schema/index.ts";
import { FILES } from "./agent-contract.ts";
import { locateField } from "./locate.ts";
import { isOwned, type OutDirState } from "./outdir.ts";
import { names } from "./labels.ts";
import { fileName, type Manifest } from "./resource.ts";
import type { Synthesized } from "./synth.ts";

/** Policy fields fixed for the life of a policy, and why. */
export const IMMUTABLE_POLICY_FIELDS: Record<string, string> = {
  ipMode:
    "IP mode can only be chosen when a cluster is created: nodes hold a per-node pool in shared mode and a cluster pool reservation in fixed mode, and neither converts into the other",
  clusterId:
    "every ENI the nodes hold is tagged with the cluster ID; changing it would orphan them (leak detection would no longer find them)",
  vpcId: "the nodes' ENIs and bound IPs live in this VPC; ENIs cannot move to another VPC",
  region: "the nodes' ENIs live in this region; the agent would manage ENIs it cannot see",
};

/** Object fields the API server refuses to update, by kind. */
const IMMUTABLE_OBJECT_FIELDS: Record<string, { path: string[]; why: string }[]> = {
  DaemonSet: [{ path: ["spec", "selector"], why: "Kubernetes does not allow changing a DaemonSet's selector" }],
  ClusterRoleBinding: [{ path: ["roleRef"], why: "Kubernetes does not allow changing a binding's roleRef" }],
  RoleBinding: [{ path: ["roleRef"], why: "Kubernetes does not allow changing a binding's roleRef" }],
  Service: [{ path: ["spec", "clusterIP"], why: "Kubernetes does not allow changing a Service's clusterIP" }],
};

/** Object fields of the new output that differ from the previous output where the API server forbids it. */
export function objectFieldChanges(
  next: readonly Synthesized[],
  previous: OutDirState,
  policies: readonly SourcedPolicy[],
  outDir: string,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const byName = new Map(policies.map((p) => [p.policy.metadata.name, p]));
  for (const r of next) {
    const old = previousManifest(previous, r.file);
    if (old === undefined || old.kind !== r.manifest.kind) continue;
    const instance = r.manifest.metadata.labels?.["app.kubernetes.io/instance"];
    const owner = instance === undefined ? undefined : byName.get(instance);
    for (const field of IMMUTABLE_OBJECT_FIELDS[r.manifest.kind] ?? []) {
      const [before, after] = [dig(old, field.path), dig(r.manifest, field.path)];
      if (stable(before) === stable(after)) continue;
      const where = owner?.nameAt ?? { file: `${outDir}/${r.file}`, line: 1, col: 1, length: 1 };
      out.push({
        ...where,
        code: "immutable-field",
        severity: "error",
        path: field.path,
        message: `${r.manifest.kind} ${r.manifest.metadata.name}: ${field.path.join(".")} would change from ${stable(before)} to ${stable(after)} (previous output ${outDir}/${r.file}); ${field.why}`,
        found: stable(after),
        allowed: stable(before),
        hint: "remove the policy and sync (the old objects are deleted), then add it back",
      });
    }
  }
  return out;
}

/** Policy fields that differ from the policy kept in the previous output's ConfigMap. */
export function policyFieldChanges(
  policies: readonly SourcedPolicy[],
  previous: OutDirState,
  sources: ReadonlyMap<string, string>,
  outDir: string,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const owner of policies) {
    const file = fileName({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: names.policyConfig(owner.policy.metadata.name) },
    });
    const old = previousManifest(previous, file);
    const policy = old === undefined ? undefined : oldPolicy(old);
    if (policy === undefined) continue;
    for (const [field, why] of Object.entries(IMMUTABLE_POLICY_FIELDS)) {
      const before = policy.spec?.[field];
      const after = (owner.policy.spec as Record<string, unknown>)[field];
      if (before === undefined || stable(before) === stable(after)) continue;
      out.push({
        ...locateField(owner, sources, ["spec", field]),
        code: "immutable-field",
        severity: "error",
        path: ["spec", field],
        message: `spec.${field} of ${JSON.stringify(owner.policy.metadata.name)} changes from ${stable(before)} to ${stable(after)} (previous output ${outDir}/${file}); ${why}`,
        found: stable(after),
        allowed: stable(before),
        hint: "a new cluster, or a new policy name for new nodes, is the way to change it",
      });
    }
  }
  return out;
}

function previousManifest(previous: OutDirState, file: string): Manifest | undefined {
  const text = previous.files.get(file);
  return text === undefined || !isOwned(text) ? undefined : parseManifest(text);
}

function parseManifest(text: string): Manifest | undefined {
  try {
    return parse(text) as Manifest | undefined;
  } catch {
    return undefined;
  }
}

/** The policy kept in a previous policy ConfigMap, if that is what the object is. */
function oldPolicy(m: Manifest): { spec?: Record<string, unknown> } | undefined {
  if (m.kind !== "ConfigMap") return undefined;
  const text = (m as Manifest<V1ConfigMap>).data?.[FILES.policy];
  if (text === undefined) return undefined;
  try {
    return parse(text) as { spec?: Record<string, unknown> };
  } catch {
    return undefined;
  }
}

function dig(value: unknown, path: readonly string[]): unknown {
  let v = value;
  for (const key of path) v = v !== null && typeof v === "object" ? (v as Record<string, unknown>)[key] : undefined;
  return v;
}

/** JSON with sorted keys, so that key order never counts as a change. */
function stable(value: unknown): string {
  if (value === undefined) return "nothing";
  return JSON.stringify(value, (_k, v) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}
