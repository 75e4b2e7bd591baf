import { describe, expect, test } from "bun:test";
import {
  DEFAULT_CNI_VERSION,
  DELEGATE_CONFLIST,
  DELEGATE_DIR,
  POD_ANNOTATIONS_CAPABILITY,
  pluginTimeoutMs,
  PLUGIN_TIMEOUT_MARGIN_MS,
} from "./cni.ts";
import * as names from "./names.ts";
import { NETWORKS_ANNOTATION, optsIntoVpcCni } from "./names.ts";

describe("optsIntoVpcCni", () => {
  test("names tke-route-eni in any form multus reads, and nothing else", () => {
    const yes = ["tke-route-eni", " tke-route-eni ", "a,tke-route-eni", "ns/tke-route-eni", "tke-route-eni@eth1"];
    const no = ["", "tke-bridge", "tke-route-eni-x", "my-tke-route-eni", "[{", '[{"name":"other"}]', "null"];
    for (const v of yes) expect({ v, in: optsIntoVpcCni({ [NETWORKS_ANNOTATION]: v }) }).toEqual({ v, in: true });
    for (const v of no) expect({ v, in: optsIntoVpcCni({ [NETWORKS_ANNOTATION]: v }) }).toEqual({ v, in: false });
    expect(optsIntoVpcCni({ [NETWORKS_ANNOTATION]: '[{"name":"tke-route-eni","namespace":"kube-system"}]' })).toBe(
      true,
    );
    // the value is trimmed before its form is told apart; each name of a list is trimmed too
    expect(optsIntoVpcCni({ [NETWORKS_ANNOTATION]: ' [{"name":"tke-route-eni"}]' })).toBe(true);
    expect(optsIntoVpcCni({ [NETWORKS_ANNOTATION]: "a, tke-route-eni" })).toBe(true);
    // entries that are not objects name nothing, and do not hide the ones that do
    expect(optsIntoVpcCni({ [NETWORKS_ANNOTATION]: '[null, "x", {"name":"tke-route-eni"}]' })).toBe(true);
    expect(optsIntoVpcCni({})).toBe(false);
    expect(optsIntoVpcCni(undefined)).toBe(false);
  });
});

describe("names shared with TKE, Kubernetes, containerd and the cloud", () => {
  test("are spelt as those parts read them (a typo breaks clusters and tags already out there)", () => {
    expect({ ...names, optsIntoVpcCni: undefined }).toEqual({
      ENI_IP_RESOURCE: "tke.cloud.tencent.com/eni-ip",
      NETWORKS_ANNOTATION: "tke.cloud.tencent.com/networks",
      NETWORKS_VPC_CNI: "tke-route-eni",
      DRAINED_CONDITION: "VpccniDrained",
      ENI_IP_INJECTION_LABEL: "vpccni.io/eni-ip-injection",
      TAG_CLUSTER: "vpccni.io/cluster",
      TAG_NODE: "vpccni.io/node",
      TAG_CREATED_BY: "vpccni.io/created-by",
      TAG_CREATED_AT: "vpccni.io/created-at",
      DELETE_POLICY_ANNOTATION: "tke.cloud.tencent.com/vpc-ip-claim-delete-policy",
      CLAIM_EXPIRED_ANNOTATION: "tke.cloud.tencent.com/claim-expired-duration",
      NOMINATED_IP_ANNOTATION: "tke.cloud.tencent.com/nominated-vpc-ip",
      INSTANCE_ID_LABEL: "cloud.tencent.com/node-instance-id",
      ENI_SUBNET_LABEL: "vpccni.io/eni-subnet",
      CLAIM_FINALIZER: "vpccni.io/release-address",
      optsIntoVpcCni: undefined,
    });
    expect(POD_ANNOTATIONS_CAPABILITY).toBe("io.kubernetes.cri.pod-annotations");
    expect([DELEGATE_DIR, DELEGATE_CONFLIST]).toEqual(["vpccni", "delegate.conflist"]);
    expect(DEFAULT_CNI_VERSION).toBe("1.0.0");
  });
  test("the plugin waits longer than the agent, so that the agent's own answer reaches the runtime", () => {
    expect(pluginTimeoutMs(20_000)).toBe(20_000 + PLUGIN_TIMEOUT_MARGIN_MS);
    expect(pluginTimeoutMs()).toBeGreaterThan(20_000);
  });
});
