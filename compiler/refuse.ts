// Policies the compiler refuses before it generates anything: it never writes manifests for
// something the cluster cannot run (no placeholder for a component that does not exist).
import type { Diagnostic, SourcedPolicy } from "../schema/index.ts";
import { webhookRefusals } from "./cert-manager.ts";
import { locateField } from "./locate.ts";

export function refusals(
  policies: readonly SourcedPolicy[],
  sources: ReadonlyMap<string, string>,
  namespace: string,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const p of policies) {
    const ref = p.policy.spec.cloud.credentialsSecretRef;
    if (ref?.namespace !== undefined && ref.namespace !== namespace) {
      out.push({
        ...locateField(p, sources, ["spec", "cloud", "credentialsSecretRef", "namespace"]),
        code: "credentials-secret-namespace",
        severity: "error",
        path: ["spec", "cloud", "credentialsSecretRef", "namespace"],
        message:
          `spec.cloud.credentialsSecretRef.namespace of ${JSON.stringify(p.policy.metadata.name)} is ${JSON.stringify(ref.namespace)}, but the agents run in ${JSON.stringify(namespace)}; ` +
          `a pod can only mount a Secret of its own namespace, and the agent gets no API access to Secrets; allowed: ${JSON.stringify(namespace)} or unset`,
        found: JSON.stringify(ref.namespace),
        allowed: `${JSON.stringify(namespace)} or unset`,
        hint: `create the Secret in ${namespace}, or compile with --namespace ${ref.namespace}`,
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
  // One conflist and one install step serve every node of the cluster: one mode for all.
  for (const p of policies.slice(1)) {
    if (first === undefined || p.policy.spec.mode === first.policy.spec.mode) continue;
    const at = locateField(first, sources, ["spec", "mode"]);
    out.push({
      ...locateField(p, sources, ["spec", "mode"]),
      code: "mode-mismatch",
      severity: "error",
      path: ["spec", "mode"],
      message:
        `spec.mode of ${JSON.stringify(p.policy.metadata.name)} is ${JSON.stringify(p.policy.spec.mode)}, but ${JSON.stringify(first.policy.metadata.name)} ` +
        `(${at.file}:${at.line}:${at.col}) has ${JSON.stringify(first.policy.spec.mode)}; the CNI configuration every node installs is one for the cluster; ` +
        `allowed: ${JSON.stringify(first.policy.spec.mode)} in every policy`,
      found: JSON.stringify(p.policy.spec.mode),
      allowed: JSON.stringify(first.policy.spec.mode),
      hint: "one mode per cluster: write the same spec.mode in every policy (unset is default)",
    });
  }
  // One fixed pool per cluster: the controller runs the fixed-IP passes of one policy (its
  // subnets, nodeSelector and reclaim); a second fixed policy's nodes would get no ENI.
  const fixed = policies.filter((p) => p.policy.spec.ipMode === "fixed");
  const firstFixed = fixed[0];
  for (const p of fixed.slice(1)) {
    if (firstFixed === undefined) break;
    const at = locateField(firstFixed, sources, ["spec", "ipMode"]);
    out.push({
      ...locateField(p, sources, ["spec", "ipMode"]),
      code: "fixed-ip-one-policy",
      severity: "error",
      path: ["spec", "ipMode"],
      message:
        `spec.ipMode of ${JSON.stringify(p.policy.metadata.name)} is "fixed", but ${JSON.stringify(firstFixed.policy.metadata.name)} ` +
        `(${at.file}:${at.line}:${at.col}) is "fixed" already; the controller runs one fixed-IP pool per cluster (one policy's subnets, nodes and reclaim); ` +
        `allowed: ipMode: fixed in one policy, shared in the others`,
      found: JSON.stringify("fixed"),
      allowed: "shared",
      hint: `put every fixed-IP node pool under ${JSON.stringify(firstFixed.policy.metadata.name)} (one nodeSelector label, its subnets), or make this policy shared`,
    });
  }
  out.push(...webhookRefusals(policies, sources));
  return out;
}
