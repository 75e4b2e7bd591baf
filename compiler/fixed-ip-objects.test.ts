// ipMode: fixed in the compiled output: the four CRDs first (wave 0), the controller on the host
// network with the fixed policy's ConfigMap and the fixed passes' rights, the agents as in
// shared mode. test/compiler/fixed-controller.test.ts applies the same output to a real API
// server and runs a pass under the compiled role.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { parse } from "yaml";
import { fixedIpCrds } from "../schema/fixed-ip-crds.ts";
import { loadPolicies } from "../schema/index.ts";
import { cleanScratchAfterEach, policyYaml, REPO, scratchRepo } from "./compile-kit.ts";
import { controllerApiRequests } from "./controller.ts";
import { generate } from "./output-files.ts";

cleanScratchAfterEach();

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML
const doc = (files: Map<string, string>, name: string) => parse(files.get(name)!) as any;

async function compiled(files: Record<string, string>) {
  const repo = scratchRepo(files);
  const loaded = await loadPolicies([join(repo, "policies")], REPO);
  expect(loaded.diagnostics).toEqual([]);
  const out = generate(loaded.policies, loaded.sources, { image: "registry.example.com/vpccni:test" });
  expect(out.diagnostics).toEqual([]);
  return out.files;
}

const shared = { "a.yaml": policyYaml("alpha", "a") };
const mixedPools = { ...shared, "b.yaml": policyYaml("beta", "b", ["ipMode: fixed", "fixedIp: { reclaim: Never }"]) };

describe("ipMode: fixed", () => {
  test("the CRDs come first, in wave 0, exactly schema/fixed-ip-crds.ts plus vpccni's labels", async () => {
    const files = await compiled(mixedPools);
    const crds = [...files.keys()].filter((f) => f.includes("customresourcedefinition"));
    expect(crds).toEqual([
      "10-customresourcedefinition-nodeeniconfigs.vpccni.io.yaml",
      "10-customresourcedefinition-vpcenis.vpccni.io.yaml",
      "10-customresourcedefinition-vpcipclaims.vpccni.io.yaml",
      "10-customresourcedefinition-vpcips.vpccni.io.yaml",
    ]);
    const kustomization = doc(files, "kustomization.yaml").resources as string[];
    expect(kustomization.slice(0, 4)).toEqual(crds);
    for (const crd of fixedIpCrds()) {
      const name = (crd.metadata as { name: string }).name;
      const got = doc(files, `10-customresourcedefinition-${name}.yaml`);
      // never pruned by Argo CD or Flux: deleting a CRD would delete every claim
      expect(got.metadata.annotations).toEqual({
        "argocd.argoproj.io/sync-wave": "0",
        "argocd.argoproj.io/sync-options": "Prune=false",
        "kustomize.toolkit.fluxcd.io/prune": "disabled",
      });
      expect(got.metadata.labels["app.kubernetes.io/component"]).toBe("crd");
      expect(got.spec).toEqual(JSON.parse(JSON.stringify(crd.spec)));
    }
  });

  test("a cluster with no fixed policy has no CRD and the shared controller", async () => {
    const files = await compiled(shared);
    expect([...files.keys()].filter((f) => f.includes("customresourcedefinition"))).toEqual([]);
    const pod = doc(files, "41-deployment-vpccni-controller.yaml").spec.template.spec;
    expect(pod.hostNetwork).toBeUndefined();
    expect(pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);
    expect(pod.containers[0].resources.requests["tke.cloud.tencent.com/eni-ip"]).toBe("1");
  });

  test("the controller: host network, no eni-ip, one replica per node, the fixed policy's ConfigMap", async () => {
    const files = await compiled(mixedPools);
    const pod = doc(files, "41-deployment-vpccni-controller.yaml").spec.template.spec;
    expect([pod.hostNetwork, pod.dnsPolicy]).toEqual([true, "ClusterFirstWithHostNet"]);
    expect(pod.affinity.podAntiAffinity).toEqual({
      requiredDuringSchedulingIgnoredDuringExecution: [
        {
          labelSelector: {
            matchLabels: { "app.kubernetes.io/component": "controller", "app.kubernetes.io/name": "vpccni" },
          },
          topologyKey: "kubernetes.io/hostname",
        },
      ],
    });
    const container = pod.containers[0];
    expect(container.resources).toEqual({ limits: { memory: "256Mi" }, requests: { cpu: "20m", memory: "64Mi" } });
    expect(container.args).toContain("--fixed-interval=2s");
    expect(pod.volumes.find((v: { name: string }) => v.name === "policy").configMap.name).toBe("vpccni-policy-beta");
  });

  test("the controller rolls when what it reads of its policy changes: all of the fixed policy; only the cloud settings in shared mode", async () => {
    const digest = async (files: Record<string, string>) =>
      doc(await compiled(files), "41-deployment-vpccni-controller.yaml").spec.template.metadata.annotations[
        "vpccni.io/policy-digest"
      ];
    const fixed = (extra: string[]) => ({
      ...shared,
      "b.yaml": policyYaml("beta", "b", ["ipMode: fixed", "fixedIp: { reclaim: Never }", ...extra]),
    });
    // fixed mode: any change of the fixed policy (the controller runs its pool)
    expect(await digest(fixed(["releaseInterval: 10m"]))).not.toBe(await digest(fixed([])));
    // shared mode: the pool settings are the agents' business, the cloud settings the sweep's
    const base = await digest(shared);
    expect(await digest({ "a.yaml": policyYaml("alpha", "a", ["releaseInterval: 10m"]) })).toBe(base);
    expect(
      await digest({ "a.yaml": policyYaml("alpha", "a", ["cloud:", "  endpoint: vpc.internal.tencentcloudapi.com"]) }),
    ).not.toBe(base);
  });

  test("the controller's roles: the shared requests plus the fixed passes', each rule with its why", async () => {
    const files = await compiled(mixedPools);
    const rules = (f: string) =>
      (
        doc(files, f).rules as { verbs: string[]; apiGroups: string[]; resources: string[]; resourceNames?: string[] }[]
      ).map(
        (r) => `${r.verbs} ${r.apiGroups[0] || "core"}/${r.resources}${r.resourceNames ? `[${r.resourceNames}]` : ""}`,
      );
    const cluster = rules("21-clusterrole-vpccni-controller.yaml");
    const fixedOnly = controllerApiRequests("self-managed", "fixed")
      .filter((r) => !controllerApiRequests("self-managed").some((s) => JSON.stringify(s) === JSON.stringify(r)))
      .map((r) => `${r.verb} ${r.group || "core"}/${r.resource}${r.subresource ? `/${r.subresource}` : ""}`);
    expect(fixedOnly).toEqual([
      "get vpccni.io/vpcipclaims",
      "list vpccni.io/vpcipclaims",
      "create vpccni.io/vpcipclaims",
      "update vpccni.io/vpcipclaims",
      "delete vpccni.io/vpcipclaims",
      "update vpccni.io/vpcipclaims/status",
      "list vpccni.io/vpcips",
      "create vpccni.io/vpcips",
      "delete vpccni.io/vpcips",
      "update vpccni.io/vpcips/status",
      "list vpccni.io/vpcenis",
      "create vpccni.io/vpcenis",
      "delete vpccni.io/vpcenis",
      "update vpccni.io/vpcenis/status",
      "list vpccni.io/nodeeniconfigs",
      "create vpccni.io/nodeeniconfigs",
      "delete vpccni.io/nodeeniconfigs",
      "update vpccni.io/nodeeniconfigs/status",
      "list core/pods",
      "patch core/nodes",
      "create core/events",
    ]);
    for (const r of fixedOnly) expect(cluster).toContain(r);
    expect(cluster).toHaveLength(
      controllerApiRequests("self-managed", "fixed").filter((r) => r.scope === "cluster").length,
    );
    // each rule is preceded by its why
    const text = files.get("21-clusterrole-vpccni-controller.yaml")!;
    expect(text).toContain("# fixed IP mode: sets the vpccni.io/eni-subnet label on a Node");
    // the namespaced Role is the shared one
    expect(rules("23-role-vpccni-controller.yaml")).toEqual(
      controllerApiRequests("self-managed")
        .filter((r) => r.scope === "namespace")
        .map((r) => `${r.verb} ${r.group || "core"}/${r.resource}${r.names ? `[${r.names}]` : ""}`),
    );
  });

  test("the fixed pool's agents: its DaemonSet on its nodes, the conflist and ConfigMap of any policy", async () => {
    const files = await compiled(mixedPools);
    const ds = doc(files, "40-daemonset-vpccni-agent-beta.yaml");
    expect(ds.spec.template.spec.nodeSelector).toEqual({ "kubernetes.io/os": "linux", "node.vpccni.io/pool": "b" });
    const policy = parse(doc(files, "30-configmap-vpccni-policy-beta.yaml").data["policy.yaml"]);
    expect(policy.spec.ipMode).toBe("fixed");
    expect(policy.spec.fixedIp).toEqual({ reclaim: "Never", cascade: false });
    // one conflist for the cluster: the agent answers each pod by its node's mode
    expect(Object.keys(doc(files, "30-configmap-vpccni-cni-config.yaml").data)).toEqual(["10-vpccni.conflist"]);
  });
});
