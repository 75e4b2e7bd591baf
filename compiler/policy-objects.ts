// Objects of one policy except its DaemonSet: the agent's ServiceAccount, the Role that lets
// it read its credentials Secret by name, and the ConfigMap the agent reads the policy from.
import { createHash } from "node:crypto";
import { stringify } from "yaml";
import type { VpcCniPolicy } from "../schema/index.ts";
import { FILES } from "./contract.ts";
import type { RoleRef, Subject } from "./k8s.ts";
import { commonLabels, names, withUserLabels } from "./labels.ts";
import { rulesFor } from "./rbac.ts";
import type { Resource } from "./resource.ts";

/** The policy as the agent reads it: defaults filled in, keys sorted. */
export function policyYaml(policy: VpcCniPolicy): string {
  return stringify(policy, { sortMapEntries: true, lineWidth: 0 });
}

/** Short digest of the policy, on the pod template so that a policy change rolls the agents. */
export function policyDigest(yaml: string): string {
  return createHash("sha256").update(yaml).digest("hex").slice(0, 16);
}

export function credentialsSecret(policy: VpcCniPolicy, namespace: string): { namespace: string; name: string } | undefined {
  const ref = policy.spec.cloud.credentialsSecretRef;
  return ref === undefined ? undefined : { namespace: ref.namespace ?? namespace, name: ref.name };
}

export function serviceAccount(policy: VpcCniPolicy, namespace: string, source: string): Resource {
  const name = policy.metadata.name;
  return {
    source,
    manifest: {
      apiVersion: "v1",
      kind: "ServiceAccount",
      // One per policy, so that an agent can read its own policy's Secret and no other's.
      metadata: { name: names.agent(name), namespace, labels: withUserLabels(policy.metadata.labels, commonLabels("agent", name)) },
    },
  };
}

export function credentialsRbac(policy: VpcCniPolicy, namespace: string, source: string): Resource[] {
  const secret = credentialsSecret(policy, namespace);
  if (secret === undefined) return [];
  const name = policy.metadata.name;
  const metadata = { name: names.credentialsRole(name), namespace: secret.namespace, labels: withUserLabels(policy.metadata.labels, commonLabels("rbac", name)) };
  const rules = rulesFor("credentials", [secret.name]);
  const roleRef: RoleRef = { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: metadata.name };
  const subjects: Subject[] = [{ kind: "ServiceAccount", name: names.agent(name), namespace }];
  return [
    {
      source,
      manifest: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata, rules: rules.map((r) => r.rule) },
      comments: rules.map((r, i) => ({ path: ["rules", i], text: r.why.join("\n") })),
    },
    { source, manifest: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { ...metadata }, roleRef, subjects } },
  ];
}

export function policyConfigMap(policy: VpcCniPolicy, namespace: string, source: string, yaml: string): Resource {
  const name = policy.metadata.name;
  return {
    source,
    manifest: {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: names.policyConfig(name), namespace, labels: withUserLabels(policy.metadata.labels, commonLabels("policy", name)) },
      data: { [FILES.policy]: yaml },
    },
  };
}
