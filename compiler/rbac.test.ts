// The generated roles follow from AGENT_API_REQUESTS and nothing else. The real API server
// suite (test/compiler/apiserver.test.ts) proves the same against kube-apiserver's RBAC.
import { describe, expect, test } from "bun:test";
import { clusterRole, namespacedRoles } from "./cluster-objects.ts";
import { AGENT_API_REQUESTS, AGENT_DENIED_REQUESTS, EVENTS_NAMESPACE, type PolicyRule } from "./rbac.ts";

const clusterRules = clusterRole().manifest.rules as PolicyRule[];
const roles = namespacedRoles("ns", ["b", "a"]);
const [eventsRole, eventsBinding] = roles;
const roleRules = eventsRole!.manifest.rules as PolicyRule[];

/** kube-apiserver's RBAC rule match, for resource requests. */
function covers(
  rule: PolicyRule,
  r: { verb: string; group: string; resource: string; subresource?: string; name?: string },
): boolean {
  const resource = r.subresource ? `${r.resource}/${r.subresource}` : r.resource;
  const star = (list: string[], v: string) => list.includes("*") || list.includes(v);
  return (
    star(rule.apiGroups, r.group) &&
    star(rule.resources, resource) &&
    star(rule.verbs, r.verb) &&
    (rule.resourceNames === undefined || (r.name !== undefined && rule.resourceNames.includes(r.name)))
  );
}

describe("agent RBAC", () => {
  test("no wildcard anywhere, and every rule says why", () => {
    for (const rule of [...clusterRules, ...roleRules]) expect(JSON.stringify(rule)).not.toContain("*");
    expect(clusterRole().comments!.length).toBe(clusterRules.length);
    for (const r of AGENT_API_REQUESTS) expect(r.why.length).toBeGreaterThan(20);
  });

  test("each request is granted by exactly one rule of its scope", () => {
    for (const r of AGENT_API_REQUESTS) {
      const rules = r.scope === "cluster" ? clusterRules : roleRules;
      expect({ r, rules: rules.filter((rule) => covers(rule, r)).length }).toEqual({ r, rules: 1 });
    }
  });

  test("every verb a rule grants is a request the agent makes", () => {
    const granted = [
      ...clusterRules.map((r) => ["cluster", r] as const),
      ...roleRules.map((r) => [EVENTS_NAMESPACE, r] as const),
    ].flatMap(([scope, rule]) =>
      rule.resources.flatMap((res) => rule.verbs.map((v) => `${scope} ${v} ${rule.apiGroups[0]}/${res}`)),
    );
    const made = AGENT_API_REQUESTS.map(
      (r) =>
        `${r.scope === "cluster" ? "cluster" : r.scope.namespace} ${r.verb} ${r.group}/${r.subresource ? `${r.resource}/${r.subresource}` : r.resource}`,
    );
    expect(granted.sort()).toEqual([...made].sort());
  });

  test("events only in namespace default, for every policy's ServiceAccount; Secrets and ConfigMaps nowhere", () => {
    expect(roles.map((r) => [r.manifest.kind, r.manifest.metadata.namespace])).toEqual([
      ["Role", "default"],
      ["RoleBinding", "default"],
    ]);
    expect(roleRules).toEqual([{ apiGroups: [""], resources: ["events"], verbs: ["create"] }]);
    expect(eventsBinding!.manifest.subjects).toEqual([
      { kind: "ServiceAccount", name: "vpccni-agent-a", namespace: "ns" },
      { kind: "ServiceAccount", name: "vpccni-agent-b", namespace: "ns" },
    ]);
    for (const rule of [...clusterRules, ...roleRules])
      expect(rule.resources.some((r) => r === "secrets" || r === "configmaps")).toBe(false);
  });

  test("no denied request matches a rule that applies where it is made", () => {
    for (const d of AGENT_DENIED_REQUESTS) {
      const hits = [...clusterRules, ...(d.namespace === EVENTS_NAMESPACE ? roleRules : [])].filter((rule) =>
        covers(rule, d),
      );
      expect({ d, hits }).toEqual({ d, hits: [] });
    }
  });
});
