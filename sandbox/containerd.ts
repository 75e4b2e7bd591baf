// Debian's containerd (1.6, CRI built in) + runc for one test-bed node, so that pod sandboxes
// made through the CRI (`crictl runp`) call the CNI plugins exactly as kubelet's runtime does on a
// real node. The daemon runs in the node's network namespace, in a mount namespace of its own
// (its mounts, /run/containerd and /var/lib/cni never reach the host) and a PID namespace of its
// own (when it dies, every shim and pause process dies with it). Only the pod netns folder is a
// shared mount the host sees: the agent opens CNI_NETNS from there, as through its hostPath.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { CommandError, run, runOk, type RunResult } from "./exec.ts";
import { makeTempDir } from "./janitor.ts";
import { paths, versions } from "./paths.ts";
import { requireBinary, requireNetns, requirePrereq } from "./prereq.ts";
import { onProcessExit, type ManagedProcess, spawnManaged } from "./process.ts";
import type { NodeNs, TestBed } from "./test-bed.ts";

export const PAUSE_IMAGE = `localhost/vpccni/pause:${versions.pause}`;
/** The commands a node's runtime needs on PATH (Debian packages containerd, runc, util-linux). */
export const CONTAINERD_TOOLS = [
  "containerd",
  "containerd-shim-runc-v2",
  "runc",
  "ctr",
  "nsenter",
  "unshare",
  "findmnt",
];
const CGROUPS = "/sys/fs/cgroup";
/** Temp folders (janitor.ts) and this harness's cgroups carry the test process's pid. */
const OWNED = /^vpccni-[a-z0-9-]+?-p(\d+)-/;

/** containerd, runc, crictl and the pause image; fails with how to install them, never skips. */
export function requireContainerd(): void {
  requireNetns();
  for (const tool of CONTAINERD_TOOLS)
    requirePrereq(
      tool,
      () => Bun.which(tool) !== null || `\`${tool}\` is not on PATH (Debian packages containerd, runc, util-linux)`,
    );
  requireBinary("crictl", paths.crictl);
  requirePrereq(
    "pause image",
    () => existsSync(paths.pauseImage) || `${paths.pauseImage} does not exist (scripts/build-pause.sh)`,
  );
}

export interface ContainerdConfigInput {
  root: string;
  state: string;
  socket: string;
  temp: string;
  cniBinDir: string;
  cniConfDir: string;
  snapshotter: "overlayfs" | "native";
  /** Pod netns under <state>/io.containerd.grpc.v1.cri/netns (default) or /var/run/netns. */
  netnsUnderStateDir?: boolean;
}

/** config.toml: everything under the test's folder; plugins that would write elsewhere are off. */
export function containerdConfig(c: ContainerdConfigInput): string {
  const s = JSON.stringify; // TOML basic strings take JSON's escapes
  // opt writes /opt/containerd; the rest is not built into Debian's binary, and listed so that
  // another build does not try to load them (runtime.v1.linux stays: 1.6's tasks service needs it)
  const off = [
    "internal.v1.opt",
    "snapshotter.v1.aufs",
    "snapshotter.v1.btrfs",
    "snapshotter.v1.devmapper",
    "snapshotter.v1.zfs",
    "tracing.processor.v1.otlp",
    "internal.v1.tracing",
  ];
  return `version = 2
root = ${s(c.root)}
state = ${s(c.state)}
temp = ${s(c.temp)}
disabled_plugins = [${off.map((p) => s(`io.containerd.${p}`)).join(", ")}]

[grpc]
  address = ${s(c.socket)}

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${s(PAUSE_IMAGE)}
  # pod netns under <state>/io.containerd.grpc.v1.cri/netns, or containerd's default /var/run/netns
  netns_mounts_under_state_dir = ${c.netnsUnderStateDir ?? true}
  disable_apparmor = true
  # the exec/attach stream server listens in the node's namespace: a fixed port outside the
  # ephemeral range, so it never takes a port a forward from the host's loopback needs there
  stream_server_address = "127.0.0.1"
  stream_server_port = "10010"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${s(c.cniBinDir)}
    conf_dir = ${s(c.cniConfDir)}
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = ${s(c.snapshotter)}
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = ${s(join(c.state, "runc"))}
`;
}

// PID 1 of the daemon's PID namespace, in its new mount namespace (propagation unchanged, so
// the shared netns folder still reaches the host). /run is a tmpfs because the shims' sockets
// are hard-coded under /run/containerd/s; /var/lib/cni because libcni caches results there.
// $2 is "-", or the shared netns folder to bind on the private /run's netns folder as well:
// containerd then makes pod netns there (its default path) and the host's folder shows them.
const LAUNCH = `set -eu
dir=$1 run_netns=$2; shift 2
read -r pid _ </proc/self/stat
echo "$pid" >"$dir/init.pid"
# only the netns folder (its own shared mount) may propagate: the mounts above ours turn private
for m in $(findmnt -no TARGET -T "$dir") $(findmnt -no TARGET -T /run) $(findmnt -no TARGET -T /var/lib); do mount --make-private "$m"; done
mount -t tmpfs -o mode=0755,size=64m vpccni-cri-run /run
if [ "$run_netns" != - ]; then
  mkdir /run/netns
  mount --bind "$run_netns" /run/netns
fi
# /var/lib and /var/log are fresh too: libcni's cache (/var/lib/cni), and a kubelet's fixed
# folders (/var/lib/kubelet/device-plugins, /var/log/containers), stay in this namespace
mount -t tmpfs -o mode=0755,size=64m vpccni-cri-varlib /var/lib
mount -t tmpfs -o mode=0755,size=64m vpccni-cri-varlog /var/log
mkdir -p /var/lib/cni "$dir/cni-cache"
mount --bind "$dir/cni-cache" /var/lib/cni
mount --make-rprivate /proc
mount -t proc proc /proc
# extra binds, one "source<TAB>target" per line: a folder or file of the test on a path of this
# namespace (a folder is made under the fresh /run, /var/lib or /var/log; a file's target must
# exist, e.g. /etc/hosts or a /proc/sys file a kubelet would otherwise write on the host)
if [ -f "$dir/binds" ]; then
  tab=$(printf '\t')
  while IFS=$tab read -r src dst; do
    if [ -d "$src" ]; then mkdir -p "$dst"; fi
    mount --bind "$src" "$dst"
  done <"$dir/binds"
fi
"$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT
status=0
# wait also reaps the orphans PID 1 inherits (the shims' start processes)
while kill -0 "$child" 2>/dev/null; do wait "$child" && status=0 || status=$?; done
exit "$status"
`;

export interface PodSpec {
  name: string;
  namespace?: string;
  uid?: string;
  attempt?: number;
  /** The node's network namespace (a hostNetwork pod: no CNI call). */
  hostNetwork?: boolean;
  /** The pod's annotations, as kubelet puts them in the sandbox config. */
  annotations?: Record<string, string>;
}

export interface PodStatus {
  id: string;
  name: string;
  namespace: string;
  uid: string;
  state: string;
  /** The pod IP as the runtime took it from the CNI result ("" when it has none). */
  ip: string;
  /** The sandbox's network namespace file (a path the host sees), null once it is gone. */
  netns: string | null;
  /** The same file as the runtime names it, i.e. the CNI_NETNS the plugins got. */
  runtimeNetns: string | null;
}

export interface StartContainerdOptions {
  bed: TestBed;
  node: NodeNs;
  /** The CNI plugins (containerd 1.6 takes one folder: it must hold `loopback` too). */
  cniBinDir: string;
  cniConfDir: string;
  /** The daemon's folder (root, state, socket, logs); default a new makeTempDir("cri"). stop() deletes it. */
  dir?: string;
  /** Default overlayfs, or native where the folder is on overlayfs itself. */
  snapshotter?: "overlayfs" | "native";
  /**
   * Where the runtime makes pod netns and so which CNI_NETNS the plugins get. "state" (default):
   * under the daemon's state folder, a path the host sees, for an agent running as a host
   * process. "run": containerd's default /var/run/netns/cni-..., as on a real node, for an agent
   * container whose hostPath /run/netns is `Containerd.netnsDir(dir)`. Either way a pod's
   * `netns` (PodStatus) is the host's path of the file.
   */
  netnsAt?: "state" | "run";
  /**
   * Test folders or files bound on paths of the daemon's mount namespace (target -> source):
   * a node's hostPaths (/run/vpccni, /var/lib/vpccni, CNI folders under /run or /var/lib, which
   * are fresh there) or files over existing ones (/etc/hosts). The host never sees them.
   */
  binds?: Record<string, string>;
}

export class Containerd {
  readonly socket: string;
  readonly log: string;
  /** The pods' cgroup parent, in every hierarchy: named so that a sweep knows whose it is. */
  readonly cgroup = `vpccni-cri-p${process.pid}-${randomBytes(4).toString("hex")}`;
  private proc: ManagedProcess | undefined;
  private stopped = false;
  /** The sandbox config file of each pod (crictl create needs it again). */
  private readonly podConfigs = new Map<string, string>();

  private constructor(
    readonly node: NodeNs,
    readonly dir: string,
    readonly snapshotter: "overlayfs" | "native",
    readonly netnsAt: "state" | "run",
  ) {
    this.socket = join(dir, "containerd.sock");
    this.log = join(dir, "containerd.log");
  }

  /** Where the CRI mounts pod netns: a shared mount, so the host (and the agent) sees them. */
  static netnsDir(dir: string): string {
    return join(dir, "state", "io.containerd.grpc.v1.cri", "netns");
  }

  static async start(opts: StartContainerdOptions): Promise<Containerd> {
    requireContainerd();
    opts.bed.assertOwned(opts.node.ns);
    sweepStaleContainerd();
    const dir = opts.dir ?? makeTempDir("cri");
    const snapshotter = opts.snapshotter ?? (fsType(dir) === "overlay" ? "native" : "overlayfs");
    const c = new Containerd(opts.node, dir, snapshotter, opts.netnsAt ?? "state");
    onProcessExit(() => c.cleanupSync());
    try {
      await c.launch(opts);
      await c.waitReady();
      await c.importImage(paths.pauseImage);
    } catch (error) {
      await c.stop().catch(() => {});
      throw error;
    }
    return c;
  }

  private async launch(opts: StartContainerdOptions): Promise<void> {
    const { dir, socket } = this;
    const netns = Containerd.netnsDir(dir);
    for (const d of ["root", "tmp", "logs"]) mkdirSync(join(dir, d), { recursive: true });
    mkdirSync(netns, { recursive: true });
    const { cniBinDir, cniConfDir } = opts;
    const config = join(dir, "config.toml");
    const [root, state, temp, snapshotter] = [
      join(dir, "root"),
      join(dir, "state"),
      join(dir, "tmp"),
      this.snapshotter,
    ];
    const netnsUnderStateDir = this.netnsAt === "state";
    const binds = Object.entries(opts.binds ?? {});
    for (const [target, source] of binds)
      if (/[\t\n]/.test(target + source) || !target.startsWith("/"))
        throw new Error(`bind ${source} -> ${target}: paths must be absolute and free of tabs and newlines`);
    if (binds.length > 0)
      writeFileSync(join(dir, "binds"), binds.map(([target, source]) => `${source}\t${target}\n`).join(""));
    writeFileSync(
      config,
      containerdConfig({ root, state, socket, temp, cniBinDir, cniConfDir, snapshotter, netnsUnderStateDir }),
    );
    const endpoint = `unix://${socket}`;
    writeFileSync(
      join(dir, "crictl.yaml"),
      `runtime-endpoint: ${endpoint}\nimage-endpoint: ${endpoint}\ntimeout: 60\n`,
    );
    // the one mount the host sees, made as `ip netns` makes /run/netns: a shared bind on itself
    await runOk(["mount", "--bind", netns, netns]);
    await runOk(["mount", "--make-shared", netns]);
    const namespaces = "--mount --propagation unchanged --pid --fork --kill-child".split(" ");
    const runNetns = netnsUnderStateDir ? "-" : netns;
    const init = ["sh", "-c", LAUNCH, "containerd-init", dir, runNetns, "containerd", "--config", config];
    const cmd = ["nsenter", `--net=/run/netns/${opts.node.ns}`, "--", "unshare", ...namespaces, "--", ...init];
    this.proc = spawnManaged(`containerd-${opts.node.name}`, cmd, { log: this.log });
  }

  private async waitReady(timeoutMs = 30_000): Promise<void> {
    let exit: number | null = null;
    void this.proc?.exited.then((code) => (exit = code));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (exit !== null) throw new Error(`containerd for ${this.node.name} exited with ${exit}: ${this.logTail()}`);
      // containerd serves on without the CRI when that plugin fails: say why at once
      const failed = /msg="failed to load plugin io\.containerd\.grpc\.v1\.cri" error=(.*)/.exec(
        readFileSync(this.log, "utf8"),
      );
      if (failed)
        throw new Error(
          `containerd for ${this.node.name} started without its CRI plugin: ${failed[1]} (config ${join(this.dir, "config.toml")})`,
        );
      const r = existsSync(this.socket) ? await this.crictlRaw(["info"]) : null;
      if (
        r?.code === 0 &&
        JSON.parse(r.stdout).status?.conditions?.some(
          (c: { type: string; status: boolean }) => c.type === "RuntimeReady" && c.status,
        )
      )
        return;
      if (Date.now() > deadline)
        throw new Error(
          `containerd for ${this.node.name} not ready after ${timeoutMs} ms: ${r?.stderr ?? "no socket"} ${this.logTail()}`,
        );
      await Bun.sleep(50);
    }
  }

  logTail(lines = 15): string {
    const text = existsSync(this.log) ? readFileSync(this.log, "utf8") : "";
    return `last lines of ${this.log}:\n${text.trimEnd().split("\n").slice(-lines).join("\n")}`;
  }

  /** The host PID of the daemon's PID 1: `nsenter -t PID -m` enters its mount namespace. */
  get initPid(): number {
    return Number(readFileSync(join(this.dir, "init.pid"), "utf8"));
  }

  private crictlRaw(args: string[]): Promise<RunResult> {
    return run([paths.crictl, "--config", join(this.dir, "crictl.yaml"), ...args]);
  }

  /** crictl against this daemon; a failure throws with its output. */
  async crictl(args: string[]): Promise<string> {
    const r = await this.crictlRaw(args);
    if (r.code !== 0) throw new CommandError(["crictl", ...args], r);
    return r.stdout;
  }

  /** ctr in the daemon's mount and PID namespaces (its fifos go to the private /run, /proc fits). */
  ctr(args: string[], namespace = "k8s.io"): Promise<RunResult> {
    const enter = ["nsenter", "-t", String(this.initPid), "-m", "-p", "--"];
    return run([...enter, "ctr", "-a", this.socket, "-n", namespace, ...args]);
  }

  /** Loads an OCI (or docker) archive; returns the image names it held. */
  async importImage(archive: string): Promise<string[]> {
    const r = await this.ctr(["images", "import", "--snapshotter", this.snapshotter, archive]);
    if (r.code !== 0) throw new CommandError(["ctr", "images", "import", archive], r);
    return [...r.stdout.matchAll(/^unpacking (\S+) /gm)].map((m) => m[1]!);
  }

  /** `crictl runp`: a pod sandbox, networked by the CNI plugins of cniConfDir. */
  async runPod(spec: PodSpec): Promise<PodStatus> {
    const namespace = spec.namespace ?? "default";
    const uid = spec.uid ?? randomBytes(8).toString("hex");
    const config = {
      metadata: { name: spec.name, namespace, uid, attempt: spec.attempt ?? 0 },
      ...(spec.annotations ? { annotations: spec.annotations } : {}),
      // a hostNetwork pod shares the node's UTS namespace too: kubelet sets no hostname then
      ...(spec.hostNetwork ? {} : { hostname: spec.name }),
      log_directory: join(this.dir, "logs", `${namespace}_${spec.name}_${uid}`),
      linux: {
        cgroup_parent: `/${this.cgroup}`,
        // NamespaceMode NODE = 2: the node's network, as a hostNetwork pod
        ...(spec.hostNetwork ? { security_context: { namespace_options: { network: 2 } } } : {}),
      },
    };
    const file = join(this.dir, "tmp", `pod-${namespace}-${spec.name}-${uid}.json`);
    writeFileSync(file, JSON.stringify(config));
    const id = (await this.crictl(["runp", file])).trim();
    this.podConfigs.set(id, file);
    return this.inspectPod(id);
  }

  /**
   * A container in the pod, run to its end as kubelet runs an init container (`crictl create`
   * + `start`, then polled). `config` is a CRI ContainerConfig in crictl's JSON.
   */
  async runToCompletion(
    pod: PodStatus,
    config: Record<string, unknown>,
    timeoutMs = 60_000,
  ): Promise<{ exitCode: number; logs: string; spec: Record<string, any> }> {
    const id = await this.startContainer(pod, config);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const c = await this.inspectContainer(id);
      if (c.state === "CONTAINER_EXITED")
        return { exitCode: c.exitCode, logs: await this.containerLogs(id), spec: c.spec };
      if (Date.now() > deadline)
        throw new Error(`container ${id} in ${pod.name} still ${c.state} after ${timeoutMs} ms`);
      await Bun.sleep(50);
    }
  }

  /** `crictl create` + `start`: a container in the pod, as kubelet starts one; returns its id. */
  async startContainer(pod: PodStatus, config: Record<string, unknown>): Promise<string> {
    const podConfig = this.podConfigs.get(pod.id);
    if (!podConfig) throw new Error(`pod ${pod.id} was not made by this containerd`);
    const file = join(this.dir, "tmp", `container-${pod.id.slice(0, 12)}-${randomBytes(4).toString("hex")}.json`);
    writeFileSync(file, JSON.stringify(config));
    const id = (await this.crictl(["create", pod.id, file, podConfig])).trim();
    await this.crictl(["start", id]);
    return id;
  }

  /** A container's state, exit code, image, pid (in the daemon's PID namespace) and the OCI spec runc got. */
  async inspectContainer(
    id: string,
  ): Promise<{ state: string; exitCode: number; image: string; pid: number; spec: Record<string, any> }> {
    const { status, info } = JSON.parse(await this.crictl(["inspect", "-o", "json", id]));
    return {
      state: status.state,
      pid: info?.pid ?? 0,
      exitCode: status.exitCode,
      image: status.image?.image ?? "",
      spec: info?.runtimeSpec ?? {},
    };
  }

  /** stdout and stderr of a container, as `crictl logs` gives them. */
  async containerLogs(id: string): Promise<string> {
    const logs = await this.crictlRaw(["logs", id]);
    return logs.stdout + logs.stderr;
  }

  /** `crictl stop`: SIGTERM, then SIGKILL after the grace period, as kubelet stops a container. */
  async stopContainer(id: string, graceSeconds = 10): Promise<void> {
    await this.crictl(["stop", "--timeout", String(graceSeconds), id]);
  }

  async inspectPod(id: string): Promise<PodStatus> {
    const j = JSON.parse(await this.crictl(["inspectp", "-o", "json", id]));
    const { status, info } = j;
    const ns = (info?.runtimeSpec?.linux?.namespaces ?? []) as { type: string; path?: string }[];
    const runtimeNetns = ns.find((n) => n.type === "network")?.path ?? null;
    // under /var/run/netns (netnsAt "run") the file is the host's netns folder's
    const netns =
      runtimeNetns && this.netnsAt === "run" && runtimeNetns.startsWith("/var/run/netns/")
        ? join(Containerd.netnsDir(this.dir), basename(runtimeNetns))
        : runtimeNetns;
    return {
      id: status.id,
      name: status.metadata.name,
      namespace: status.metadata.namespace,
      uid: status.metadata.uid,
      state: status.state,
      ip: status.network?.ip ?? "",
      netns: netns && existsSync(netns) ? netns : null,
      runtimeNetns,
    };
  }

  async podIds(): Promise<string[]> {
    return (await this.crictl(["pods", "-q", "--no-trunc"])).split("\n").filter(Boolean);
  }

  async stopPod(id: string): Promise<void> {
    await this.crictl(["stopp", id]);
  }

  async removePod(id: string): Promise<void> {
    await this.crictl(["rmp", id]);
  }

  /** The pod's netns path; throws unless it is a live netns of this daemon's pods. */
  podNetns(pod: PodStatus): string {
    if (!pod.netns?.startsWith(`${Containerd.netnsDir(this.dir)}/`) || !existsSync(pod.netns))
      throw new Error(
        `pod ${pod.namespace}/${pod.name} (${pod.id}) has no live netns of this containerd (${pod.netns})`,
      );
    return pod.netns;
  }

  /** A command in a pod's network namespace (only pods of this daemon). */
  execInPod(pod: PodStatus, cmd: string[]): Promise<RunResult> {
    return run(["nsenter", `--net=${this.podNetns(pod)}`, "--", ...cmd]);
  }

  /**
   * Removes every sandbox (CNI DEL, netns gone), stops the daemon (its PID namespace takes the
   * shims and pauses along), unmounts what is left under its folder and deletes it.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    const problems: string[] = [];
    if (existsSync(this.socket)) {
      for (const id of await this.podIds().catch(() => [])) {
        await this.stopPod(id).catch((e) => problems.push(`stopp ${id}: ${(e as Error).message}`));
        await this.removePod(id).catch((e) => problems.push(`rmp ${id}: ${(e as Error).message}`));
      }
    }
    await this.proc?.stop(10_000);
    this.cleanupSync();
    if (problems.length > 0)
      throw new Error(`containerd for ${this.node.name} stopped, but removing its pods failed: ${problems.join("; ")}`);
  }

  private cleanupSync(): void {
    if (this.stopped) return;
    this.stopped = true;
    unmountUnder(this.dir);
    removeCgroups(this.cgroup);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function startContainerd(opts: StartContainerdOptions): Promise<Containerd> {
  return Containerd.start(opts);
}

/** A CNI bin folder for containerd (one folder): symlinks to the given plugin binaries. */
export function cniBinFolder(dir: string, plugins: string[]): string {
  mkdirSync(dir, { recursive: true });
  for (const p of plugins) symlinkSync(p, join(dir, basename(p)));
  return dir;
}

function fsType(dir: string): string {
  return spawnSync("findmnt", ["-no", "FSTYPE", "-T", dir], { encoding: "utf8" }).stdout?.trim() ?? "";
}

/** Host mounts under `dir` (deepest first): the shared netns folder and pod netns left in it. */
function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

function unmountUnder(dir: string): void {
  for (const m of mountsUnder(dir)) spawnSync("umount", ["-l", m]);
}

/** The named cgroup in every hierarchy (empty once the daemon's PID namespace is gone). */
function removeCgroups(name: string): void {
  for (const h of hierarchies()) removeCgroup(join(CGROUPS, h, name));
}

function hierarchies(): string[] {
  return existsSync(CGROUPS)
    ? readdirSync(CGROUPS, { withFileTypes: true })
        .filter((e) => !e.isFile())
        .map((e) => e.name)
    : [];
}

function removeCgroup(path: string): void {
  if (!existsSync(path)) return;
  for (const e of readdirSync(path, { withFileTypes: true })) if (e.isDirectory()) removeCgroup(join(path, e.name));
  try {
    rmdirSync(path);
  } catch {
    // still has processes (should not happen once the daemon is gone): leave it, do not fail
  }
}

/**
 * What a killed run leaves: the janitor deletes the folder but cannot unmount pod netns the host
 * sees, nor remove cgroups. Done here for folders and cgroups of test processes that are gone.
 */
export function sweepStaleContainerd(): void {
  const dead = (name: string) => {
    const m = OWNED.exec(name);
    if (!m) return false;
    try {
      process.kill(Number(m[1]), 0);
      return false;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code !== "EPERM";
    }
  };
  const tmp = tmpdir();
  const folders = new Set(mountsUnder(tmp).map((m) => m.slice(tmp.length + 1).split("/")[0] ?? ""));
  for (const f of [...folders].filter(dead)) {
    unmountUnder(join(tmp, f));
    rmSync(join(tmp, f), { recursive: true, force: true });
  }
  const groups = new Set(hierarchies().flatMap((h) => readdirSync(join(CGROUPS, h))));
  for (const g of [...groups].filter(dead)) removeCgroups(g);
}
