// A real Kubernetes node for one test-bed node: Debian's containerd and a kubelet (the same
// Kubernetes version as the API server) run in the node's network namespace, which is the
// node's host network, in a mount and PID namespace of their own (sandbox/containerd.ts):
// kubelet's root, certificates, pod volumes, /var/lib/kubelet/device-plugins, /var/log/pods and
// the hostPaths of its pods never reach the host, and when the daemon's PID namespace ends, every
// process of the node ends with it. The Node registers itself named and labelled as the
// emulator's instance (zone, region, instance type, instance id).
//
// What a node of a real cluster has around it, given here inside its namespace only:
// - the API server in the VPC (startCluster with the same test bed): kubelet dials it there,
//   and the `kubernetes` Service's 10.96.0.1:443 is DNATed to it in the node's iptables, for the
//   node's processes and its pods alike, as kube-proxy does;
// - metadata.tencentyun.com (169.254.0.23 in the namespace's /etc/hosts, on its lo) serving
//   this instance's metadata from the emulator, and the emulator's API on its loopback port;
// - the kernel settings kubelet insists on: kubelet only checks them (protectKernelDefaults),
//   against files bound over /proc/sys in its mount namespace, so it never writes the host's.
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import type { Cluster } from "./apiserver.ts";
import { Containerd } from "./containerd.ts";
import type { EmulatedNode } from "./emulated-cluster.ts";
import { waitFor } from "./emulated-cloud.ts";
import { makeTempDir } from "./janitor.ts";
import { kubeCall } from "./kube-api.ts";
import { forwardIntoNetns, type NetnsForward } from "./netns-forward.ts";
import { paths } from "./paths.ts";
import { requireBinary } from "./prereq.ts";
import { type ManagedProcess, spawnManaged } from "./process.ts";
import { INSTANCE_ID_LABEL } from "../schema/names.ts";

/** The `kubernetes` Service's address (the API server's --service-cluster-ip-range is 10.96.0.0/24). */
export const KUBERNETES_SERVICE_IP = "10.96.0.1";
/** metadata.tencentyun.com on CVM. */
export const METADATA_IP = "169.254.0.23";
export const METADATA_HOST = "metadata.tencentyun.com";

/**
 * Where the node's CNI folders are inside its mount namespace: compile the policy with
 * `--cni-bin-dir` / `--cni-conf-dir` set to these (a path under the namespace's fresh /var/lib,
 * so the DaemonSet's hostPaths never reach the host's /opt/cni/bin or /etc/cni/net.d).
 */
export const NODE_CNI_BIN_DIR = "/var/lib/vpccni-node/cni/bin";
export const NODE_CNI_CONF_DIR = "/var/lib/vpccni-node/cni/net.d";

/** The values kubelet's container manager requires (setupKernelTunables). */
const KERNEL_DEFAULTS: Record<string, string> = {
  "vm/overcommit_memory": "1",
  "vm/panic_on_oom": "0",
  "kernel/panic": "10",
  "kernel/panic_on_oops": "1",
  "kernel/keys/root_maxkeys": "1000000",
  "kernel/keys/root_maxbytes": "25000000",
};

export function requireKubelet(): void {
  requireBinary("kubelet", paths.kubelet);
}

export interface KubeletNodeOptions {
  node: EmulatedNode;
  /** A cluster started with controlPlane: true. */
  cluster: Cluster;
  /** Labels besides the instance's own (e.g. a policy's nodeSelector). */
  labels?: Record<string, string>;
  /** Image archives to load into the node's containerd, as if pulled (the vpccni image). */
  images?: string[];
  /**
   * Plugin binaries put in the node's CNI bin folder before anything runs, as a node image
   * ships them (default loopback and portmap from the reference plugins).
   */
  plugins?: string[];
}

/** A node's kubelet + containerd. `stop()` ends both and removes everything. */
export class KubeletNode {
  kubelet: ManagedProcess | undefined;
  private stopped = false;

  private constructor(
    readonly node: EmulatedNode,
    readonly cluster: Cluster,
    readonly dir: string,
    readonly runtime: Containerd,
    readonly forwards: NetnsForward[],
  ) {}

  get name(): string {
    return this.node.name;
  }
  /** The node's CNI folders as the host sees them. */
  get cniBinDir(): string {
    return join(this.dir, "cni-bin");
  }
  get cniConfDir(): string {
    return join(this.dir, "cni-net.d");
  }
  get kubeletLog(): string {
    return join(this.dir, "kubelet.log");
  }

  static async start(opts: KubeletNodeOptions): Promise<KubeletNode> {
    requireKubelet();
    const { node, cluster } = opts;
    if (!cluster.controlPlane || !cluster.vpcServer)
      throw new Error("a kubelet node needs a cluster started with controlPlane: true in its test bed (bed option)");
    const world = node.world;
    const bed = world.bed;
    const ns = node.ns.ns;
    const dir = makeTempDir("node");
    const forwards: NetnsForward[] = [];
    let runtime: Containerd | undefined;
    try {
      // the `kubernetes` Service as kube-proxy makes it: DNAT to the API server's VPC address,
      // for connections of the node (OUTPUT) and of its pods (PREROUTING)
      const api = new URL(cluster.vpcServer);
      for (const chain of ["OUTPUT", "PREROUTING"])
        await bed.execOk(ns, [
          "iptables",
          "-t",
          "nat",
          "-A",
          chain,
          "-d",
          `${KUBERNETES_SERVICE_IP}/32`,
          "-p",
          "tcp",
          "--dport",
          "443",
          "-j",
          "DNAT",
          "--to-destination",
          `${api.hostname}:${api.port}`,
        ]);
      // the metadata service on the node's lo, and the emulator's API: forwards to the host
      await bed.ip(ns, "addr", "add", `${METADATA_IP}/32`, "dev", "lo");
      const metadata = world.emulator.instanceMetadataServer(node.instanceId);
      for (const f of [
        { port: world.emulator.port },
        { port: 80, listenHost: METADATA_IP, target: { port: metadata.port } },
      ])
        forwards.push(await forwardIntoNetns({ bed, ns, ...f }));

      // files and folders bound into the node's mount namespace
      const hosts = join(dir, "hosts");
      writeFileSync(hosts, `127.0.0.1\tlocalhost\n::1\tlocalhost\n${METADATA_IP}\t${METADATA_HOST}\n`);
      const binds: Record<string, string> = {
        "/etc/hosts": hosts,
        // the DaemonSet's hostPaths, so the test reads the agent's socket and state from the host
        "/run/vpccni": join(node.dir, "run"),
        "/var/lib/vpccni": join(node.dir, "state"),
        [NODE_CNI_BIN_DIR]: join(dir, "cni-bin"),
        [NODE_CNI_CONF_DIR]: join(dir, "cni-net.d"),
      };
      for (const [key, value] of Object.entries(KERNEL_DEFAULTS)) {
        const file = join(dir, "sysctl", key.replaceAll("/", "."));
        mkdirSync(join(dir, "sysctl"), { recursive: true });
        writeFileSync(file, `${value}\n`);
        binds[`/proc/sys/${key}`] = file;
      }
      for (const d of [join(node.dir, "run"), join(node.dir, "state"), join(dir, "cni-bin"), join(dir, "cni-net.d")])
        mkdirSync(d, { recursive: true });
      for (const p of opts.plugins ?? ["loopback", "portmap"].map((n) => join(paths.cniPluginDir, n)))
        symlinkSync(p, join(dir, "cni-bin", p.split("/").pop()!));

      runtime = await Containerd.start({
        bed,
        node: node.ns,
        cniBinDir: NODE_CNI_BIN_DIR,
        cniConfDir: NODE_CNI_CONF_DIR,
        dir: join(dir, "cri"),
        netnsAt: "run",
        binds,
      });
      for (const image of opts.images ?? []) await runtime.importImage(image);
      const k = new KubeletNode(node, cluster, dir, runtime, forwards);
      await k.startKubelet(opts.labels ?? {});
      return k;
    } catch (error) {
      await runtime?.stop().catch(() => {});
      for (const f of forwards) await f.stop();
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The Node's labels: the instance's zone, region, type and id, plus the test's. */
  instanceLabels(): Record<string, string> {
    const inv = this.node.world.emulator.inventory();
    const inst = inv.instances.find((i) => i.instanceId === this.node.instanceId);
    if (!inst) throw new Error(`instance ${this.node.instanceId} of ${this.name} is not in the emulator`);
    return {
      "topology.kubernetes.io/region": inv.region,
      "topology.kubernetes.io/zone": inst.zone,
      "node.kubernetes.io/instance-type": inst.instanceType,
      [INSTANCE_ID_LABEL]: inst.instanceId,
    };
  }

  private async startKubelet(extraLabels: Record<string, string>): Promise<void> {
    const { dir, cluster, node } = this;
    const kubeconfig = await cluster.nodeKubeconfig(this.name, cluster.vpcServer);
    const root = join(dir, "kubelet");
    mkdirSync(root, { recursive: true });
    const config = {
      apiVersion: "kubelet.config.k8s.io/v1beta1",
      kind: "KubeletConfiguration",
      // this machine has cgroup v1 and swap; pods go under the daemon's named cgroup, which the
      // harness removes, and kubelet makes no QoS or node-allocatable cgroups of its own
      failCgroupV1: false,
      failSwapOn: false,
      cgroupDriver: "cgroupfs",
      cgroupsPerQOS: false,
      cgroupRoot: `/${this.runtime.cgroup}`,
      enforceNodeAllocatable: [],
      protectKernelDefaults: true,
      containerRuntimeEndpoint: `unix://${this.runtime.socket}`,
      // the API server authenticates kubelet; nothing calls kubelet's API here
      authentication: { anonymous: { enabled: false }, webhook: { enabled: false } },
      authorization: { mode: "AlwaysAllow" },
      readOnlyPort: 0,
      // kubelet cannot measure the image file system in this sandbox: no eviction, no image GC
      evictionHard: { "memory.available": "1Mi" },
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      serializeImagePulls: false,
      resolvConf: "/etc/resolv.conf",
      // a stopped pod's network is torn down quickly, and status reaches the API at once
      nodeStatusUpdateFrequency: "5s",
      nodeStatusReportFrequency: "10s",
      syncFrequency: "10s",
      maxPods: 110,
      podLogsDir: "/var/log/pods",
      shutdownGracePeriod: "0s",
      localStorageCapacityIsolation: false,
    };
    const configFile = join(dir, "kubelet-config.yaml");
    writeFileSync(configFile, stringify(config));
    const labels = { ...this.instanceLabels(), ...extraLabels };
    const cmd = [
      "nsenter",
      "-t",
      String(this.runtime.initPid),
      "-m",
      "-p",
      "-n",
      "--",
      paths.kubelet,
      `--config=${configFile}`,
      `--kubeconfig=${kubeconfig.path}`,
      `--root-dir=${root}`,
      `--cert-dir=${join(dir, "kubelet-pki")}`,
      `--hostname-override=${this.name}`,
      `--node-ip=${node.ns.ip}`,
      `--node-labels=${Object.entries(labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(",")}`,
      "--v=2",
    ];
    this.kubelet = spawnManaged(`kubelet-${this.name}`, cmd, { log: this.kubeletLog });
    let exit: number | null = null;
    void this.kubelet.exited.then((c) => (exit = c));
    await waitFor(
      `kubelet of ${this.name} to register its Node`,
      async () => {
        if (exit !== null) throw new Error(`kubelet of ${this.name} exited with ${exit}: ${this.logTail()}`);
        const r = await kubeCall(cluster.admin, "GET", `/api/v1/nodes/${this.name}`, { allow: [404] });
        return r.status === 200;
      },
      60_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${this.logTail()}`);
    });
  }

  logTail(lines = 20): string {
    let text = "";
    try {
      text = readFileSync(this.kubeletLog, "utf8");
    } catch {}
    return `last lines of ${this.kubeletLog}:\n${text.trimEnd().split("\n").slice(-lines).join("\n")}`;
  }

  /** kill -9 of the kubelet alone (its pods keep running, as when kubelet crashes). */
  async stopKubelet(): Promise<void> {
    await this.kubelet?.stop(10_000);
    this.kubelet = undefined;
  }

  /** Stops kubelet, then containerd (every pod sandbox gets its CNI DEL), and removes the node's folders. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.stopKubelet();
    await this.runtime.stop().catch(() => {});
    for (const f of this.forwards) await f.stop();
    const bed = this.node.world.bed;
    await bed.ip(this.node.ns.ns, "addr", "del", `${METADATA_IP}/32`, "dev", "lo").catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function startKubeletNode(opts: KubeletNodeOptions): Promise<KubeletNode> {
  return KubeletNode.start(opts);
}
