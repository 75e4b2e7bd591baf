// Every request the node agent makes to the Kubernetes API, and the RBAC rules derived from
// them. The agent is tested against AGENT_API_REQUESTS (it must not make any other request)
// and the generated roles are tested against it on a real API server (each request allowed,
// everything else in AGENT_DENIED_REQUESTS denied). Adding a request means adding it here.
// Not here, on purpose: the policy ConfigMap and the credentials Secret reach the agent as
// volumes the kubelet mounts, so the agent needs no access to ConfigMaps or Secrets at all.
// Nor pods: RBAC cannot narrow a pod read to the agent's node, so a stolen agent token would
// read every pod spec of the cluster. Pods gone without a DEL are found from their netns paths
// (runtime/agent/pod-gc.ts); mixed mode's networks annotation comes from the container runtime
// in the CNI call (runtimeConfig io.kubernetes.cri.pod-annotations, runtime/agent/opt-in.ts).
import type { V1PolicyRule } from "@kubernetes/client-node";

export interface ApiRequest {
  verb: "get" | "list" | "watch" | "create" | "patch";
  /** API group: "" is the core group. */
  group: string;
  resource: string;
  subresource?: string;
  /**
   * cluster: a ClusterRole rule (the node's and the pods' names are only known on the node);
   * namespace: a Role in that one namespace.
   */
  scope: "cluster" | { namespace: string };
  /** Why the agent makes this request; copied into the generated role as a comment. */
  why: string;
}

/** Where the agent records Node events: the kubelet's namespace for them, so `kubectl describe node` shows them. */
export const EVENTS_NAMESPACE = "default";

/** What runtime/kube/client.ts sends: its KubePort, request by request. */
export const AGENT_API_REQUESTS: readonly ApiRequest[] = [
  {
    verb: "patch",
    group: "",
    resource: "nodes",
    subresource: "status",
    scope: "cluster",
    why: "publishes tke.cloud.tencent.com/eni-ip capacity (max bindable) and allocatable (bound IPs) on its own Node (merge patch), and the condition VpccniDrained when its policy switches vpccni off (strategic merge patch); the admission policy vpccni-agent-node-status holds it to its own node, that resource and that condition",
  },
  {
    verb: "get",
    group: "vpccni.io",
    resource: "vpcipclaims",
    scope: "cluster",
    why: "fixed IP mode: reads the VpcIPClaim of the pod a CNI ADD names (same namespace and name) until the controller has bound its address to this node's ENI; the agent never writes claims",
  },
  {
    verb: "get",
    group: "vpccni.io",
    resource: "nodeeniconfigs",
    scope: "cluster",
    why: "fixed IP mode: reads its own Node's NodeENIConfig (same name) for the ENI the controller bound and its IP quota, which it publishes as tke.cloud.tencent.com/eni-ip; the agent never writes it",
  },
  {
    verb: "create",
    group: "",
    resource: "events",
    scope: { namespace: EVENTS_NAMESPACE },
    why: "records events on its Node (subnet exhausted, cloud errors, policy rejected) in namespace default, where the kubelet's Node events are",
  },
];

/**
 * Requests the agent never makes; the RBAC test proves each is denied to its ServiceAccount.
 * "NS" stands for the namespace vpccni is deployed into.
 */
export const AGENT_DENIED_REQUESTS: readonly {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}[] = [
  { verb: "get", group: "", resource: "secrets", namespace: "NS", name: "tencentcloud-credentials" },
  { verb: "list", group: "", resource: "secrets" },
  { verb: "watch", group: "", resource: "secrets" },
  { verb: "get", group: "", resource: "secrets", namespace: "kube-system", name: "tencentcloud-credentials" },
  { verb: "get", group: "", resource: "configmaps", namespace: "NS", name: "vpccni-policy-general" },
  { verb: "get", group: "", resource: "nodes", name: "node-a" },
  { verb: "list", group: "", resource: "nodes" },
  // no pod reads at all: not all pods, not those of its node, not one
  { verb: "list", group: "", resource: "pods" },
  { verb: "list", group: "", resource: "pods", namespace: "default" },
  { verb: "watch", group: "", resource: "pods" },
  { verb: "get", group: "", resource: "pods", namespace: "default", name: "p" },
  { verb: "get", group: "", resource: "pods", namespace: "kube-system", name: "p" },
  { verb: "delete", group: "", resource: "nodes", name: "node-a" },
  { verb: "patch", group: "", resource: "nodes", name: "node-a" },
  { verb: "update", group: "", resource: "nodes", subresource: "status", name: "node-a" },
  { verb: "patch", group: "", resource: "pods", namespace: "default", name: "p" },
  { verb: "delete", group: "", resource: "pods", namespace: "default", name: "p" },
  { verb: "create", group: "", resource: "pods", namespace: "default" },
  { verb: "create", group: "", resource: "pods", subresource: "eviction", namespace: "default", name: "p" },
  { verb: "create", group: "", resource: "events", namespace: "kube-system" },
  { verb: "update", group: "", resource: "events", namespace: "default", name: "e" },
  {
    verb: "create",
    group: "",
    resource: "serviceaccounts",
    subresource: "token",
    namespace: "NS",
    name: "vpccni-agent-general",
  },
  { verb: "create", group: "rbac.authorization.k8s.io", resource: "clusterrolebindings" },
  { verb: "list", group: "apps", resource: "daemonsets" },
];

/** An RBAC rule as we write them: always for resources (the model allows nonResourceURLs instead). */
export type PolicyRule = V1PolicyRule & Required<Pick<V1PolicyRule, "apiGroups" | "resources">>;

export interface CommentedRule {
  rule: PolicyRule;
  why: string[];
}

/**
 * One rule per resource (subresources are resources of their own in RBAC), verbs sorted,
 * rules sorted by group then resource: the output is stable whatever order the list has.
 */
export function rulesFor(scope: "cluster" | { namespace: string }): CommentedRule[] {
  const byResource = new Map<string, { group: string; resource: string; verbs: Set<string>; why: string[] }>();
  for (const r of AGENT_API_REQUESTS) {
    if (scopeKey(r.scope) !== scopeKey(scope)) continue;
    const resource = r.subresource ? `${r.resource}/${r.subresource}` : r.resource;
    const key = `${r.group}\u0000${resource}`;
    const entry = byResource.get(key) ?? { group: r.group, resource, verbs: new Set<string>(), why: [] };
    entry.verbs.add(r.verb);
    entry.why.push(`${r.verb}: ${r.why}`);
    byResource.set(key, entry);
  }
  return [...byResource.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, e]) => ({
      rule: { apiGroups: [e.group], resources: [e.resource], verbs: [...e.verbs].sort() },
      why: e.why,
    }));
}

function scopeKey(scope: ApiRequest["scope"]): string {
  return scope === "cluster" ? "" : scope.namespace;
}

/** The namespaces the agent needs a Role in, sorted. */
export function roleNamespaces(): string[] {
  return [...new Set(AGENT_API_REQUESTS.flatMap((r) => (r.scope === "cluster" ? [] : [r.scope.namespace])))].sort();
}
