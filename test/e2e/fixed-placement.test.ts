// Fixed IP placement with a real kube-scheduler: a pod whose claim keeps an address of one subnet
// is placed only on a node whose ENI is in that subnet. The controller (its passes, against the
// emulated cloud through the real SDK) binds the node ENIs and labels the Nodes; the webhook's
// answer (review(), with the claim's subnet looked up as `vpccni controller` does) is applied to
// the pod as the API server applies a mutating webhook's patch; kube-scheduler does the rest.
// The control: the same pod without the rule goes to the node the scheduler prefers, elsewhere.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as k8s from "@kubernetes/client-node";
import {
  FakeClock,
  NODE_SUBNET,
  startEmulatedVpc,
  testConfig,
  VPC,
  type EmulatedVpc,
} from "../../runtime/cloud/emulated-vpc-kit.ts";
import { FixedPass } from "../../runtime/controller/fixed-pass.ts";
import type { Claim } from "../../runtime/controller/fixed-state.ts";
import { review } from "../../runtime/controller/webhook.ts";
import { FixedKubeClient } from "../../runtime/kube/fixed-client.ts";
import { startCluster, type Cluster } from "../../sandbox/apiserver.ts";
import { installFixedIpCrds } from "../../sandbox/fixed-crds.ts";
import { kubeCall } from "../../sandbox/kube-api.ts";
import { DELETE_POLICY_ANNOTATION, ENI_IP_RESOURCE, ENI_SUBNET_LABEL, INSTANCE_ID_LABEL } from "../../schema/names.ts";

const ZONE = "ap-guangzhou-3";
const SA = "subnet-pla00001";
const SB = "subnet-plb00001";
const NS = "placement";
const log = { info: () => {}, warn: () => {}, debug: () => {} };

describe("fixed IP placement with a real kube-scheduler", () => {
  let cluster: Cluster;
  let vpc: EmulatedVpc;
  let kube: FixedKubeClient;
  let pass: FixedPass;
  const subnetOf = new Map<string, string>();

  const admin = () => cluster.admin;
  const claimSubnet = async (name: string) => (await kube.get<Claim>("vpcipclaims", name, NS))?.status?.subnet ?? null;

  /** A pod as the API server stores it after the webhook: the patch applied. */
  const createThroughWebhook = async (name: string, withRule: boolean) => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: NS, annotations: { [DELETE_POLICY_ANNOTATION]: "Never" } },
      spec: { containers: [{ name: "c", image: "example.invalid/none", resources: { requests: { cpu: "100m" } } }] },
    };
    const ask = {
      kind: "AdmissionReview",
      request: { uid: name, kind: { kind: "Pod" }, operation: "CREATE", namespace: NS, object: pod },
    };
    const answer = (review(ask, { mode: "default" }, withRule ? await claimSubnet(name) : null).body as any).response;
    const ops: { op: string; path: string; value: unknown }[] = JSON.parse(
      Buffer.from(answer.patch, "base64").toString(),
    );
    const body = structuredClone(pod) as any;
    for (const op of ops) {
      const keys = op.path.split("/").slice(1);
      let at = body;
      for (const k of keys.slice(0, -1)) at = at[k.replaceAll("~1", "/")];
      at[keys.at(-1)!.replaceAll("~1", "/")] = op.value;
    }
    await kubeCall(admin(), "POST", `/api/v1/namespaces/${NS}/pods`, { body });
  };
  const scheduledNode = async (name: string): Promise<string> => {
    for (let i = 0; i < 300; i++) {
      const p = await kubeCall(admin(), "GET", `/api/v1/namespaces/${NS}/pods/${name}`);
      if (p.json.spec.nodeName) return p.json.spec.nodeName;
      await Bun.sleep(100);
    }
    throw new Error(`${name} was not scheduled in 30 s`);
  };
  const deletePod = async (name: string) => {
    await kubeCall(admin(), "DELETE", `/api/v1/namespaces/${NS}/pods/${name}?gracePeriodSeconds=0`, { allow: [404] });
    for (let i = 0; i < 100; i++) {
      if ((await kubeCall(admin(), "GET", `/api/v1/namespaces/${NS}/pods/${name}`, { allow: [404] })).status === 404)
        return;
      await Bun.sleep(50);
    }
  };

  beforeAll(async () => {
    cluster = await startCluster({ controlPlane: true });
    await installFixedIpCrds(admin());
    const instances = ["ins-pl000001", "ins-pl000002", "ins-pl000003"];
    vpc = await startEmulatedVpc({
      clock: new FakeClock(),
      config: testConfig({
        subnets: [
          { subnetId: NODE_SUBNET, vpcId: VPC, cidrBlock: "10.2.0.0/24", zone: ZONE },
          { subnetId: SA, vpcId: VPC, cidrBlock: "10.2.40.0/24", zone: ZONE },
          { subnetId: SB, vpcId: VPC, cidrBlock: "10.2.41.0/24", zone: ZONE },
        ],
        instanceTypes: { "S5.LARGE8": { eniQuota: 3, ipsPerEni: 11 } },
        instances: instances.map((instanceId) => ({
          instanceId,
          instanceType: "S5.LARGE8",
          zone: ZONE,
          subnetId: NODE_SUBNET,
        })),
      }),
    });
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(admin().path);
    kube = new FixedKubeClient(kc);
    pass = new FixedPass({
      kube,
      api: vpc.api,
      settings: () => ({
        subnets: [SA, SB],
        reclaim: { kind: "Never" },
        cascade: false,
        mode: "default",
        nodeSelector: {},
      }),
      now: Date.now,
      log,
    });
    await kubeCall(admin(), "POST", "/api/v1/namespaces", { body: { metadata: { name: NS } } });
    for (const [i, instance] of instances.entries()) {
      const name = `pl-${i + 1}`;
      await kubeCall(admin(), "POST", "/api/v1/nodes", {
        body: { metadata: { name, labels: { [INSTANCE_ID_LABEL]: instance, "kubernetes.io/hostname": name } } },
      });
      // ready and roomy, as a kubelet would report; the scheduler prefers the least loaded
      const now = new Date().toISOString();
      const cpu = i === 0 ? "64" : "2";
      const resources = { cpu, memory: "64Gi", pods: "110", [ENI_IP_RESOURCE]: "10" };
      await kubeCall(admin(), "PATCH", `/api/v1/nodes/${name}/status`, {
        contentType: "application/merge-patch+json",
        body: {
          status: {
            capacity: resources,
            allocatable: resources,
            conditions: [
              {
                type: "Ready",
                status: "True",
                reason: "KubeletReady",
                message: "test",
                lastHeartbeatTime: now,
                lastTransitionTime: now,
              },
            ],
          },
        },
      });
    }
    // ENIs alternate between the subnets by room: pl-1 and pl-3 in one, pl-2 in the other
    await pass.run();
    for (const n of ["pl-1", "pl-2", "pl-3"]) {
      const node = await kubeCall(admin(), "GET", `/api/v1/nodes/${n}`);
      subnetOf.set(n, node.json.metadata.labels[ENI_SUBNET_LABEL]);
    }
  }, 180_000);

  afterAll(async () => {
    await vpc?.stop();
    await cluster?.stop();
  });

  test("the nodes carry their ENI's subnet; the scheduler's favourite (pl-1) is in the other subnet than pl-2", () => {
    expect(subnetOf.get("pl-1")).toBe(SA);
    expect(subnetOf.get("pl-2")).toBe(SB);
    expect(subnetOf.get("pl-3")).toBe(SA);
  });

  test("a pod whose kept address is in pl-2's subnet is placed on pl-2, and gets that address there", async () => {
    // db-0 first ran on pl-2 and kept its address (Never) when it went
    await kubeCall(admin(), "POST", `/api/v1/namespaces/${NS}/pods`, {
      body: {
        metadata: { name: "db-0", annotations: { [DELETE_POLICY_ANNOTATION]: "Never" } },
        spec: { nodeName: "pl-2", containers: [{ name: "c", image: "example.invalid/none" }] },
      },
    });
    await pass.run();
    const first = await kube.get<Claim>("vpcipclaims", "db-0", NS);
    expect(first?.status?.subnet).toBe(SB);
    await deletePod("db-0");
    await pass.run();
    expect((await kube.get<Claim>("vpcipclaims", "db-0", NS))?.status?.phase).toBe("Kept");

    // the control: without the rule the scheduler puts a new pod on its favourite, pl-1
    await createThroughWebhook("control-0", false);
    expect(await scheduledNode("control-0")).toBe("pl-1");

    // with the rule: only a node of the kept address's subnet
    for (let round = 0; round < 3; round++) {
      await createThroughWebhook("db-0", true);
      expect(await scheduledNode("db-0")).toBe("pl-2");
      await pass.run();
      const bound = await kube.get<Claim>("vpcipclaims", "db-0", NS);
      expect([bound?.status?.phase, bound?.status?.node, bound?.status?.address]).toEqual([
        "Bound",
        "pl-2",
        first?.status?.address,
      ]);
      await deletePod("db-0");
      await pass.run();
    }
  });
});
