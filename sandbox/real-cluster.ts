// A whole cluster on real parts, as a platform team runs vpccni: a control plane (etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler), the emulated cloud, and one
// containerd + kubelet node per emulated instance (sandbox/kubelet.ts). A policy is compiled
// with the locally built image and the emulator as its cloud endpoint, and the output applied as
// Flux applies it; kubelet then runs the DaemonSet from the image. Used by test/kubelet,
// bench/pod-start.ts and `vpccni demo` when kubelet is built.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { compileToDir } from "../compiler/index.ts";
import { type Cluster, startCluster } from "./apiserver.ts";
import { EmulatedCluster, type EmulatedClusterOptions } from "./emulated-cluster.ts";
import { policyYaml, waitFor } from "./emulated-cloud.ts";
import { fluxApply } from "./flux-apply.ts";
import { makeTempDir } from "./janitor.ts";
import { paths } from "./paths.ts";
import { kubeCall } from "./kube-api.ts";
import { type KubeletNode, NODE_CNI_BIN_DIR, NODE_CNI_CONF_DIR, startKubeletNode } from "./kubelet.ts";

const ROOT = resolve(import.meta.dir, "..");
const VERSION = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;
/** scripts/build-image.sh's output; its image name is the compiler's default image. */
export const IMAGE_ARCHIVE = join(ROOT, "dist", "image", `vpccni-${VERSION}.oci.tar`);
/** The namespace the compiler puts the agents in by default. */
export const AGENT_NAMESPACE = "vpccni-system";

export interface RealClusterOptions {
  nodes?: number;
  /** The policy's name (default "real"). */
  policy?: string;
  /** Spec fields of the policy besides clusterId, region, VPC, subnets and the cloud endpoint. */
  spec?: Record<string, unknown>;
  /** Labels every node gets (match them with the policy's nodeSelector). */
  labels?: Record<string, string>;
  /** Emulator settings and the nodes' ENI quota, as for EmulatedCluster. */
  emulator?: EmulatedClusterOptions["emulator"];
  quota?: EmulatedClusterOptions["quota"];
  /** Apply the compiled policy (default true); false: nodes without vpccni (a peer CNI's run). */
  deploy?: boolean;
  /** Plugin binaries in each node's CNI bin folder besides loopback and portmap. */
  plugins?: string[];
}

export class RealCluster {
  private constructor(
    readonly kube: Cluster,
    readonly world: EmulatedCluster,
    readonly nodes: KubeletNode[],
    /** The repository folder: policies/ and the compiled deploy/. */
    readonly repo: string,
    readonly policy: string,
    private readonly spec: Record<string, unknown>,
  ) {}

  static async start(opts: RealClusterOptions = {}): Promise<RealCluster> {
    if (!existsSync(IMAGE_ARCHIVE))
      throw new Error(`${IMAGE_ARCHIVE} does not exist: build the image with \`bash scripts/build-image.sh\``);
    const world = await EmulatedCluster.start({
      nodes: opts.nodes ?? 2,
      ...(opts.emulator ? { emulator: opts.emulator } : {}),
      ...(opts.quota ? { quota: opts.quota } : {}),
    });
    let kube: Cluster | undefined;
    const nodes: KubeletNode[] = [];
    try {
      // the control plane in the VPC: it reaches webhooks in pods, kubelets reach it
      kube = await startCluster({ controlPlane: true, bed: world.bed });
      const repo = makeTempDir("real-repo");
      // The emulator serves plain http on its VPC address, which the policy refuses without
      // insecureEndpoint: a test bed's network is one we trust.
      const spec = { ...opts.spec, cloud: { endpoint: `http://${world.emulator.endpoint}`, insecureEndpoint: true } };
      const c = new RealCluster(kube, world, nodes, repo, opts.policy ?? "real", spec);
      if (opts.deploy ?? true) await c.deploy();
      const plugins = ["loopback", "portmap"].map((n) => join(paths.cniPluginDir, n)).concat(opts.plugins ?? []);
      for (const node of world.nodes)
        nodes.push(
          await startKubeletNode({ node, cluster: kube, labels: opts.labels ?? {}, images: [IMAGE_ARCHIVE], plugins }),
        );
      return c;
    } catch (error) {
      for (const n of nodes) await n.stop().catch(() => {});
      await kube?.stop();
      await world.stop().catch(() => {});
      throw error;
    }
  }

  /**
   * Writes the policy (with `spec` merged over the current one), compiles the repository and
   * applies the output as Flux does: a commit and a sync.
   */
  async deploy(spec: Record<string, unknown> = {}): Promise<string> {
    Object.assign(this.spec, spec);
    mkdirSync(join(this.repo, "policies"), { recursive: true });
    writeFileSync(join(this.repo, "policies", `${this.policy}.yaml`), policyYaml(this.policy, this.spec));
    const out = await compileToDir({
      paths: ["policies"],
      outDir: "deploy",
      cwd: this.repo,
      cniBinDir: NODE_CNI_BIN_DIR,
      cniConfDir: NODE_CNI_CONF_DIR,
    });
    if (out.diff === undefined) throw new Error(`compile failed: ${JSON.stringify(out.diagnostics)}`);
    const dir = join(this.repo, "deploy");
    await fluxApply(this.kube.admin, dir);
    return dir;
  }

  /** GET on the API server as admin; the parsed body. */
  async get(path: string): Promise<any> {
    return (await kubeCall(this.kube.admin, "GET", path)).json;
  }

  /** Waits until every node runs a ready agent pod of the DaemonSet. */
  async agentsReady(timeoutMs = 180_000): Promise<void> {
    await waitFor(
      `agent pods ready on ${this.nodes.length} nodes`,
      async () => {
        const pods = (await this.get(`/api/v1/namespaces/${AGENT_NAMESPACE}/pods`)).items as any[];
        const ready = pods.filter(
          (p) =>
            p.metadata.deletionTimestamp === undefined &&
            p.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True"),
        );
        return new Set(ready.map((p) => p.spec.nodeName)).size === this.nodes.length;
      },
      timeoutMs,
    ).catch(async (e: Error) => {
      const pods = (await this.get(`/api/v1/namespaces/${AGENT_NAMESPACE}/pods`)).items as any[];
      const states = pods.map(
        (p) =>
          `${p.metadata.name} on ${p.spec.nodeName}: ${JSON.stringify(p.status?.containerStatuses ?? p.status?.conditions)}`,
      );
      throw new Error(`${e.message}\n${states.join("\n")}\n${this.nodes.map((n) => n.logTail(20)).join("\n")}`);
    });
  }

  async stop(): Promise<void> {
    for (const n of this.nodes) await n.stop().catch((e) => process.stderr.write(`stopping ${n.name}: ${e}\n`));
    await this.kube.stop();
    await this.world.stop();
    rmSync(this.repo, { recursive: true, force: true });
  }
}
