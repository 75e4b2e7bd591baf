// The fixed IP CRDs on a real kube-apiserver: each definition is accepted (server-side apply,
// dry run first), an example object of each kind validates, and an invalid one is refused with
// the field named. The zod types must agree with the API server on both.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CRD_API_VERSION, CRD_GROUP, CRD_VERSION, FIXED_IP_KINDS, fixedIpCrds } from "../../schema/fixed-ip-crds.ts";
import { kubeCall } from "../../sandbox/kube-api.ts";
import { useSharedCluster } from "../harness/shared-apiserver-kit.ts";

const CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
const crdName = (crd: Record<string, unknown>) => (crd.metadata as { name: string }).name;

const EXAMPLES: Record<string, { name: string; spec: unknown; bad: unknown; field: string }> = {
  VpcIPClaim: {
    name: "web-0",
    spec: { deletePolicy: "Never", expiredDuration: "30m", nominatedAddress: "10.0.1.7" },
    bad: { deletePolicy: "Sometimes" },
    field: "spec.deletePolicy",
  },
  VpcIP: {
    name: "10.0.1.7",
    spec: { address: "10.0.1.7", subnet: "subnet-aaaa1111", claim: { namespace: "default", name: "web-0" } },
    bad: { address: "10.0.1.700", subnet: "subnet-aaaa1111", claim: { namespace: "default", name: "web-0" } },
    field: "spec.address",
  },
  VpcENI: {
    name: "node-1",
    spec: { node: "node-1", subnet: "subnet-aaaa1111", reservedIPs: 20 },
    bad: { node: "node-1", subnet: "subnet-aaaa1111", reservedIPs: 0 },
    field: "spec.reservedIPs",
  },
  NodeENIConfig: {
    name: "node-1",
    spec: { instanceId: "ins-1a2b3c4d", eniIPQuota: 20 },
    bad: { instanceId: "i-123", eniIPQuota: 20 },
    field: "spec.instanceId",
  },
};

function objectPath(kind: string, dryRun: boolean): string {
  const def = FIXED_IP_KINDS.find((k) => k.kind === kind)!;
  const ns = def.scope === "Namespaced" ? "/namespaces/default" : "";
  return `/apis/${CRD_GROUP}/${CRD_VERSION}${ns}/${def.plural}${dryRun ? "?dryRun=All" : ""}`;
}

describe("fixed IP CRDs on a real kube-apiserver", () => {
  // registered before the shared cluster's own afterAll, so that it runs while the cluster is up
  afterAll(async () => {
    for (const crd of fixedIpCrds()) {
      await kubeCall(cluster().admin, "DELETE", `${CRDS}/${crdName(crd)}`, { allow: [404] });
    }
  });

  const cluster = useSharedCluster();

  beforeAll(async () => {
    for (const crd of fixedIpCrds()) {
      await kubeCall(cluster().admin, "DELETE", `${CRDS}/${crdName(crd)}`, { allow: [404] });
      // a CRD's deletion finishes in the background: wait until it is gone before applying again
      for (let i = 0; i < 150; i++) {
        const got = await kubeCall(cluster().admin, "GET", `${CRDS}/${crdName(crd)}`, { allow: [404] });
        if (got.status === 404) break;
        await Bun.sleep(200);
      }
    }
  });

  test("each CRD is accepted by server-side apply (dry run, then for real) and becomes Established", async () => {
    const kc = cluster().admin;
    for (const crd of fixedIpCrds()) {
      for (const dry of [true, false]) {
        const q = `fieldManager=vpccni-test&force=true${dry ? "&dryRun=All" : ""}`;
        const res = await kubeCall(kc, "PATCH", `${CRDS}/${crdName(crd)}?${q}`, {
          body: crd,
          contentType: "application/apply-patch+yaml",
        });
        expect(res.json?.metadata?.name).toBe(crdName(crd));
      }
    }
    for (const crd of fixedIpCrds()) {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const got = await kubeCall(kc, "GET", `${CRDS}/${crdName(crd)}`);
        const conditions: { type: string; status: string }[] = got.json?.status?.conditions ?? [];
        if (conditions.some((c) => c.type === "Established" && c.status === "True")) break;
        if (Date.now() > deadline) throw new Error(`${crdName(crd)} not Established: ${JSON.stringify(conditions)}`);
        await Bun.sleep(200);
      }
    }
    // Discovery follows Established a moment later (the API server's discovery cache): read it
    // until it lists the four, or 30 s
    type Resource = { name: string; shortNames?: string[]; namespaced: boolean };
    let resources: Resource[] = [];
    for (const deadline = Date.now() + 30_000; ; await Bun.sleep(200)) {
      const discovery = await kubeCall(kc, "GET", `/apis/${CRD_GROUP}/${CRD_VERSION}`, { allow: [404] });
      resources = discovery.json?.resources ?? [];
      if (resources.filter((r) => !r.name.includes("/")).length >= 4 || Date.now() > deadline) break;
    }
    const top = resources.filter((r) => !r.name.includes("/"));
    expect(top.map((r) => [r.name, r.shortNames, r.namespaced]).sort()).toEqual([
      ["nodeeniconfigs", ["nec"], false],
      ["vpcenis", ["veni"], false],
      ["vpcipclaims", ["vipc"], true],
      ["vpcips", ["vip"], false],
    ]);
    expect(resources.filter((r) => r.name.endsWith("/status")).length).toBe(4);
  });

  for (const def of FIXED_IP_KINDS) {
    const ex = EXAMPLES[def.kind]!;
    test(`${def.kind}: an example validates (dry-run create); an invalid ${ex.field} is refused by name`, async () => {
      const kc = cluster().admin;
      expect(def.spec.safeParse(ex.spec).success).toBe(true);
      const good = { apiVersion: CRD_API_VERSION, kind: def.kind, metadata: { name: ex.name }, spec: ex.spec };
      const created = await kubeCall(kc, "POST", objectPath(def.kind, true), { body: good });
      expect(created.status).toBe(201);
      expect(created.json.spec).toEqual(ex.spec);

      const zodIssue = def.spec.safeParse(ex.bad).error?.issues[0];
      expect(`spec.${zodIssue?.path.join(".")}`).toBe(ex.field);
      const refused = await kubeCall(kc, "POST", objectPath(def.kind, true), {
        body: { ...good, spec: ex.bad },
        allow: [422],
      });
      expect(refused.status).toBe(422);
      expect(refused.json.message).toContain(ex.field);
    });
  }
});
