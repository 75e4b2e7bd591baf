// Which pods get eni-ip, and the patch: applied with a JSON-patch implementation written from
// RFC 6902 here, so the test checks the resulting pod, not the operations' spelling.
import { describe, expect, test } from "bun:test";
import { ENI_IP_RESOURCE, ENI_SUBNET_LABEL, NETWORKS_ANNOTATION } from "../../schema/names.ts";
import { createdPod, eniIpPatch, placementPatch, review, usesVpcCni } from "./webhook.ts";

function applyPatch(doc: any, ops: { op: string; path: string; value: unknown }[]): any {
  const out = structuredClone(doc);
  for (const op of ops) {
    expect(op.op).toBe("add");
    const keys = op.path
      .split("/")
      .slice(1)
      .map((k) => k.replaceAll("~1", "/").replaceAll("~0", "~"));
    let at = out;
    for (const k of keys.slice(0, -1)) {
      if (at[k] === undefined) throw new Error(`path ${op.path}: ${k} does not exist`);
      at = at[k];
    }
    at[keys.at(-1)!] = op.value;
  }
  return out;
}

const pod = (spec: Record<string, unknown> = {}, annotations?: Record<string, string>): any => ({
  metadata: { name: "p", namespace: "apps", ...(annotations ? { annotations } : {}) },
  spec: {
    containers: [
      { name: "app", image: "x" },
      { name: "side", image: "y" },
    ],
    ...spec,
  },
});

describe("eni-ip webhook", () => {
  test("which pods use vpccni: the annotation decides, else the mode; hostNetwork never", () => {
    const dflt = { mode: "default" as const };
    const mixed = { mode: "mixed" as const };
    expect(usesVpcCni(pod(), dflt)).toEqual({ inject: true });
    expect(usesVpcCni(pod(), mixed)).toEqual({
      inject: false,
      why: `mixed mode and no ${NETWORKS_ANNOTATION} annotation`,
    });
    expect(usesVpcCni(pod({}, { [NETWORKS_ANNOTATION]: "tke-route-eni" }), mixed)).toEqual({ inject: true });
    expect(usesVpcCni(pod({}, { [NETWORKS_ANNOTATION]: "flannel, tke-route-eni" }), mixed)).toEqual({ inject: true });
    expect(usesVpcCni(pod({}, { [NETWORKS_ANNOTATION]: "flannel" }), dflt).inject).toBe(false);
    expect(usesVpcCni(pod({ hostNetwork: true }), dflt)).toEqual({ inject: false, why: "hostNetwork pod" });
  });

  test("the first container requests and limits 1 eni-ip, whatever resources it had", () => {
    const cases = [
      pod(),
      pod({ containers: [{ name: "a", resources: {} }] }),
      pod({ containers: [{ name: "a", resources: { requests: { cpu: "1" } } }] }),
      pod({ containers: [{ name: "a", resources: { limits: { memory: "1Gi" }, requests: { cpu: "1" } } }] }),
    ];
    for (const p of cases) {
      const out = applyPatch(p, eniIpPatch(p) as any);
      expect(out.spec.containers[0].resources.requests[ENI_IP_RESOURCE]).toBe("1");
      expect(out.spec.containers[0].resources.limits[ENI_IP_RESOURCE]).toBe("1");
      // what was there stays
      for (const side of ["requests", "limits"])
        for (const [k, v] of Object.entries(p.spec.containers[0]?.resources?.[side as "requests"] ?? {}))
          expect(out.spec.containers[0].resources[side][k]).toBe(v);
      expect(out.spec.containers[1]).toEqual(p.spec.containers[1]);
    }
    // already asked: nothing to do; one side given: copied to the other
    const both = pod({
      containers: [{ resources: { requests: { [ENI_IP_RESOURCE]: "1" }, limits: { [ENI_IP_RESOURCE]: "1" } } }],
    });
    expect(eniIpPatch(both)).toEqual([]);
    const half = pod({ containers: [{ resources: { limits: { [ENI_IP_RESOURCE]: "2" } } }] });
    expect(applyPatch(half, eniIpPatch(half) as any).spec.containers[0].resources.requests[ENI_IP_RESOURCE]).toBe("2");
  });

  test("an AdmissionReview gets its uid back, a base64 JSON patch for pods that use vpccni, none otherwise", () => {
    const ask = (object: unknown, operation = "CREATE") => ({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      request: { uid: "u1", kind: { kind: "Pod" }, operation, object },
    });
    const yes = review(ask(pod()), { mode: "default" });
    expect(yes.status).toBe(200);
    const r = (yes.body as any).response;
    expect(r.uid).toBe("u1");
    expect(r.allowed).toBe(true);
    expect(r.patchType).toBe("JSONPatch");
    expect(JSON.parse(Buffer.from(r.patch, "base64").toString())).toEqual(eniIpPatch(pod()));
    const no = (review(ask(pod({ hostNetwork: true })), { mode: "default" }).body as any).response;
    expect(no).toEqual({ uid: "u1", allowed: true });
    expect((review(ask(pod(), "UPDATE"), { mode: "default" }).body as any).response).toEqual({
      uid: "u1",
      allowed: true,
    });
    expect(review({ kind: "Nope" }, { mode: "default" }).status).toBe(400);
    expect(review(null, { mode: "default" }).status).toBe(400);
  });

  test("fixed IP placement: a pod whose claim holds an address is pinned to nodes of its subnet, its own constraints kept", () => {
    const want = { key: ENI_SUBNET_LABEL, operator: "In", values: ["subnet-a"] };
    const terms = (p: any) =>
      p.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
    // no affinity at all: one term
    const bare = applyPatch(pod(), placementPatch(pod(), "subnet-a") as any);
    expect(terms(bare)).toEqual([{ matchExpressions: [want] }]);
    // the pod's own terms (ORed) are each narrowed; other affinity stays
    const zone = { key: "topology.kubernetes.io/zone", operator: "In", values: ["z1"] };
    const own = pod({
      affinity: {
        podAntiAffinity: { x: 1 },
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1 }],
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [zone] }, { matchFields: [{ key: "metadata.name" }] }],
          },
        },
      },
    });
    const narrowed = applyPatch(own, placementPatch(own, "subnet-a") as any);
    expect(terms(narrowed)).toEqual([
      { matchExpressions: [zone, want] },
      { matchFields: [{ key: "metadata.name" }], matchExpressions: [want] },
    ]);
    expect(narrowed.spec.affinity.podAntiAffinity).toEqual({ x: 1 });
    expect(narrowed.spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution).toEqual([
      { weight: 1 },
    ]);
    // said already: nothing to do
    expect(placementPatch(narrowed, "subnet-a")).toEqual([]);
    // through review: with the claim's subnet, both patches; a hostNetwork pod gets neither
    const ask = (object: unknown) => ({
      kind: "AdmissionReview",
      request: { uid: "u", kind: { kind: "Pod" }, operation: "CREATE", namespace: "apps", object },
    });
    const r = (review(ask(pod()), { mode: "default" }, "subnet-a").body as any).response;
    const out = applyPatch(pod(), JSON.parse(Buffer.from(r.patch, "base64").toString()));
    expect(terms(out)).toEqual([{ matchExpressions: [want] }]);
    expect(out.spec.containers[0].resources.requests[ENI_IP_RESOURCE]).toBe("1");
    expect(
      (review(ask(pod({ hostNetwork: true })), { mode: "default" }, "subnet-a").body as any).response.patch,
    ).toBeUndefined();
    expect(createdPod(ask(pod()))).toEqual({ namespace: "apps", name: "p" });
    expect(createdPod(ask({ metadata: { generateName: "p-" }, spec: {} }))).toBeNull();
  });
});
