// The generated roles follow from AGENT_API_REQUESTS and nothing else. The real API server
// suite (test/compiler/apiserver.test.ts) proves the same against kube-apiserver's RBAC.
import { describe, expect, test } from "bun:test";
import { clusterRole } from "./cluster-objects.ts";
import { credentialsRbac } from "./policy-objects.ts";
import { AGENT_API_REQUESTS, AGENT_DENIED_REQUESTS, type PolicyRule } from "./rbac.ts";
import { VpcCniPolicy } from "../schema/index.ts";

const policy = VpcCniPolicy.parse({
  apiVersion: "vpccni.io/v1alpha1",
  kind: "VpcCniPolicy",
  metadata: { name: "p" },
  spec: { clusterId: "cls-rbac0001", region: "ap-guangzhou", vpcId: "vpc-rbac0001", subnets: ["subnet-rbac0001"], cloud: { credentialsSecretRef: { name: "keys" } } },
});

const clusterRules = clusterRole().manifest.rules as PolicyRule[];
const [role, binding] = credentialsRbac(policy, "ns", "p.yaml");
const roleRules = role!.manifest.rules as PolicyRule[];

/** kube-apiserver's RBAC rule match, for resource requests. */
function covers(rule: PolicyRule, r: { verb: string; group: string; resource: string; subresource?: string; name?: string }): boolean {
  const resource = r.subresource ? `${r.resource}/${r.subresource}` : r.resource;
  const star = (list: string[], v: string) => list.includes("*") || list.includes(v);
  return star(rule.apiGroups, r.group) && star(rule.resources, resource) && star(rule.verbs, r.verb) && (rule.resourceNames === undefined || (r.name !== undefined && rule.resourceNames.includes(r.name)));
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
      const name = r.scope === "credentials" ? "keys" : undefined;
      expect({ r, rules: rules.filter((rule) => covers(rule, { ...r, name })).length }).toEqual({ r, rules: 1 });
    }
  });

  test("every verb a rule grants is a request the agent makes", () => {
    const granted = [...clusterRules.map((r) => ["cluster", r] as const), ...roleRules.map((r) => ["credentials", r] as const)].flatMap(([scope, rule]) =>
      rule.resources.flatMap((res) => rule.verbs.map((v) => `${scope} ${v} ${rule.apiGroups[0]}/${res}`)),
    );
    const made = AGENT_API_REQUESTS.map((r) => `${r.scope} ${r.verb} ${r.group}/${r.subresource ? `${r.resource}/${r.subresource}` : r.resource}`);
    expect(granted.sort()).toEqual([...made].sort());
  });

  test("Secrets only through the Role, by name; no denied request matches any rule", () => {
    expect(clusterRules.some((r) => r.resources.includes("secrets"))).toBe(false);
    expect(roleRules).toEqual([{ apiGroups: [""], resources: ["secrets"], verbs: ["get"], resourceNames: ["keys"] }]);
    expect(role!.manifest.metadata.namespace).toBe("ns");
    expect(binding!.manifest.subjects).toEqual([{ kind: "ServiceAccount", name: "vpccni-agent-p", namespace: "ns" }]);
    for (const d of AGENT_DENIED_REQUESTS) {
      const hits = [...clusterRules, ...(d.namespace === "ns" ? roleRules : [])].filter((rule) => covers(rule, d));
      expect({ d, hits }).toEqual({ d, hits: [] });
    }
  });

  test("a policy without a credentials Secret gets no Role at all", () => {
    const none = VpcCniPolicy.parse({ ...policy, spec: { ...policy.spec, cloud: { endpoint: "vpc.tencentcloudapi.com" } } });
    expect(credentialsRbac(none, "ns", "p.yaml")).toEqual([]);
  });
});
