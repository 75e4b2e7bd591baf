// Every request the node agent makes to the Kubernetes API, and the RBAC rules derived from
// them. The agent is tested against AGENT_API_REQUESTS (it must not make any other request)
// and the generated roles are tested against it on a real API server (each request allowed,
// everything else in AGENT_DENIED_REQUESTS denied). Adding a request means adding it here.

export interface ApiRequest {
  verb: "get" | "list" | "watch" | "create" | "patch";
  /** API group: "" is the core group. */
  group: string;
  resource: string;
  subresource?: string;
  /**
   * cluster: a ClusterRole rule (the object's name or namespace is only known on the node);
   * credentials: a Role in the credentials Secret's namespace, limited to that one name.
   */
  scope: "cluster" | "credentials";
  /** Why the agent makes this request; copied into the generated role as a comment. */
  why: string;
}

export const AGENT_API_REQUESTS: readonly ApiRequest[] = [
  {
    verb: "get", group: "", resource: "nodes", scope: "cluster",
    why: "reads its own Node (by NODE_NAME) to see the eni-ip capacity it published before a restart",
  },
  {
    verb: "patch", group: "", resource: "nodes", subresource: "status", scope: "cluster",
    why: "publishes tke.cloud.tencent.com/eni-ip capacity (max bindable) and allocatable (bound IPs) on its own Node",
  },
  {
    verb: "list", group: "", resource: "pods", scope: "cluster",
    why: "lists pods with fieldSelector spec.nodeName=NODE_NAME to free IPs of pods that are gone (missed CNI DEL)",
  },
  {
    verb: "watch", group: "", resource: "pods", scope: "cluster",
    why: "watches pods on its node (same field selector) to notice deletions without polling",
  },
  {
    verb: "get", group: "", resource: "pods", scope: "cluster",
    why: "on CNI ADD reads the pod its watch has not delivered yet, for the tke.cloud.tencent.com/networks annotation (list already shows these pods)",
  },
  {
    verb: "create", group: "", resource: "events", scope: "cluster",
    why: "records events on its Node (namespace default) and on pods (their namespace), e.g. subnet exhausted",
  },
  {
    verb: "get", group: "", resource: "secrets", scope: "credentials",
    why: "reads the API key pair from the one Secret spec.cloud.credentialsSecretRef names, and no other",
  },
];

/** Requests the agent never makes; the RBAC test proves each is denied to its ServiceAccount. */
export const AGENT_DENIED_REQUESTS: readonly { verb: string; group: string; resource: string; subresource?: string; namespace?: string; name?: string }[] = [
  { verb: "list", group: "", resource: "secrets" },
  { verb: "watch", group: "", resource: "secrets" },
  { verb: "get", group: "", resource: "secrets", namespace: "kube-system", name: "tencentcloud-credentials" },
  { verb: "list", group: "", resource: "nodes" },
  { verb: "delete", group: "", resource: "nodes" },
  { verb: "patch", group: "", resource: "nodes" },
  { verb: "update", group: "", resource: "nodes", subresource: "status" },
  { verb: "patch", group: "", resource: "pods", namespace: "default" },
  { verb: "delete", group: "", resource: "pods", namespace: "default" },
  { verb: "create", group: "", resource: "pods", namespace: "default" },
  { verb: "create", group: "", resource: "pods", subresource: "eviction", namespace: "default" },
  { verb: "get", group: "", resource: "configmaps", namespace: "vpccni-system" },
  { verb: "update", group: "", resource: "events", namespace: "default" },
  { verb: "create", group: "", resource: "serviceaccounts", subresource: "token", namespace: "vpccni-system" },
  { verb: "create", group: "rbac.authorization.k8s.io", resource: "clusterrolebindings" },
  { verb: "list", group: "apps", resource: "daemonsets" },
];

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

export interface CommentedRule {
  rule: PolicyRule;
  why: string[];
}

/**
 * One rule per resource (subresources are resources of their own in RBAC), verbs sorted,
 * rules sorted by group then resource: the output is stable whatever order the list has.
 */
export function rulesFor(scope: ApiRequest["scope"], resourceNames?: string[]): CommentedRule[] {
  const byResource = new Map<string, { group: string; resource: string; verbs: Set<string>; why: string[] }>();
  for (const r of AGENT_API_REQUESTS) {
    if (r.scope !== scope) continue;
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
      rule: { apiGroups: [e.group], resources: [e.resource], verbs: [...e.verbs].sort(), ...(resourceNames ? { resourceNames } : {}) },
      why: e.why,
    }));
}
