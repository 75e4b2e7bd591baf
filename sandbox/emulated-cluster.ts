// An end-to-end world on real parts: the cloud emulator (real SDK, TC3, async tasks) whose
// fabric mirrors ENIs into a network test bed, one node namespace per emulated instance, a
// `vpccni agent` process per node, and the compiled CNI binary driven by cnitool. Optionally a
// real kube-apiserver holding the Node objects. Used by test/e2e and by `vpccni demo`.
import { INSTANCE_ID_LABEL, TAG_NODE } from "../schema/names.ts";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Emulator, type EmulatorConfigInput, startEmulator } from "../emulator/index.ts";
import type { PoolView } from "../runtime/agent/introspect.ts";
import { NetnsFabric } from "./vpc-fabric.ts";
import { DEFAULT_NETNS_DIRS } from "../runtime/agent/netns-guard.ts";
import { Containerd } from "./containerd.ts";
import { buildCni } from "./cni-build.ts";
import type { Cluster } from "./apiserver.ts";
import { kubeCall } from "./kube-api.ts";
import { createTestBed, type NodeNs, type PodNs, type TestBed } from "./test-bed.ts";
import { paths } from "./paths.ts";
import { AGENT_RUNTIME_ENV } from "../compiler/agent-contract.ts";
import { inNodeWithCniCache } from "./cnitool.ts";
import { freePort } from "./ports.ts";
import { makeTempDir } from "./janitor.ts";
import { type ManagedProcess, spawnManaged } from "./process.ts";
import { emulatorConfig, NETWORK, policyYaml, waitFor } from "./emulated-cloud.ts";

export { emulatorConfig, NETWORK, policyYaml, SUBNETS, VPC, waitFor } from "./emulated-cloud.ts";

const ROOT = resolve(import.meta.dir, "..");

export interface EmulatedClusterOptions {
  nodes?: number;
  /** Spec fields of the policy every agent gets (prebind, releaseInterval, limits...). */
  spec?: Record<string, unknown>;
  /** Emulator settings (async task times) and faults. */
  emulator?: Partial<EmulatorConfigInput>;
  /** ENI and IP quota of every node's instance type (counts include the primary ENI and IPs). */
  quota?: { eniQuota: number; ipsPerEni: number };
  cluster?: Cluster;
  /** Kubeconfig the agents use (default: the cluster's admin). */
  agentKubeconfig?: string;
  /**
   * Who calls the CNI plugin: cnitool (libcni, the tests' default) or the world itself,
   * executing the binary with CNI_* variables as a kubelet's runtime does (the demo: no Go
   * build needed).
   */
  caller?: "cnitool" | "direct";
  /** Give each agent a health and metrics listener on a free loopback port (default: none). */
  listen?: boolean;
  /** Extra `vpccni agent` flags. */
  agentArgs?: string[];
  /** Node names are `${nodePrefix}1`, `${nodePrefix}2`... (default "node"). */
  nodePrefix?: string;
  /** Labels of the Node objects (with `cluster`), besides the instance id. */
  nodeLabels?: Record<string, string>;
}

export class EmulatedNode {
  agent: ManagedProcess | undefined;
  /** Loopback port of /healthz, /readyz and /metrics when the world has `listen`. */
  listenPort: number | null = null;
  private agentExit: number | null = null;
  readonly pods = new Map<string, { pod: PodNs; ip: string; containerId: string }>();
  private seq = 0;

  constructor(
    readonly world: EmulatedCluster,
    readonly name: string,
    readonly ns: NodeNs,
    readonly instanceId: string,
    readonly dir: string,
  ) {}

  get policyFile(): string {
    return join(this.dir, "policy", "policy.yaml");
  }
  get socket(): string {
    return join(this.dir, "run", "cni.sock");
  }
  /** The folder for a containerd of this node (startContainerd's `dir`): its pod netns are admitted. */
  get criDir(): string {
    return join(this.dir, "cri");
  }
  /** This node's /etc/cni/net.d: the conflist names this node's agent socket. */
  get netconf(): string {
    return join(this.dir, "net.d");
  }

  writePolicy(text: string): void {
    mkdirSync(join(this.dir, "policy"), { recursive: true });
    writeFileSync(`${this.policyFile}.tmp`, text);
    // rename: the agent never reads a half-written file
    require("node:fs").renameSync(`${this.policyFile}.tmp`, this.policyFile);
  }

  /**
   * Starts `vpccni agent` for this node and waits until its socket answers. `prefix` runs it
   * through another command (`nsenter -t PID -m --`: a mount namespace with a small disk).
   */
  async startAgent(opts: { prefix?: string[] } = {}): Promise<void> {
    const w = this.world;
    if (w.opts.listen && this.listenPort === null) this.listenPort = await freePort();
    const args = [
      process.execPath,
      join(ROOT, "cli/main.ts"),
      "agent",
      "--policy",
      this.policyFile,
      "--node-name",
      this.name,
      "--state-dir",
      join(this.dir, "state"),
      "--socket",
      this.socket,
      "--listen",
      this.listenPort === null ? "off" : `127.0.0.1:${this.listenPort}`,
      "--metadata-url",
      w.emulator.metadataUrl(this.instanceId),
      "--endpoint",
      `http://${w.emulator.endpoint}`,
      "--netns",
      this.ns.ns,
      // Pod netns: the test bed's (/var/run/netns) and those of a containerd on this node.
      ...[...DEFAULT_NETNS_DIRS, Containerd.netnsDir(this.criDir)].flatMap((d) => ["--netns-dir", d]),
      // Switching off removes vpccni's conflist from this node's CNI folder.
      "--cni-conf-dir",
      this.netconf,
      "--log-level",
      "debug",
      ...(w.cluster ? ["--kubeconfig", w.agentKubeconfig ?? w.cluster.admin.path] : ["--no-kube"]),
      ...(w.opts.agentArgs ?? []),
    ];
    // No cloud keys in the environment: the agent takes the CVM role's temporary credentials
    // from the (emulated) metadata service, as on a real node. NODE_EXTRA_CA_CERTS empty: the
    // agent finds the cluster CA itself, as in a pod.
    // The DaemonSet's runtime environment too (JavaScriptCore's tiers), so that what runs here
    // is what a node runs; VPCCNI_AGENT_JSC=defaults leaves JavaScriptCore's defaults (bench work).
    const env: Record<string, string> = {
      TENCENTCLOUD_SECRET_ID: "",
      TENCENTCLOUD_SECRET_KEY: "",
      NODE_EXTRA_CA_CERTS: "",
      ...(process.env.VPCCNI_AGENT_JSC === "defaults"
        ? {}
        : Object.fromEntries(AGENT_RUNTIME_ENV.map((e) => [e.name, e.value]))),
    };
    // A CPU profile of the agent (Chrome .cpuprofile, written when it stops) for bench work.
    const profile = process.env.VPCCNI_AGENT_CPU_PROF;
    if (profile) env.BUN_OPTIONS = `--cpu-prof --cpu-prof-interval=200 --cpu-prof-dir=${profile}`;
    // The harness's leash: the agent dies with the test process, even a SIGKILLed one.
    const agent = spawnManaged(`agent-${this.name}`, [...(opts.prefix ?? []), ...args], {
      log: join(this.dir, "agent.log"),
      env,
    });
    this.agent = agent;
    this.agentExit = null;
    void agent.exited.then((code) => {
      if (this.agent === agent) this.agentExit = code;
    });
    await waitFor(
      `agent of ${this.name} to answer on its socket`,
      async () =>
        this.agentExit !== null
          ? Promise.reject(new Error(`agent exited with ${this.agentExit}; log in ${join(this.dir, "agent.log")}`))
          : (await this.view().catch(() => null)) !== null,
      60_000,
    );
  }

  /** SIGTERM: a graceful stop; SIGKILL: a crash, as `kill -9` of the agent process group. */
  async stopAgent(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<number | null> {
    const agent = this.agent;
    if (!agent) return null;
    this.agent = undefined;
    if (signal === "SIGKILL") process.kill(-agent.pgid, "SIGKILL");
    else await agent.stop(10_000);
    return await agent.exited;
  }

  /** The agent's log, for failure messages and the demo. */
  agentLog(): string {
    return require("node:fs").existsSync(join(this.dir, "agent.log"))
      ? require("node:fs").readFileSync(join(this.dir, "agent.log"), "utf8")
      : "";
  }

  async view(): Promise<PoolView> {
    const res = await fetch("http://agent/v1/pool", { unix: this.socket, signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`introspection: HTTP ${res.status}`);
    return (await res.json()) as PoolView;
  }

  /** A pod namespace wired by the real CNI binary, called through cnitool (libcni) or directly. */
  async addPod(name = `p${++this.seq}`, existing?: PodNs): Promise<{ pod: PodNs; ip: string; containerId: string }> {
    const pod = existing ?? (await this.newPodNamespace(name));
    // cnitool derives the container ID from the netns path (cnitool-<sha512>).
    const containerId = this.world.opts.caller === "direct" ? this.directContainerId(name) : pod.path;
    const args = `K8S_POD_NAMESPACE=default;K8S_POD_NAME=${name}`;
    const r =
      this.world.opts.caller === "direct"
        ? await this.execCni("ADD", pod.path, containerId, args)
        : await this.cnitool("add", pod.path, { CNI_ARGS: args });
    if (r.code !== 0) throw new Error(`CNI ADD for ${name} on ${this.name} failed (${r.code}): ${r.stdout}${r.stderr}`);
    const result = JSON.parse(r.stdout) as { ips: { address: string }[] };
    const ip = (result.ips[0]?.address ?? "").split("/")[0] ?? "";
    const entry = { pod, ip, containerId };
    this.pods.set(name, entry);
    return entry;
  }

  /** A pod's network namespace, not wired yet (benchmarks time the CNI call alone). */
  newPodNamespace(name: string): Promise<PodNs> {
    return this.world.bed.addPod({ name: `${this.name}-${name}` });
  }

  async delPod(name: string): Promise<void> {
    const entry = this.pods.get(name);
    if (!entry) throw new Error(`no pod ${name} on ${this.name}`);
    await this.del(name, entry.pod);
    this.pods.delete(name);
  }

  /**
   * CNI DEL for a pod namespace, known or not: what a runtime does after an ADD that failed,
   * before it retries (the spec asks for it; containerd and CRI-O do it).
   */
  async del(name: string, pod: PodNs): Promise<void> {
    const args = `K8S_POD_NAMESPACE=default;K8S_POD_NAME=${name}`;
    const containerId = this.world.opts.caller === "direct" ? this.directContainerId(name) : pod.path;
    const r =
      this.world.opts.caller === "direct"
        ? await this.execCni("DEL", pod.path, containerId, args)
        : await this.cnitool("del", pod.path, { CNI_ARGS: args });
    if (r.code !== 0) throw new Error(`CNI DEL for ${name} failed (${r.code}): ${r.stdout}${r.stderr}`);
  }

  /**
   * cnitool inside the node namespace. Its result cache (/var/lib/cni) is this node's folder,
   * bind-mounted in a private mount namespace, so nothing is written to the host's.
   */
  /** The plugin executed as a container runtime does: CNI_* variables and the config on stdin. */
  execCni(command: "ADD" | "DEL" | "STATUS", netns: string, containerId: string, args: string) {
    const call = this.cniCall(command, netns, containerId, args);
    return this.world.bed.exec(
      this.ns.ns,
      ["env", "-i", ...Object.entries(call.env).map(([k, v]) => `${k}=${v}`), call.plugin],
      { input: call.conf },
    );
  }

  /**
   * One plugin call as a runtime makes it: the plugin's path, its only environment and the
   * configuration on stdin. A caller that runs in this node's namespace (bench/burst.ts's
   * runtime) executes it itself.
   */
  cniCall(command: "ADD" | "DEL" | "STATUS", netns: string, containerId: string, args: string) {
    const conf = JSON.stringify({ cniVersion: "1.1.0", name: NETWORK, type: "vpccni", socket: this.socket });
    const env: Record<string, string> = {
      CNI_COMMAND: command,
      CNI_CONTAINERID: containerId,
      CNI_NETNS: netns,
      CNI_IFNAME: "eth0",
      CNI_PATH: this.world.cniBin,
      CNI_ARGS: args,
    };
    return { plugin: join(this.world.cniBin, "vpccni"), env, conf };
  }

  /** The container ID addPod() gives a pod under the "direct" caller. */
  directContainerId(name: string): string {
    return `demo${this.name}${name}`.replace(/[^A-Za-z0-9]/g, "");
  }

  /**
   * What the cloud holds for this node, to compare with the agent: secondary IPs on its
   * attached pod ENIs, and ENIs tagged with this node that are attached nowhere (leaks).
   */
  async cloud(): Promise<{ enis: string[]; ips: string[]; unattachedTagged: string[] }> {
    const state = await this.world.emulator.admin.state();
    const all = Object.values(state.enis);
    const mine = all.filter((e) => !e.primary && e.attachment?.instanceId === this.instanceId);
    return {
      enis: mine.map((e) => e.eniId).sort(),
      ips: mine.flatMap((e) => e.ips.filter((ip) => !ip.primary).map((ip) => ip.ip)).sort(),
      unattachedTagged: all.filter((e) => !e.attachment && e.tags[TAG_NODE] === this.name).map((e) => e.eniId),
    };
  }

  cnitool(cmd: string, netns: string, env: Record<string, string> = {}) {
    const w = this.world;
    const cache = join(this.dir, "cni-cache");
    mkdirSync(cache, { recursive: true });
    const tool = [
      "env",
      `NETCONFPATH=${this.netconf}`,
      `CNI_PATH=${w.cniBin}:${paths.cniPluginDir}`,
      ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
      paths.cnitool,
      cmd,
      NETWORK,
      netns,
    ];
    return inNodeWithCniCache(w.bed, this.ns.ns, cache, tool);
  }
}

export class EmulatedCluster {
  readonly nodes: EmulatedNode[] = [];
  cniBin = "";
  private constructor(
    readonly opts: EmulatedClusterOptions,
    readonly dir: string,
    readonly bed: TestBed,
    readonly emulator: Emulator,
    readonly fabric: NetnsFabric,
    readonly cluster: Cluster | undefined,
  ) {}

  get agentKubeconfig(): string | undefined {
    return this.opts.agentKubeconfig;
  }

  static async start(opts: EmulatedClusterOptions = {}): Promise<EmulatedCluster> {
    const count = opts.nodes ?? 2;
    // The harness's janitor removes this folder even when the test process is killed.
    const dir = makeTempDir("world");
    const bed = await createTestBed({ subnet: "10.231.0.0/24" });
    const byInstance = new Map<string, NodeNs>();
    const fabric = new NetnsFabric(bed, (i) => byInstance.get(i.instanceId));
    const config = { ...emulatorConfig(count, opts.quota), ...opts.emulator };
    let emulator: Emulator | undefined;
    try {
      emulator = await startEmulator({ config, fabric, log: () => {}, env: {} });
      const world = new EmulatedCluster(opts, dir, bed, emulator, fabric, opts.cluster);
      world.cniBin = await buildCni();
      const cloud = await emulator.admin.state();
      for (const instance of emulator.inventory().instances) {
        const name = `${opts.nodePrefix ?? "node"}${world.nodes.length + 1}`;
        // eth0 plays the instance's primary ENI: same MAC, as the metadata service reports it.
        const mac = cloud.enis[instance.primaryEniId]?.mac.toLowerCase();
        const ns = await bed.addNode({ name: `n${world.nodes.length + 1}`, ...(mac ? { mac } : {}) });
        byInstance.set(instance.instanceId, ns);
        const node = new EmulatedNode(world, name, ns, instance.instanceId, join(dir, name));
        world.nodes.push(node);
        node.writePolicy(policyYaml("e2e", opts.spec));
        // One conflist per node: its socket differs (on a real node it is the default path).
        mkdirSync(node.netconf, { recursive: true });
        // 1.0.0: Debian's portmap (1.1.1) speaks no CNI 1.1; vpccni speaks both.
        writeFileSync(
          join(node.netconf, `10-${NETWORK}.conflist`),
          JSON.stringify({
            cniVersion: "1.0.0",
            name: NETWORK,
            plugins: [
              { type: "vpccni", socket: node.socket },
              { type: "portmap", capabilities: { portMappings: true } },
            ],
          }),
        );
        if (opts.cluster)
          await kubeCall(opts.cluster.admin, "POST", "/api/v1/nodes", {
            body: {
              apiVersion: "v1",
              kind: "Node",
              // as TKE labels its Nodes; the fixed-IP controller finds the instance by it
              metadata: { name, labels: { ...opts.nodeLabels, [INSTANCE_ID_LABEL]: instance.instanceId } },
            },
            allow: [409],
          });
      }
      return world;
    } catch (error) {
      await emulator?.stop();
      await bed.destroy();
      throw error;
    }
  }

  async stop(): Promise<void> {
    for (const n of this.nodes) await n.stopAgent("SIGTERM").catch(() => null);
    await this.emulator.stop();
    await this.bed.destroy();
    // VPCCNI_KEEP_WORLD=1 keeps the agents' logs and state for a post-mortem (the janitor
    // still removes the folder once the test process has ended).
    if (process.env.VPCCNI_KEEP_WORLD === "1") process.stderr.write(`world kept in ${this.dir}\n`);
    else rmSync(this.dir, { recursive: true, force: true });
  }
}
