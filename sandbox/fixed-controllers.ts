// Fixed IP mode's cluster side on real parts, for the e2e suites and the chaos run: the CRDs,
// the suite's namespace and the MutatingWebhookConfiguration the controllers keep a caBundle
// on, and `vpccni controller` processes electing a leader on a Lease of the real
// kube-apiserver, with the cloud emulator behind the real SDK. Pods go into the API server bound to a node (as the scheduler does),
// then through the node's CNI plugin.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { EmulatedCluster, EmulatedNode } from "./emulated-cluster.ts";
import { installFixedIpCrds } from "./fixed-crds.ts";
import { kubeCall } from "./kube-api.ts";
import type { Kubeconfig } from "./kubeconfig.ts";
import { type ManagedProcess, spawnManaged } from "./process.ts";

export const GROUP = "/apis/vpccni.io/v1alpha1";
const ROOT = join(import.meta.dir, "..");

export interface FixedControllersOptions {
  /** The controllers' namespace (their Lease and webhook Secret). */
  namespace: string;
  /** The MutatingWebhookConfiguration whose caBundle they set. */
  webhook: string;
  /** --fixed-interval: the watches start passes; the tick is the safety net (default 30s). */
  interval?: string;
}

export interface ClaimJson {
  status?: { phase?: string; address?: string; node?: string; eniId?: string; pending?: unknown };
}

export class FixedControllers {
  readonly controllers = new Map<string, ManagedProcess>();
  /** Pods this suite created in the API server (namespace default), deleted at the end. */
  readonly apiPods: string[] = [];
  world: EmulatedCluster | undefined;

  constructor(
    readonly opts: FixedControllersOptions,
    private readonly admin: () => Kubeconfig,
  ) {}

  /** CRDs, the namespace, and a webhook configuration that matches no namespace of the test. */
  async setUp(): Promise<void> {
    const admin = this.admin();
    await installFixedIpCrds(admin);
    await kubeCall(admin, "POST", "/api/v1/namespaces", { body: { metadata: { name: this.opts.namespace } } });
    // the controllers keep this configuration's caBundle; it matches no namespace, so it never
    // calls a webhook of this test (the suite's pods are not admitted through it)
    await kubeCall(admin, "POST", "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations", {
      body: {
        metadata: { name: this.opts.webhook },
        webhooks: [
          {
            name: "eni-ip.vpccni.io",
            admissionReviewVersions: ["v1"],
            sideEffects: "None",
            failurePolicy: "Ignore",
            clientConfig: { service: { name: "vpccni-webhook", namespace: this.opts.namespace, path: "/mutate-pods" } },
            namespaceSelector: { matchLabels: { "vpccni-test/never": "true" } },
            rules: [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"] }],
          },
        ],
      },
    });
  }

  /** Stops the controllers, deletes the suite's pods, webhook configuration and namespace. */
  async tearDown(admin: Kubeconfig | undefined): Promise<void> {
    for (const c of this.controllers.values()) await c.stop(5_000).catch(() => {});
    if (!admin) return;
    for (const name of this.apiPods)
      await kubeCall(admin, "DELETE", `/api/v1/namespaces/default/pods/${name}?gracePeriodSeconds=0`, {
        allow: [404],
      }).catch(() => {});
    await kubeCall(
      admin,
      "DELETE",
      `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${this.opts.webhook}`,
      { allow: [404] },
    ).catch(() => {});
    await kubeCall(admin, "DELETE", `/api/v1/namespaces/${this.opts.namespace}`, { allow: [404] }).catch(() => {});
  }

  private get w(): EmulatedCluster {
    if (!this.world)
      throw new Error("FixedControllers.world is not set: assign the EmulatedCluster before starting controllers");
    return this.world;
  }

  /**
   * A `vpccni controller` process (a replica of the Deployment) with the policy file of
   * `policyFrom` (default: the first node's), the CVM role's credentials from the emulated
   * metadata service. The controller reads the policy at start only.
   */
  startController(identity: string, policyFrom?: EmulatedNode): ManagedProcess {
    const world = this.w;
    const n = policyFrom ?? (world.nodes[0] as EmulatedNode);
    const proc = spawnManaged(
      `controller-${identity}`,
      [
        process.execPath,
        join(ROOT, "cli/main.ts"),
        "controller",
        "--namespace",
        this.opts.namespace,
        "--identity",
        identity,
        "--policy",
        n.policyFile,
        "--kubeconfig",
        this.admin().path,
        "--endpoint",
        `http://${world.emulator.endpoint}`,
        "--metadata-url",
        world.emulator.metadataUrl(n.instanceId),
        "--listen",
        "127.0.0.1:0",
        "--health-listen",
        "off",
        "--webhook-configuration",
        this.opts.webhook,
        "--fixed-interval",
        this.opts.interval ?? "30s",
        "--log-level",
        "debug",
      ],
      {
        log: join(world.dir, `controller-${identity}.log`),
        env: { TENCENTCLOUD_SECRET_ID: "", TENCENTCLOUD_SECRET_KEY: "", NODE_EXTRA_CA_CERTS: "" },
      },
    );
    this.controllers.set(identity, proc);
    return proc;
  }

  /** SIGTERM (a Deployment's rollout) or SIGKILL (kill -9 of the process group). */
  async stopController(identity: string, signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
    const proc = this.controllers.get(identity);
    if (!proc) return;
    this.controllers.delete(identity);
    if (signal === "SIGKILL") process.kill(-proc.pgid, "SIGKILL");
    else await proc.stop(10_000);
    await proc.exited;
  }

  /** The last lines of a controller's log, for failure messages. */
  controllerLog(identity: string, lines = 30): string {
    const file = join(this.w.dir, `controller-${identity}.log`);
    return existsSync(file) ? readFileSync(file, "utf8").split("\n").slice(-lines).join("\n") : "(no log)";
  }

  /** The Lease holder ("" while none). */
  async leader(): Promise<string> {
    const r = await kubeCall(
      this.admin(),
      "GET",
      `/apis/coordination.k8s.io/v1/namespaces/${this.opts.namespace}/leases/vpccni-controller`,
      { allow: [404] },
    );
    return r.status === 404 ? "" : (r.json.spec?.holderIdentity ?? "");
  }

  async claim(name: string, namespace = "default"): Promise<ClaimJson | null> {
    const r = await kubeCall(this.admin(), "GET", `${GROUP}/namespaces/${namespace}/vpcipclaims/${name}`, {
      allow: [404],
    });
    return r.status === 404 ? null : r.json;
  }

  /** The node's NodeENIConfig, or null. */
  async nodeEniConfig(node: EmulatedNode): Promise<{ status?: { eniId?: string } } | null> {
    const r = await kubeCall(this.admin(), "GET", `${GROUP}/nodeeniconfigs/${node.name}`, { allow: [404] });
    return r.status === 404 ? null : r.json;
  }

  /** The pod in the API server (bound to the node, as the scheduler does), then wired by the plugin. */
  async addPod(n: EmulatedNode, name: string, annotations: Record<string, string> = {}) {
    await this.apiPod(n, name, annotations);
    return n.addPod(name);
  }

  /** Only the pod object (for an ADD the test drives itself). */
  async apiPod(n: EmulatedNode, name: string, annotations: Record<string, string> = {}): Promise<void> {
    await kubeCall(this.admin(), "POST", "/api/v1/namespaces/default/pods", {
      body: {
        metadata: { name, annotations },
        spec: { nodeName: n.name, containers: [{ name: "c", image: "example.invalid/none" }] },
      },
    });
    this.apiPods.push(name);
  }

  /** The pod's DEL, then its object (as the kubelet does at the end of a graceful delete). */
  async removePod(n: EmulatedNode, name: string): Promise<void> {
    await n.delPod(name);
    await this.deletePodObject(name);
  }

  async deletePodObject(name: string): Promise<void> {
    await kubeCall(this.admin(), "DELETE", `/api/v1/namespaces/default/pods/${name}?gracePeriodSeconds=0`, {
      allow: [404],
    });
  }
}
