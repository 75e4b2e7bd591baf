// Fixed IP mode end to end, every part real: two `vpccni controller` processes electing a leader
// on a Lease of a real kube-apiserver, the cloud emulator through the real SDK, a `vpccni agent`
// per netns node, pods wired by the compiled CNI binary through cnitool. A StatefulSet-style
// delete and re-create keeps the pod's address across nodes, and packets reach it there; the
// leader killed with -9 in the middle of assigning addresses loses and duplicates nothing: the
// standby takes over within 15 s, replays the journal, and every pod gets a distinct address
// that the cloud holds on the node's ENI.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { EmulatedCluster, type EmulatedNode, waitFor } from "../../sandbox/emulated-cluster.ts";
import { installFixedIpCrds } from "../../sandbox/fixed-crds.ts";
import { kubeCall } from "../../sandbox/kube-api.ts";
import { type ManagedProcess, spawnManaged } from "../../sandbox/process.ts";
import { LAYOUT } from "../../sandbox/emulated-cloud.ts";
import { useSharedCluster } from "../harness/shared-apiserver-kit.ts";

const RUN = Date.now().toString(36).slice(-5);
const NS = `fixed-ctl-${RUN}`;
const SUITE = { "vpccni-test/suite": `fixed-${RUN}` };
const GROUP = "/apis/vpccni.io/v1alpha1";
const WEBHOOK = `vpccni-eni-ip-${RUN}`;
const ROOT = join(import.meta.dir, "..", "..");

interface ClaimJson {
  status?: { phase?: string; address?: string; node?: string; eniId?: string; pending?: unknown };
}

describe("fixed IP mode: controllers, agents and the CNI plugin on real parts", () => {
  // registered before the shared cluster's own afterAll, so that it runs while the cluster is up
  afterAll(async () => {
    for (const c of controllers.values()) await c.stop(5_000).catch(() => {});
    const kc = world?.cluster?.admin;
    if (kc) {
      for (const name of apiPods)
        await kubeCall(kc, "DELETE", `/api/v1/namespaces/default/pods/${name}?gracePeriodSeconds=0`, {
          allow: [404],
        }).catch(() => {});
      await kubeCall(kc, "DELETE", `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${WEBHOOK}`, {
        allow: [404],
      }).catch(() => {});
      await kubeCall(kc, "DELETE", `/api/v1/namespaces/${NS}`, { allow: [404] }).catch(() => {});
    }
    await world?.stop();
  }, 60_000);
  const cluster = useSharedCluster();
  let world: EmulatedCluster;
  const controllers = new Map<string, ManagedProcess>();
  const apiPods: string[] = [];
  const admin = () => cluster().admin;
  const node = (i: number) => world.nodes[i] as EmulatedNode;
  const claim = async (name: string): Promise<ClaimJson | null> => {
    const r = await kubeCall(admin(), "GET", `${GROUP}/namespaces/default/vpcipclaims/${name}`, { allow: [404] });
    return r.status === 404 ? null : r.json;
  };
  const podName = (base: string) => `${base}-${RUN}`;

  const startController = (identity: string) => {
    const n = node(0);
    const proc = spawnManaged(
      `controller-${identity}`,
      [
        process.execPath,
        join(ROOT, "cli/main.ts"),
        "controller",
        "--namespace",
        NS,
        "--identity",
        identity,
        "--policy",
        n.policyFile,
        "--kubeconfig",
        admin().path,
        "--endpoint",
        `http://${world.emulator.endpoint}`,
        // the CVM role's credentials from the (emulated) metadata service
        "--metadata-url",
        world.emulator.metadataUrl(n.instanceId),
        "--listen",
        "127.0.0.1:0",
        "--health-listen",
        "off",
        "--webhook-configuration",
        WEBHOOK,
        "--fixed-interval",
        "30s", // the watches start passes; the tick is the safety net
        "--log-level",
        "debug",
      ],
      {
        log: join(world.dir, `controller-${identity}.log`),
        env: { TENCENTCLOUD_SECRET_ID: "", TENCENTCLOUD_SECRET_KEY: "", NODE_EXTRA_CA_CERTS: "" },
      },
    );
    controllers.set(identity, proc);
    return proc;
  };
  const controllerLog = (identity: string) => {
    const file = join(world.dir, `controller-${identity}.log`);
    return existsSync(file) ? readFileSync(file, "utf8").split("\n").slice(-30).join("\n") : "(no log)";
  };
  const leader = async (): Promise<string> => {
    const r = await kubeCall(admin(), "GET", `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/vpccni-controller`, {
      allow: [404],
    });
    return r.status === 404 ? "" : (r.json.spec?.holderIdentity ?? "");
  };

  /** The pod in the API server (bound to the node, as the scheduler does), then wired by the plugin. */
  const addPod = async (n: EmulatedNode, name: string, annotations: Record<string, string> = {}) => {
    await kubeCall(admin(), "POST", "/api/v1/namespaces/default/pods", {
      body: {
        metadata: { name, annotations },
        spec: { nodeName: n.name, containers: [{ name: "c", image: "example.invalid/none" }] },
      },
    });
    apiPods.push(name);
    return n.addPod(name);
  };
  const removePod = async (n: EmulatedNode, name: string) => {
    await n.delPod(name);
    await kubeCall(admin(), "DELETE", `/api/v1/namespaces/default/pods/${name}?gracePeriodSeconds=0`, {
      allow: [404],
    });
  };
  const ping = async (from: EmulatedNode, pod: string, to: string) => {
    const src = from.pods.get(pod);
    if (!src) throw new Error(`no pod ${pod} on ${from.name}`);
    const r = await world.bed.exec(src.pod.ns, ["ping", "-n", "-q", "-c", "1", "-W", "2", to]);
    expect(r.code, `${src.ip} -> ${to}: ${r.stdout}${r.stderr}`).toBe(0);
  };

  beforeAll(async () => {
    await installFixedIpCrds(admin());
    await kubeCall(admin(), "POST", "/api/v1/namespaces", { body: { metadata: { name: NS } } });
    // the controllers keep this configuration's caBundle; it matches no namespace, so it never
    // calls a webhook of this test (the suite's pods are not admitted through it)
    await kubeCall(admin(), "POST", "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations", {
      body: {
        metadata: { name: WEBHOOK },
        webhooks: [
          {
            name: "eni-ip.vpccni.io",
            admissionReviewVersions: ["v1"],
            sideEffects: "None",
            failurePolicy: "Ignore",
            clientConfig: { service: { name: "vpccni-webhook", namespace: NS, path: "/mutate-pods" } },
            namespaceSelector: { matchLabels: { "vpccni-test/never": "true" } },
            rules: [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"] }],
          },
        ],
      },
    });
    world = await EmulatedCluster.start({
      nodes: 2,
      cluster: cluster(),
      nodePrefix: `fxm${RUN}-`,
      nodeLabels: SUITE,
      // one subnet: both node ENIs in it, so an address may move between them
      spec: {
        ipMode: "fixed",
        subnets: [LAYOUT.podSubnets[0]],
        fixedIp: { reclaim: "Never" },
        nodeSelector: SUITE,
      },
      // the ADD waits for the controller: long enough for a standby to take over
      agentArgs: ["--add-timeout", "40s"],
    });
    startController("ctl-a");
    await waitFor("ctl-a to lead", async () => (await leader()) === "ctl-a", 30_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${controllerLog("ctl-a")}`);
    });
    startController("ctl-b");
    await Promise.all(world.nodes.map((n) => n.startAgent()));
    await waitFor(
      "both node ENIs bound",
      async () => {
        const got = await Promise.all(
          world.nodes.map((n) => kubeCall(admin(), "GET", `${GROUP}/nodeeniconfigs/${n.name}`, { allow: [404] })),
        );
        return got.every((r) => r.status === 200 && r.json.status?.eniId);
      },
      60_000,
    );
  }, 180_000);

  test("a StatefulSet pod deleted and created again on another node keeps its address, and is reachable there", async () => {
    const web0 = podName("web-0");
    const web1 = podName("web-1");
    const first = await addPod(node(0), web0);
    const other = await addPod(node(1), web1);
    expect(first.ip).not.toBe(other.ip);
    expect((await claim(web0))?.status?.address).toBe(first.ip);
    await ping(node(1), web1, first.ip);
    await ping(node(0), web0, other.ip);
    // the pod goes (DEL, then the object), and comes back with the same name on node 2
    await removePod(node(0), web0);
    await waitFor("the claim kept", async () => (await claim(web0))?.status?.phase === "Kept");
    const again = await addPod(node(1), web0);
    expect(again.ip).toBe(first.ip);
    const moved = await claim(web0);
    expect([moved?.status?.phase, moved?.status?.node]).toEqual(["Bound", node(1).name]);
    // the cloud moved it: on node 2's ENI, no longer on node 1's
    expect((await node(1).cloud()).ips).toContain(first.ip);
    expect((await node(0).cloud()).ips).not.toContain(first.ip);
    // packets reach it on its new node, from a pod on the old one
    const probe = podName("probe-0");
    await addPod(node(0), probe);
    await ping(node(0), probe, first.ip);
  });

  test("kill -9 of the leader while it assigns: the standby takes over within 15 s, every pod gets a distinct address, nothing leaks", async () => {
    const before = await leader();
    const standby = before === "ctl-a" ? "ctl-b" : "ctl-a";
    const names = Array.from({ length: 8 }, (_, i) => podName(`burst-${i}`));
    // the ADDs wait for their claims; the leader dies in the middle of serving them
    const adds = names.map((name, i) => addPod(node(i % 2), name));
    await waitFor(
      "the leader to have started on the burst",
      async () => (await Promise.all(names.map(claim))).some((c) => c?.status?.address !== undefined),
      30_000,
    );
    const killedAt = Date.now();
    process.kill(-(controllers.get(before) as ManagedProcess).pgid, "SIGKILL");
    await waitFor("the standby to lead", async () => (await leader()) === standby, 20_000);
    const takeover = Date.now() - killedAt;
    expect(takeover).toBeLessThanOrEqual(15_000);
    const wired = await Promise.all(adds);
    const ips = wired.map((w) => w.ip);
    expect(new Set(ips).size).toBe(names.length);
    const claims = await Promise.all(names.map(claim));
    expect(claims.map((c) => c?.status?.address)).toEqual(ips);
    expect(claims.every((c) => c?.status?.phase === "Bound" && c.status.pending === undefined)).toBe(true);
    // the cloud: each address once, on the ENI of the node its pod runs on; no other ENI made
    const [cloud0, cloud1] = [await node(0).cloud(), await node(1).cloud()];
    for (const [i, ip] of ips.entries()) expect((i % 2 ? cloud1 : cloud0).ips).toContain(ip);
    const all = [...cloud0.ips, ...cloud1.ips];
    expect(all.length).toBe(new Set(all).size);
    expect([cloud0.enis.length, cloud1.enis.length]).toEqual([1, 1]);
    expect([...cloud0.unattachedTagged, ...cloud1.unattachedTagged]).toEqual([]);
    // a packet to one of them
    await ping(node(0), podName("burst-0"), ips[1] as string);
  });
});
