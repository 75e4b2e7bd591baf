// Names and labels of generated objects. Selector labels are a subset that never changes
// (a DaemonSet's selector is immutable), so they carry no version and no user labels.
import type { V1ObjectMeta } from "@kubernetes/client-node";

export type Labels = NonNullable<V1ObjectMeta["labels"]>;

export const APP = "vpccni";

export type Component = "namespace" | "agent" | "rbac" | "cni-config" | "policy" | "metrics" | "controller" | "crd";

export function commonLabels(component: Component, instance?: string): Labels {
  return {
    "app.kubernetes.io/component": component,
    ...(instance === undefined ? {} : { "app.kubernetes.io/instance": instance }),
    "app.kubernetes.io/managed-by": APP,
    "app.kubernetes.io/name": APP,
    "app.kubernetes.io/part-of": APP,
  };
}

/** The agent pods of one policy; the DaemonSet's selector. */
export function agentSelector(policy: string): Labels {
  return {
    "app.kubernetes.io/component": "agent",
    "app.kubernetes.io/instance": policy,
    "app.kubernetes.io/name": APP,
  };
}

/** Every agent pod of every policy: what the metrics Service selects. */
export function allAgentsSelector(): Labels {
  return { "app.kubernetes.io/component": "agent", "app.kubernetes.io/name": APP };
}

/** The policy's own labels first, so that ours win on a clash. */
export function withUserLabels(user: Labels | undefined, ours: Labels): Labels {
  return { ...(user ?? {}), ...ours };
}

export const names = {
  agent: (policy: string) => `vpccni-agent-${policy}`,
  policyConfig: (policy: string) => `vpccni-policy-${policy}`,
  credentialsRole: (policy: string) => `vpccni-agent-${policy}-credentials`,
  clusterRole: "vpccni-agent",
  cniConfig: "vpccni-cni-config",
  metrics: "vpccni-agent-metrics",
  nodeStatusGuard: "vpccni-agent-node-status",
  controller: "vpccni-controller",
  webhookService: "vpccni-webhook",
  webhookSecret: "vpccni-webhook-tls",
  webhookConfiguration: "vpccni-eni-ip",
} as const;
