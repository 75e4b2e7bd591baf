// Which entry of AGENT_API_REQUESTS an HTTP request to the Kubernetes API is, if any. The node
// agent's tests record the requests the agent really sends and assert that each one matches:
// a request the list does not name is a request its ServiceAccount will be denied.
import { AGENT_API_REQUESTS, type ApiRequest } from "./rbac.ts";

export interface RequestAttributes {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

/** The RBAC attributes of an API request, as kube-apiserver's request-info resolver sees them. */
export function attributesOf(method: string, url: string): RequestAttributes | undefined {
  const u = new URL(url, "https://apiserver.invalid");
  let parts = u.pathname.split("/").filter(Boolean);
  let group: string;
  if (parts[0] === "api" && parts.length >= 2) {
    group = "";
    parts = parts.slice(2);
  } else if (parts[0] === "apis" && parts.length >= 3) {
    group = parts[1]!;
    parts = parts.slice(3);
  } else return undefined;
  let watchPath = false;
  if (parts[0] === "watch") {
    watchPath = true;
    parts = parts.slice(1);
  }
  let namespace: string | undefined;
  // /namespaces/{ns}/{resource}... is namespaced; /namespaces/{name} alone is the Namespace.
  if (parts[0] === "namespaces" && parts.length >= 3) {
    namespace = parts[1];
    parts = parts.slice(2);
  }
  const [resource, name, subresource] = parts;
  if (resource === undefined) return undefined;
  const watch = watchPath || ["1", "true"].includes(u.searchParams.get("watch") ?? "");
  const m = method.toUpperCase();
  const verb =
    m === "GET" || m === "HEAD"
      ? watch
        ? "watch"
        : name === undefined
          ? "list"
          : "get"
      : m === "POST"
        ? "create"
        : m === "PUT"
          ? "update"
          : m === "PATCH"
            ? "patch"
            : m === "DELETE"
              ? name === undefined
                ? "deletecollection"
                : "delete"
              : m.toLowerCase();
  return {
    verb,
    group,
    resource,
    ...(subresource ? { subresource } : {}),
    ...(namespace ? { namespace } : {}),
    ...(name ? { name } : {}),
  };
}

/** The entry of AGENT_API_REQUESTS the request is, or undefined when the agent must not send it. */
export function agentRequestFor(method: string, url: string): ApiRequest | undefined {
  const a = attributesOf(method, url);
  if (a === undefined) return undefined;
  return AGENT_API_REQUESTS.find(
    (r) =>
      r.verb === a.verb &&
      r.group === a.group &&
      r.resource === a.resource &&
      (r.subresource ?? undefined) === a.subresource &&
      // A Role's grant holds only in its namespace.
      (r.scope === "cluster" || r.scope.namespace === a.namespace),
  );
}
