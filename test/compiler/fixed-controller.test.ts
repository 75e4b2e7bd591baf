// The controller's compiled RBAC in fixed IP mode (examples/policies/stateful.yaml) on a real API
// server: its roles are exactly controllerApiRequests("self-managed", "fixed"), what it must
// never do is refused, and fixed-IP passes (runtime/controller/fixed-pass.ts) run with the
// compiled ServiceAccount's token and the compiled policy's settings against the emulated cloud:
// a node bound, one that fits no subnet, a pod bound and deleted, a node removed. Every request
// the passes make is recorded: none is refused, and together they are the fixed-mode list
// (the webhook's claim read is made separately), so the list is neither short nor too wide.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { parse } from "yaml";
import { controllerApiRequests } from "../../compiler/controller.ts";
import { names } from "../../compiler/labels.ts";
import { readPolicyFile } from "../../runtime/agent/policy-file.ts";
import {
  FakeClock,
  NODE_SUBNET,
  startEmulatedVpc,
  testConfig,
  VPC,
  type EmulatedVpc,
} from "../../runtime/cloud/emulated-vpc-kit.ts";
import { FixedPass, type FixedSettings } from "../../runtime/controller/fixed-pass.ts";
import type { Claim } from "../../runtime/controller/fixed-state.ts";
import { reclaimFromPolicy } from "../../runtime/fixed/index.ts";
import { FixedKubeClient, type FixedKubePort } from "../../runtime/kube/fixed-client.ts";
import type { Cluster } from "../../sandbox/apiserver.ts";
import { installFixedIpCrds } from "../../sandbox/fixed-crds.ts";
import { kubeCall } from "../../sandbox/kube-api.ts";
import { type Kubeconfig, writeKubeconfig } from "../../sandbox/kubeconfig.ts";
import { DELETE_POLICY_ANNOTATION, ENI_SUBNET_LABEL, INSTANCE_ID_LABEL } from "../../schema/names.ts";
import { acquireSharedCluster, releaseSharedCluster } from "../harness/shared-apiserver-kit.ts";
import { allowed, compileExamples, kubectl, ownRules, serviceAccountToken, wave } from "./deploy-kit.ts";

const RUN = Date.now().toString(36).slice(-5);
const NS = `vpccni-fx-${RUN}`;
const PREFIX = `fxr-${RUN}-`;
const NODE = `${PREFIX}a`;
const BIG = `${PREFIX}big`;
const ZONE = "ap-guangzhou-3";
// stateful.yaml's one subnet; addresses of a /24 no other suite of the shared server uses
const SUBNET = "subnet-pods0003";
const config = testConfig({
  vpcs: [{ vpcId: VPC, cidrBlock: "10.0.0.0/8" }],
  subnets: [
    { subnetId: NODE_SUBNET, vpcId: VPC, cidrBlock: "10.76.0.0/24", zone: ZONE },
    { subnetId: SUBNET, vpcId: VPC, cidrBlock: "10.77.3.0/24", zone: ZONE },
  ],
  instanceTypes: { "S5.LARGE8": { eniQuota: 3, ipsPerEni: 11 }, "S5.HUGE": { eniQuota: 3, ipsPerEni: 400 } },
  instances: [
    { instanceId: "ins-fxr00001", instanceType: "S5.LARGE8", zone: ZONE, subnetId: NODE_SUBNET },
    { instanceId: "ins-fxrbig01", instanceType: "S5.HUGE", zone: ZONE, subnetId: NODE_SUBNET },
  ],
});
const quiet = { info() {}, warn() {} };
const key = (r: { verb: string; group: string; resource: string; subresource?: string; names?: string[] }) =>
  `${r.verb} ${r.group || "core"}/${r.resource}${r.subresource ? `/${r.subresource}` : ""}${r.names ? `[${r.names.join(",")}]` : ""}`;

/**
 * The controller's client with its own token, narrowed to this suite's objects (the shared
 * server holds other suites' Nodes, pods and fixed-IP objects), recording each request it makes.
 */
function recording(real: FixedKubePort, seen: Set<string>): FixedKubePort {
  const group = (plural: string) => ({ group: "vpccni.io", resource: plural });
  const mine: Record<string, (o: Claim) => boolean> = {
    vpcipclaims: (o) => o.metadata.namespace === NS,
    vpcips: (o) => (o.spec as unknown as { claim: { namespace: string } }).claim.namespace === NS,
    vpcenis: (o) => (o.spec as unknown as { node: string }).node.startsWith(PREFIX),
    nodeeniconfigs: (o) => o.metadata.name.startsWith(PREFIX),
  };
  return {
    async list(plural) {
      seen.add(key({ verb: "list", ...group(plural) }));
      return (await real.list(plural)).filter((o) => mine[plural]!(o as Claim)) as never;
    },
    async get(plural, name, namespace) {
      seen.add(key({ verb: "get", ...group(plural) }));
      return real.get(plural, name, namespace);
    },
    async create(plural, obj) {
      seen.add(key({ verb: "create", ...group(plural) }));
      return real.create(plural, obj);
    },
    async update(plural, obj) {
      seen.add(key({ verb: "update", ...group(plural) }));
      return real.update(plural, obj);
    },
    async updateStatus(plural, obj) {
      seen.add(key({ verb: "update", ...group(plural), subresource: "status" }));
      return real.updateStatus(plural, obj);
    },
    async remove(plural, name, namespace) {
      seen.add(key({ verb: "delete", ...group(plural) }));
      return real.remove(plural, name, namespace);
    },
    async pods() {
      seen.add("list core/pods");
      return (await real.pods()).filter((p) => p.namespace === NS);
    },
    async nodes() {
      seen.add("list core/nodes");
      return (await real.nodes()).filter((n) => n.name.startsWith(PREFIX));
    },
    async labelNode(node, k, value) {
      seen.add("patch core/nodes");
      return real.labelNode(node, k, value);
    },
    async event(object, type, reason, message) {
      seen.add("create core/events");
      return real.event(object, type, reason, message);
    },
  };
}

describe("the controller in fixed IP mode, with its compiled role, on a real API server", () => {
  let c: Cluster;
  let out: { dir: string; files: string[] };
  let sa: Kubeconfig;
  let kubeconfigPath: string;
  let vpc: EmulatedVpc;

  const admin = () => c.admin;
  const get = async <T>(path: string): Promise<T | null> => {
    const r = await kubeCall(admin(), "GET", path, { allow: [404] });
    return r.status === 404 ? null : (r.json as T);
  };

  beforeAll(async () => {
    c = await acquireSharedCluster();
    // as Flux and Argo CD do: the CRDs Established before the objects of wave 1
    await installFixedIpCrds(c.admin);
    out = await compileExamples(NS);
    const files = out.files.filter((f) => wave(out.dir, f) < 2).flatMap((f) => ["-f", join(out.dir, f)]);
    const r = await kubectl(c.admin, ["apply", "--server-side", "--field-manager=vpccni-test", ...files]);
    if (r.code !== 0) throw new Error(r.stderr);
    const token = await serviceAccountToken(c, NS, names.controller);
    sa = { ...c.admin, token: token.token, path: "" };
    kubeconfigPath = writeKubeconfig(join(c.dir, `controller-fixed-${NS}.kubeconfig`), {
      server: c.server,
      ca: c.admin.ca,
      token: token.token,
      user: "vpccni-controller",
    }).path;
    vpc = await startEmulatedVpc({ config, clock: new FakeClock() });
  }, 120_000);

  afterAll(async () => {
    for (const n of [NODE, BIG]) await kubeCall(c.admin, "DELETE", `/api/v1/nodes/${n}`, { allow: [404] });
    await vpc?.stop();
    await releaseSharedCluster();
  });

  test("the compiled output holds the four CRDs in wave 0 and a host-network controller", () => {
    expect(out.files.filter((f) => f.includes("customresourcedefinition")).map((f) => wave(out.dir, f))).toEqual([
      0, 0, 0, 0,
    ]);
    const deployment = parse(readFileSync(join(out.dir, "41-deployment-vpccni-controller.yaml"), "utf8"));
    expect(deployment.spec.template.spec.hostNetwork).toBe(true);
  });

  test("its rules are exactly controllerApiRequests('self-managed', 'fixed')", async () => {
    const want = controllerApiRequests("self-managed", "fixed").map(key).sort();
    expect(await ownRules(sa, NS)).toEqual(want);
  });

  test("what it must never do is refused", async () => {
    const denied = [
      { verb: "list", group: "", resource: "secrets" },
      { verb: "get", group: "", resource: "secrets", namespace: NS, name: "tencentcloud-credentials" },
      { verb: "delete", group: "", resource: "pods", namespace: "default", name: "p" },
      { verb: "create", group: "", resource: "pods", namespace: NS },
      { verb: "update", group: "", resource: "pods", namespace: "default", name: "p" },
      { verb: "delete", group: "", resource: "nodes", name: "n" },
      { verb: "update", group: "", resource: "nodes", name: "n" },
      { verb: "patch", group: "", resource: "nodes", subresource: "status", name: "n" },
      { verb: "update", group: "", resource: "events", namespace: "default", name: "e" },
      { verb: "delete", group: "", resource: "events", namespace: "default", name: "e" },
      { verb: "watch", group: "vpccni.io", resource: "vpcipclaims" },
      { verb: "patch", group: "vpccni.io", resource: "vpcipclaims", namespace: "default", name: "c" },
      {
        verb: "patch",
        group: "vpccni.io",
        resource: "vpcipclaims",
        subresource: "status",
        namespace: "default",
        name: "c",
      },
      { verb: "deletecollection", group: "vpccni.io", resource: "vpcipclaims", namespace: "default" },
      { verb: "get", group: "vpccni.io", resource: "vpcips", name: "10.0.0.1" },
      { verb: "update", group: "vpccni.io", resource: "vpcips", name: "10.0.0.1" },
      { verb: "update", group: "vpccni.io", resource: "vpcenis", name: "n" },
      { verb: "update", group: "vpccni.io", resource: "nodeeniconfigs", name: "n" },
      { verb: "get", group: "vpccni.io", resource: "nodeeniconfigs", name: "n" },
      {
        verb: "update",
        group: "apiextensions.k8s.io",
        resource: "customresourcedefinitions",
        name: "vpcips.vpccni.io",
      },
      { verb: "list", group: "apps", resource: "statefulsets" },
    ];
    for (const d of denied) expect({ ...d, allowed: await allowed(sa, d) }).toEqual({ ...d, allowed: false });
  });

  test("fixed-IP passes with that token and the compiled policy: every request allowed, together exactly the list", async () => {
    // the compiled policy as the controller's --policy reads it, settings as cli/commands/controller.ts makes them
    const configMap = parse(readFileSync(join(out.dir, "30-configmap-vpccni-policy-stateful.yaml"), "utf8"));
    const policyPath = join(out.dir, "stateful-policy.yaml");
    writeFileSync(policyPath, configMap.data["policy.yaml"]);
    const load = await readPolicyFile(policyPath);
    if (!load.ok) throw new Error(JSON.stringify(load));
    const spec = load.policy.spec;
    expect(spec.subnets).toEqual([SUBNET]);
    const settings: FixedSettings = {
      subnets: spec.subnets,
      reclaim: reclaimFromPolicy(spec.fixedIp?.reclaim ?? "Never"),
      cascade: spec.fixedIp?.cascade ?? false,
      mode: "default",
      nodeSelector: spec.nodeSelector,
    };
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    const seen = new Set<string>();
    const kube = recording(new FixedKubeClient(kc), seen);
    const pass = new FixedPass({ kube, api: vpc.api, settings: () => settings, now: Date.now, log: quiet });

    await kubeCall(admin(), "POST", "/api/v1/namespaces", { body: { metadata: { name: NS } }, allow: [409] });
    for (const [name, instance] of [
      [NODE, "ins-fxr00001"],
      [BIG, "ins-fxrbig01"],
    ] as const)
      await kubeCall(admin(), "POST", "/api/v1/nodes", {
        body: {
          apiVersion: "v1",
          kind: "Node",
          metadata: { name, labels: { ...spec.nodeSelector, [INSTANCE_ID_LABEL]: instance } },
        },
      });
    // a node bound (its ENI in the policy's subnet, the label set); one whose quota fits nowhere (an Event)
    await pass.run();
    const node = await get<k8s.V1Node>(`/api/v1/nodes/${NODE}`);
    expect(node?.metadata?.labels?.[ENI_SUBNET_LABEL]).toBe(SUBNET);
    const big = await get<{ status?: { message?: string } }>(`/apis/vpccni.io/v1alpha1/nodeeniconfigs/${BIG}`);
    expect(big?.status?.message).toContain("no pod subnet of that zone can hold its ENI IP quota of 399");

    // a pod bound to an address on the node's ENI
    await kubeCall(admin(), "POST", `/api/v1/namespaces/${NS}/pods`, {
      body: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "db-0", annotations: { [DELETE_POLICY_ANNOTATION]: "Immediate" } },
        spec: { nodeName: NODE, containers: [{ name: "c", image: "example.invalid/none" }] },
      },
    });
    await pass.run();
    const claim = await get<Claim>(`/apis/vpccni.io/v1alpha1/namespaces/${NS}/vpcipclaims/db-0`);
    expect(claim?.status?.phase).toBe("Bound");
    const address = claim?.status?.address as string;
    expect(address).toStartWith("10.77.3.");
    // the webhook's read (every replica): the claim of a pod it admits
    expect((await kube.get<Claim>("vpcipclaims", "db-0", NS))?.status?.subnet).toBe(SUBNET);

    // the pod deleted (Immediate): the address released, the claim's finalizer removed, the claim gone
    await kubeCall(admin(), "DELETE", `/api/v1/namespaces/${NS}/pods/db-0?gracePeriodSeconds=0`);
    for (let i = 0; i < 100 && (await get(`/api/v1/namespaces/${NS}/pods/db-0`)); i++) await Bun.sleep(50);
    await pass.run();
    expect(await get(`/apis/vpccni.io/v1alpha1/namespaces/${NS}/vpcipclaims/db-0`)).toBeNull();
    expect(await get(`/apis/vpccni.io/v1alpha1/vpcips/${address}`)).toBeNull();

    // the nodes leave: their ENI deleted in the cloud, then their objects
    for (const n of [NODE, BIG]) await kubeCall(admin(), "DELETE", `/api/v1/nodes/${n}`);
    await pass.run();
    expect(await get(`/apis/vpccni.io/v1alpha1/vpcenis/${NODE}`)).toBeNull();
    expect(await get(`/apis/vpccni.io/v1alpha1/nodeeniconfigs/${NODE}`)).toBeNull();

    const fixedOnly = controllerApiRequests("self-managed", "fixed").filter(
      (r) => !controllerApiRequests("self-managed").some((s) => key(s) === key(r)),
    );
    expect([...seen].sort()).toEqual([...fixedOnly.map(key), "list core/nodes"].sort());
  }, 60_000);
});
