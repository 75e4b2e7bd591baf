// Changes a running cluster cannot take, found against the previous output: object fields the
// API server refuses to update, and policy fields that would strand what nodes hold.
import { describe, expect, test } from "bun:test";
import { stringify } from "yaml";
import { loadYamlText } from "../schema/yaml-source.ts";
import { objectFieldChanges, policyFieldChanges } from "./immutable.ts";
import { OWNED_MARKER } from "./render.ts";
import type { Manifest } from "./resource.ts";
import type { Synthesized } from "./synth.ts";
import { policyYaml } from "../schema/policy-yaml-kit.ts";

const owned = (m: unknown) => `${OWNED_MARKER}\n${stringify(m)}`;
const object = (kind: string, name: string, rest: Record<string, unknown>, instance?: string): Manifest =>
  ({
    apiVersion: "v1",
    kind,
    metadata: { name, ...(instance ? { labels: { "app.kubernetes.io/instance": instance } } : {}) },
    ...rest,
  }) as unknown as Manifest;
const synthesized = (file: string, manifest: Manifest) => ({ file, manifest }) as Synthesized;

const policyText = (name: string, extra = "") => policyYaml(name, { extra });

function loaded(text: string) {
  const r = loadYamlText(text, "p.yaml");
  expect(r.diagnostics).toEqual([]);
  return { policies: r.policies, sources: new Map([["p.yaml", text]]) };
}

describe("objectFieldChanges", () => {
  const selector = (app: string) => ({ spec: { selector: { matchLabels: { b: "2", app } } } });
  test("a DaemonSet's selector, a binding's roleRef, a Service's clusterIP: refused, at the policy that owns it", () => {
    const { policies } = loaded(policyText("general"));
    const previous = {
      files: new Map([
        ["ds.yaml", owned(object("DaemonSet", "agent", selector("old"), "general"))],
        ["crb.yaml", owned(object("ClusterRoleBinding", "crb", { roleRef: { name: "a", kind: "ClusterRole" } }))],
        ["rb.yaml", owned(object("RoleBinding", "rb", { roleRef: { kind: "Role", name: "a" } }))],
        ["svc.yaml", owned(object("Service", "svc", { spec: { clusterIP: "None" } }))],
      ]),
    };
    const next = [
      synthesized("ds.yaml", object("DaemonSet", "agent", selector("new"), "general")),
      synthesized("crb.yaml", object("ClusterRoleBinding", "crb", { roleRef: { name: "b", kind: "ClusterRole" } })),
      // the same roleRef with its keys in another order is no change
      synthesized("rb.yaml", object("RoleBinding", "rb", { roleRef: { name: "a", kind: "Role" } })),
      synthesized("svc.yaml", object("Service", "svc", { spec: {} })),
    ];
    const found = objectFieldChanges(next, previous, policies, "deploy");
    expect(
      found.map((d) => `${d.file}:${d.line}:${d.col} ${d.code} ${d.path.join(".")} ${d.allowed} -> ${d.found}`),
    ).toEqual([
      'p.yaml:3:19 immutable-field spec.selector {"matchLabels":{"app":"old","b":"2"}} -> {"matchLabels":{"app":"new","b":"2"}}',
      'deploy/crb.yaml:1:1 immutable-field roleRef {"kind":"ClusterRole","name":"a"} -> {"kind":"ClusterRole","name":"b"}',
      'deploy/svc.yaml:1:1 immutable-field spec.clusterIP "None" -> nothing',
    ]);
    expect(found[0]).toMatchObject({
      severity: "error",
      message: `DaemonSet agent: spec.selector would change from {"matchLabels":{"app":"old","b":"2"}} to {"matchLabels":{"app":"new","b":"2"}} (previous output deploy/ds.yaml); Kubernetes does not allow changing a DaemonSet's selector`,
      hint: "remove the policy and sync (the old objects are deleted), then add it back",
    });
    expect(found[1]?.message).toEndWith("Kubernetes does not allow changing a binding's roleRef");
    expect(found[2]?.message).toEndWith("Kubernetes does not allow changing a Service's clusterIP");
  });

  test("only against the compiler's own previous files of the same kind", () => {
    const next = [synthesized("ds.yaml", object("DaemonSet", "agent", selector("new")))];
    const theirs = { files: new Map([["ds.yaml", stringify(object("DaemonSet", "agent", selector("old")))]]) };
    const otherKind = { files: new Map([["ds.yaml", owned(object("Deployment", "agent", selector("old")))]]) };
    const broken = { files: new Map([["ds.yaml", `${OWNED_MARKER}\nkind: [unclosed\n`]]) };
    for (const previous of [theirs, otherKind, broken, { files: new Map<string, string>() }])
      expect(objectFieldChanges(next, previous, [], "deploy")).toEqual([]);
  });
});

describe("policyFieldChanges", () => {
  const configMap = (policy: string) =>
    owned(object("ConfigMap", "vpccni-policy-general", { data: { "policy.yaml": policy } }));
  const FILE = "30-configmap-vpccni-policy-general.yaml";

  test("ipMode, clusterId, vpcId and region cannot change: at the field, or the spec when it is a default", () => {
    const before = policyText("general", "  ipMode: fixed\n").replace("ap-guangzhou", "ap-shanghai");
    const { policies, sources } = loaded(policyText("general"));
    const found = policyFieldChanges(policies, { files: new Map([[FILE, configMap(before)]]) }, sources, "deploy");
    expect(found.map((d) => `${d.line}:${d.col} ${d.path.join(".")} ${d.allowed} -> ${d.found}`)).toEqual([
      '4:1 spec.ipMode "fixed" -> "shared"',
      '6:3 spec.region "ap-shanghai" -> "ap-guangzhou"',
    ]);
    expect(found[0]).toMatchObject({
      code: "immutable-field",
      severity: "error",
      message: `spec.ipMode of "general" changes from "fixed" to "shared" (previous output deploy/${FILE}); IP mode can only be chosen when a cluster is created: nodes hold a per-node pool in shared mode and a cluster pool reservation in fixed mode, and neither converts into the other`,
      hint: "a new cluster, or a new policy name for new nodes, is the way to change it",
    });
    expect(found[1]?.message).toEndWith(
      "the nodes' ENIs live in this region; the agent would manage ENIs it cannot see",
    );
  });

  test("nothing to compare: no previous ConfigMap, not the compiler's, not a ConfigMap, no policy in it, or the field unset before", () => {
    const { policies, sources } = loaded(policyText("general"));
    const unsetBefore = policyText("general").replace("  vpcId: vpc-demo0001\n", "");
    const cases = [
      new Map<string, string>(),
      new Map([[FILE, configMap(policyText("general", "  ipMode: fixed\n")).replace(OWNED_MARKER, "# mine")]]),
      new Map([[FILE, owned(object("Secret", "vpccni-policy-general", { data: {} }))]]),
      new Map([[FILE, owned(object("ConfigMap", "vpccni-policy-general", { data: {} }))]]),
      new Map([[FILE, configMap("spec: [unclosed")]]),
      new Map([[FILE, configMap(unsetBefore)]]),
    ];
    for (const files of cases) expect(policyFieldChanges(policies, { files }, sources, "deploy")).toEqual([]);
    const vpc = new Map([[FILE, configMap(policyText("general").replace("vpc-demo0001", "vpc-other001"))]]);
    expect(policyFieldChanges(policies, { files: vpc }, sources, "deploy")[0]?.message).toEndWith(
      "the nodes' ENIs and bound IPs live in this VPC; ENIs cannot move to another VPC",
    );
  });
});
