// Policies the compiler refuses before it generates anything: it never writes manifests for
// something the cluster cannot run (no placeholder for a component that does not exist).
import type { Diagnostic, SourcedPolicy } from "../schema/index.ts";
import { locateField } from "./locate.ts";

/** The cluster component fixed IP mode needs; named in the diagnostic. */
export const FIXED_IP_COMPONENT = "ipamd";

export function refusals(policies: readonly SourcedPolicy[], sources: ReadonlyMap<string, string>): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const p of policies) {
    if (p.policy.spec.ipMode === "fixed") {
      out.push({
        ...locateField(p, sources, ["spec", "ipMode"]),
        code: "fixed-ip-unsupported",
        severity: "error",
        path: ["spec", "ipMode"],
        message:
          `spec.ipMode of ${JSON.stringify(p.policy.metadata.name)} is "fixed", which needs the cluster component ${FIXED_IP_COMPONENT} ` +
          `(a leader-elected Deployment that owns the cluster IP pool in CRDs); this version of vpccni does not ship ${FIXED_IP_COMPONENT} yet; allowed: shared`,
        found: JSON.stringify("fixed"),
        allowed: "shared",
        hint: "vpccni writes no manifests it cannot run: use ipMode: shared, or wait for the release that ships ipamd",
      });
    }
  }
  // One output directory is one cluster: a Namespace, one ClusterRole, one metrics Service.
  const first = policies[0];
  for (const p of policies.slice(1)) {
    if (first === undefined || p.policy.spec.clusterId === first.policy.spec.clusterId) continue;
    out.push({
      ...locateField(p, sources, ["spec", "clusterId"]),
      code: "mixed-clusters",
      severity: "error",
      path: ["spec", "clusterId"],
      message:
        `spec.clusterId of ${JSON.stringify(p.policy.metadata.name)} is ${JSON.stringify(p.policy.spec.clusterId)}, but ${JSON.stringify(first.policy.metadata.name)} ` +
        `(${first.nameAt.file}:${first.nameAt.line}) is for ${JSON.stringify(first.policy.spec.clusterId)}; allowed: one cluster per compile`,
      found: JSON.stringify(p.policy.spec.clusterId),
      allowed: JSON.stringify(first.policy.spec.clusterId),
      hint: "compile each cluster's policies into an output directory of its own",
    });
  }
  return out;
}
