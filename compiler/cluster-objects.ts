// Objects shared by every policy of a cluster: the Namespace, the agent's roles and their
// bindings, the CNI conflist, and the metrics Service in front of all agents.
import type {
  RbacV1Subject,
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1ConfigMap,
  V1Namespace,
  V1Role,
  V1RoleBinding,
  V1RoleRef,
  V1Service,
  V1ServiceSpec,
} from "@kubernetes/client-node";
import { conflistFile, METRICS_PATH, PORT } from "./agent-contract.ts";
import { type ConflistOptions, conflist } from "./conflist.ts";
import { allAgentsSelector, commonLabels, names } from "./labels.ts";
import { roleNamespaces, rulesFor } from "./rbac.ts";
import type { Manifest, Resource } from "./resource.ts";

/** Namespaces vpccni deploys into but must never own (Argo CD would prune them with vpccni). */
const SYSTEM_NAMESPACES = new Set(["default", "kube-system", "kube-public", "kube-node-lease"]);

export function namespace(name: string): Resource[] {
  if (SYSTEM_NAMESPACES.has(name)) return [];
  // hostNetwork, hostPath and NET_ADMIN need the privileged Pod Security level; saying so
  // for enforce, audit and warn keeps a cluster-wide stricter default from rejecting agents.
  const pss = { enforce: "privileged", audit: "privileged", warn: "privileged" };
  const labels = {
    ...commonLabels("namespace"),
    ...Object.fromEntries(Object.entries(pss).map(([k, v]) => [`pod-security.kubernetes.io/${k}`, v])),
  };
  return [
    { manifest: { apiVersion: "v1", kind: "Namespace", metadata: { name, labels } } satisfies Manifest<V1Namespace> },
  ];
}

export function clusterRole(): Resource {
  const rules = rulesFor("cluster");
  return {
    manifest: {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: names.clusterRole, labels: commonLabels("rbac") },
      rules: rules.map((r) => r.rule),
    } satisfies Manifest<V1ClusterRole>,
    comments: rules.map((r, i) => ({ path: ["rules", i], text: r.why.join("\n") })),
  };
}

function agentSubjects(namespace: string, policies: readonly string[]): RbacV1Subject[] {
  return [...policies].sort().map((p) => ({ kind: "ServiceAccount", name: names.agent(p), namespace }));
}

export function clusterRoleBinding(namespace: string, policies: readonly string[]): Resource {
  const roleRef: V1RoleRef = { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: names.clusterRole };
  return {
    manifest: {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: names.clusterRole, labels: commonLabels("rbac") },
      roleRef,
      subjects: agentSubjects(namespace, policies),
    } satisfies Manifest<V1ClusterRoleBinding>,
  };
}

/** A Role and its binding in each namespace the agent writes to by name (events: default). */
export function namespacedRoles(namespace: string, policies: readonly string[]): Resource[] {
  return roleNamespaces().flatMap((ns): Resource[] => {
    const rules = rulesFor({ namespace: ns });
    const metadata = { name: names.clusterRole, namespace: ns, labels: commonLabels("rbac") };
    const roleRef: V1RoleRef = { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: names.clusterRole };
    return [
      {
        manifest: {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "Role",
          metadata,
          rules: rules.map((r) => r.rule),
        } satisfies Manifest<V1Role>,
        comments: rules.map((r, i) => ({ path: ["rules", i], text: r.why.join("\n") })),
      },
      {
        manifest: {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "RoleBinding",
          metadata: { ...metadata },
          roleRef,
          subjects: agentSubjects(namespace, policies),
        } satisfies Manifest<V1RoleBinding>,
      },
    ];
  });
}

/** The conflist the init containers install; one for the cluster, so its policies agree on the mode. */
export function cniConfig(namespace: string, opts: ConflistOptions = {}): Resource {
  return {
    manifest: {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: names.cniConfig, namespace, labels: commonLabels("cni-config") },
      data: { [conflistFile(opts.mode ?? "default")]: conflist(opts) },
    } satisfies Manifest<V1ConfigMap>,
  };
}

export function metricsService(namespace: string): Resource {
  const spec: V1ServiceSpec = {
    // Headless: Prometheus scrapes every agent (each is its node's address), not one of them.
    clusterIP: "None",
    selector: allAgentsSelector(),
    ports: [{ name: "metrics", port: PORT, targetPort: PORT, protocol: "TCP" }],
    // An agent that is not ready (e.g. cloud API down) is exactly the one worth scraping.
    publishNotReadyAddresses: true,
  };
  return {
    manifest: {
      apiVersion: "v1",
      kind: "Service",
      metadata: {
        name: names.metrics,
        namespace,
        labels: commonLabels("metrics"),
        annotations: {
          "prometheus.io/path": METRICS_PATH,
          "prometheus.io/port": String(PORT),
          "prometheus.io/scrape": "true",
        },
      },
      spec,
    } satisfies Manifest<V1Service>,
  };
}
