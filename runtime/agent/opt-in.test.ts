// Which pods are vpccni's in mixed mode: the decision on the pod's networks annotation as the
// container runtime passed it, and what happens when the runtime passed none.
import { describe, expect, test } from "bun:test";
import { decideOwner, ownerAnswers } from "./opt-in.ts";

const NETWORKS = "tke.cloud.tencent.com/networks";
const pod = (name: string, podAnnotations?: Record<string, string>) => ({
  podNamespace: "prod",
  podName: name,
  ...(podAnnotations ? { podAnnotations } : {}),
});

describe("decideOwner", () => {
  test("default mode: every pod is vpccni's, annotations or not", () => {
    expect(decideOwner("default", pod("web"))).toEqual({ owner: "vpccni", reason: "policy mode is default" });
    expect(decideOwner("default", pod("web", {}))).toEqual({ owner: "vpccni", reason: "policy mode is default" });
  });

  test("mixed mode: the networks annotation the runtime passed decides", () => {
    const cases: Record<string, Record<string, string>> = {
      vpc: { [NETWORKS]: "tke-route-eni" },
      multi: { [NETWORKS]: "macvlan-conf, kube-system/tke-route-eni@eth1" },
      json: { [NETWORKS]: '[{"name":"tke-route-eni","interface":"eth0"}]' },
      other: { [NETWORKS]: "tke-bridge" },
      plain: {},
    };
    const owners = Object.fromEntries(
      Object.entries(cases).map(([name, a]) => [name, decideOwner("mixed", pod(name, a)).owner]),
    );
    expect(owners).toEqual({ vpc: "vpccni", multi: "vpccni", json: "vpccni", other: "delegate", plain: "delegate" });
    expect(decideOwner("mixed", pod("vpc", cases.vpc))).toEqual({
      owner: "vpccni",
      reason: "pod prod/vpc has tke.cloud.tencent.com/networks: tke-route-eni",
    });
    expect(decideOwner("mixed", pod("plain", {}))).toEqual({
      owner: "delegate",
      reason: "pod prod/plain does not opt in (tke.cloud.tencent.com/networks)",
    });
  });

  test("a runtime that passed no annotations: the delegate's, flagged for a Warning (never an API read)", () => {
    expect(decideOwner("mixed", pod("web"))).toEqual({
      owner: "delegate",
      reason:
        'the container runtime passed no annotations of pod prod/web (runtimeConfig "io.kubernetes.cri.pod-annotations", which containerd passes from 1.5.0 on), so no pod can opt in to VPC-CNI on this node',
      runtimeWithoutAnnotations: true,
    });
  });
});

describe("ownerAnswers", () => {
  test("reads the mode at each call and warns only about a runtime without annotations", () => {
    let mode: "default" | "mixed" = "mixed";
    const warnings: string[] = [];
    const answer = ownerAnswers(
      () => mode,
      (m) => warnings.push(m),
    );
    const ref = { network: "vpccni", containerId: "c1", ifname: "eth0" };
    expect(answer({ ...ref, ...pod("vpc", { [NETWORKS]: "tke-route-eni" }) }).owner).toBe("vpccni");
    expect(answer({ ...ref, ...pod("plain", {}) }).owner).toBe("delegate");
    expect(warnings).toEqual([]);
    const none = answer({ ...ref, ...pod("web") });
    expect(none).not.toHaveProperty("runtimeWithoutAnnotations");
    expect(warnings).toEqual([none.reason]);
    mode = "default";
    expect(answer({ ...ref, ...pod("web") }).owner).toBe("vpccni");
    expect(warnings).toHaveLength(1);
  });
});
