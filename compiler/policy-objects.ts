// Objects of one policy except its DaemonSet: the agent's ServiceAccount and the ConfigMap the
// agent reads the policy from.
import { createHash } from "node:crypto";
import type { V1ConfigMap, V1ServiceAccount } from "@kubernetes/client-node";
import { stringify } from "yaml";
import type { VpcCniPolicy } from "../schema/index.ts";
import { FILES } from "./agent-contract.ts";
import { commonLabels, names, withUserLabels } from "./labels.ts";
import type { Manifest, Resource } from "./resource.ts";

/** The policy as the agent reads it: defaults filled in, keys sorted. */
export function policyYaml(policy: VpcCniPolicy): string {
  return stringify(policy, { sortMapEntries: true, lineWidth: 0 });
}

/** Short digest of the policy, on the pod template so that a policy change rolls the agents. */
export function policyDigest(yaml: string): string {
  return createHash("sha256").update(yaml).digest("hex").slice(0, 16);
}

/** The Secret the agent's pod mounts, if the policy names one. */
export function credentialsSecretName(policy: VpcCniPolicy): string | undefined {
  return policy.spec.cloud.credentialsSecretRef?.name;
}

export function serviceAccount(policy: VpcCniPolicy, namespace: string, source: string): Resource {
  const name = policy.metadata.name;
  return {
    source,
    manifest: {
      apiVersion: "v1",
      kind: "ServiceAccount",
      // One per policy: audit logs and the API server's view name the policy whose agent acted.
      metadata: {
        name: names.agent(name),
        namespace,
        labels: withUserLabels(policy.metadata.labels, commonLabels("agent", name)),
      },
    } satisfies Manifest<V1ServiceAccount>,
  };
}

export function policyConfigMap(policy: VpcCniPolicy, namespace: string, source: string, yaml: string): Resource {
  const name = policy.metadata.name;
  return {
    source,
    manifest: {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: names.policyConfig(name),
        namespace,
        labels: withUserLabels(policy.metadata.labels, commonLabels("policy", name)),
      },
      data: { [FILES.policy]: yaml },
    } satisfies Manifest<V1ConfigMap>,
  };
}
