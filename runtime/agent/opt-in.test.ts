// Which pods are vpccni's in mixed mode: the decision on the pod's networks annotation, the
// cache that spares the API server a runtime's retries, and the failures that must not guess.
import { describe, expect, test } from "bun:test";
import type { KubePort } from "../kube/client.ts";
import { PodOptIn } from "./opt-in.ts";

function kube(pods: Record<string, Record<string, string> | null>, fail = false) {
  const reads: string[] = [];
  const port = {
    podAnnotations: async (namespace: string, name: string) => {
      reads.push(`${namespace}/${name}`);
      if (fail) throw new Error("connect ECONNREFUSED 10.96.0.1:443");
      return pods[`${namespace}/${name}`] ?? null;
    },
  } as unknown as KubePort;
  return { port, reads };
}

const NETWORKS = "tke.cloud.tencent.com/networks";

describe("PodOptIn", () => {
  test("default mode: every pod is vpccni's, and the API server is not asked", async () => {
    const k = kube({});
    const optIn = new PodOptIn({ kube: k.port, mode: () => "default" });
    expect(await optIn.decide("default", "web")).toEqual({ owner: "vpccni", reason: "policy mode is default" });
    expect(k.reads).toEqual([]);
  });

  test("mixed mode: the networks annotation decides; a pod without it, or gone, is the delegate's", async () => {
    const k = kube({
      "prod/vpc": { [NETWORKS]: "tke-route-eni" },
      "prod/multi": { [NETWORKS]: "macvlan-conf, kube-system/tke-route-eni@eth1" },
      "prod/json": { [NETWORKS]: '[{"name":"tke-route-eni","interface":"eth0"}]' },
      "prod/other": { [NETWORKS]: "tke-bridge" },
      "prod/plain": {},
    });
    const optIn = new PodOptIn({ kube: k.port, mode: () => "mixed" });
    const owners: Record<string, string> = {};
    for (const name of ["vpc", "multi", "json", "other", "plain", "gone"])
      owners[name] = (await optIn.decide("prod", name)).owner;
    expect(owners).toEqual({
      vpc: "vpccni",
      multi: "vpccni",
      json: "vpccni",
      other: "delegate",
      plain: "delegate",
      gone: "delegate",
    });
    expect((await optIn.decide("prod", "vpc")).reason).toBe(
      "pod prod/vpc has tke.cloud.tencent.com/networks: tke-route-eni",
    );
    expect(await optIn.decide(undefined, undefined)).toEqual({
      owner: "delegate",
      reason: "CNI_ARGS names no pod (K8S_POD_NAMESPACE/K8S_POD_NAME)",
    });
  });

  test("a runtime's retry within seconds is answered from the cache; later the pod is read again", async () => {
    let now = 1_000_000;
    const k = kube({ "a/p": { [NETWORKS]: "tke-route-eni" } });
    const optIn = new PodOptIn({ kube: k.port, mode: () => "mixed", now: () => now });
    await optIn.decide("a", "p");
    now += 4_000;
    await optIn.decide("a", "p");
    expect(k.reads).toEqual(["a/p"]);
    now += 2_000;
    await optIn.decide("a", "p");
    expect(k.reads).toEqual(["a/p", "a/p"]);
  });

  test("the API server unreachable is try again later (11), never a guess; no Kubernetes at all is the agent's failure", async () => {
    const optIn = new PodOptIn({ kube: kube({}, true).port, mode: () => "mixed" });
    await expect(optIn.decide("a", "p")).rejects.toMatchObject({
      code: 11,
      message:
        "cannot read pod a/p from the API server to see whether it opted in to VPC-CNI: connect ECONNREFUSED 10.96.0.1:443",
    });
    const noKube = new PodOptIn({ kube: null, mode: () => "mixed" });
    await expect(noKube.decide("a", "p")).rejects.toMatchObject({ code: 102 });
  });
});
