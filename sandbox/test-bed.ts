// The network test bed: a `vpc` namespace routes between node namespaces (each node's
// eth0 is a veth to it) and pods are namespaces of their own. Every command runs inside a
// namespace this file created (`ip -n NS`, `ip netns exec NS`); veth pairs are created
// inside namespaces, so no device, route or sysctl of the host is ever touched.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { requireNetns, requirePing } from "./prereq.ts";
import { onProcessExit } from "./process.ts";
import { ensureJanitor, netnsPrefix } from "./janitor.ts";
import { batchInput } from "../runtime/net/iproute.ts";
import { run, runOk, type RunOptions, type RunResult } from "./exec.ts";
import { nthAddress, parseCidr, type Cidr } from "./ipv4.ts";

/** All test-bed namespaces are named `vpccni-t<pid>x<random>-<short name>` (janitor.ts). */
const NAME = /^vpccni-t(\d+)x[0-9a-f]+-/;

export interface TestBedOptions {
  /** Subnet of the node eth0s (the VPC subnet). Default 10.231.0.0/24. */
  subnet?: string;
}

export interface NodeNs {
  /** Short name, e.g. "n1"; the vpc-side peer of eth0 is `<name>-eth0`. */
  name: string;
  /** Network namespace name. */
  ns: string;
  /** eth0 address (without prefix length). */
  ip: string;
  /** The vpc-side interface of eth0. */
  vpcPeer: string;
}

export interface PodNs {
  name: string;
  ns: string;
  /** /var/run/netns/<ns>, what CNI calls the netns path. */
  path: string;
}

export interface VethOptions {
  /** MAC of the A side (e.g. an ENI's MAC). */
  mac?: string;
  peerMac?: string;
  /** Bring both ends up. Default true. */
  up?: boolean;
}

export class TestBed {
  readonly id: string;
  /** The VPC router namespace. */
  readonly vpc: string;
  readonly subnet: Cidr;
  /** The VPC gateway address nodes route through (held by the vpc namespace). */
  readonly gateway: string;
  readonly nodes: NodeNs[] = [];
  readonly pods: PodNs[] = [];
  private readonly owned: string[] = [];
  private destroyed = false;

  private constructor(opts: TestBedOptions) {
    this.id = `${netnsPrefix()}${randomBytes(3).toString("hex")}`;
    this.vpc = `${this.id}-vpc`;
    this.subnet = parseCidr(opts.subnet ?? "10.231.0.0/24");
    this.gateway = nthAddress(this.subnet, 1);
  }

  static async create(opts: TestBedOptions = {}): Promise<TestBed> {
    requireNetns();
    await sweepStaleNamespaces();
    const bed = new TestBed(opts);
    ensureJanitor();
    onProcessExit(() => bed.destroySync());
    try {
      await bed.addNamespace("vpc");
      // the VPC router answers ARP for the whole subnet (proxy ARP on each port, like a
      // cloud VPC) and owns the gateway address
      await bed.ip(bed.vpc, "addr", "add", `${bed.gateway}/32`, "dev", "lo");
      await bed.sysctl(bed.vpc, "net.ipv4.ip_forward", "1");
      // Every port of the router, the ENIs' included (sandbox/vpc-fabric.ts), checks no source
      // path (a cloud VPC does its own anti-spoofing) and answers ARP for the whole subnet.
      await bed.sysctls(bed.vpc, [
        ["net.ipv4.conf.all.rp_filter", "0"],
        ["net.ipv4.conf.default.rp_filter", "0"],
        ["net.ipv4.conf.default.proxy_arp", "1"],
      ]);
    } catch (err) {
      await bed.destroy();
      throw err;
    }
    return bed;
  }

  /** Creates a namespace `<id>-<short>` with lo up, owned (and deleted) by this bed. */
  async addNamespace(short: string): Promise<string> {
    if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(short))
      throw new Error(`namespace short name '${short}' must match [a-z0-9][a-z0-9-]{0,30}`);
    const ns = `${this.id}-${short}`;
    await runOk(["ip", "netns", "add", ns]);
    this.owned.push(ns);
    await this.ip(ns, "link", "set", "lo", "up");
    return ns;
  }

  /** A node: namespace `<id>-<name>` whose eth0 is a veth to the vpc namespace. */
  async addNode(opts: { name?: string; ip?: string; mac?: string } = {}): Promise<NodeNs> {
    const index = this.nodes.length + 1;
    const name = opts.name ?? `n${index}`;
    const ip = opts.ip ?? nthAddress(this.subnet, 10 + index);
    const vpcPeer = `${name}-eth0`;
    const ns = await this.addNamespace(name);
    await this.addVethPair(ns, "eth0", this.vpc, vpcPeer, { mac: opts.mac });
    await this.ip(ns, "addr", "add", `${ip}/${this.subnet.prefix}`, "dev", "eth0");
    await this.ip(ns, "route", "add", "default", "via", this.gateway, "dev", "eth0");
    await this.ip(this.vpc, "route", "add", `${ip}/32`, "dev", vpcPeer);
    await this.sysctl(this.vpc, `net.ipv4.conf.${vpcPeer}.proxy_arp`, "1");
    const node = { name, ns, ip, vpcPeer };
    this.nodes.push(node);
    return node;
  }

  /** A pod namespace with only lo (up); wiring it is the job of the CNI under test. */
  async addPod(opts: { name?: string } = {}): Promise<PodNs> {
    const name = opts.name ?? `p${this.pods.length + 1}`;
    const ns = await this.addNamespace(name);
    const pod = { name, ns, path: `/var/run/netns/${ns}` };
    this.pods.push(pod);
    return pod;
  }

  /**
   * Deletes a pod namespace, as a container runtime does when the sandbox goes: its
   * /var/run/netns path disappears and whatever ran inside is killed.
   */
  async removePod(pod: PodNs): Promise<void> {
    this.assertOwned(pod.ns);
    deleteNamespaceSync(pod.ns);
    this.owned.splice(this.owned.indexOf(pod.ns), 1);
    const i = this.pods.findIndex((p) => p.ns === pod.ns);
    if (i >= 0) this.pods.splice(i, 1);
  }

  /**
   * A veth pair with one end in each namespace, created inside nsA (the peer is moved
   * to nsB by the kernel as it is created), so it never exists in the host namespace.
   */
  async addVethPair(nsA: string, nameA: string, nsB: string, nameB: string, opts: VethOptions = {}): Promise<void> {
    for (const n of [nameA, nameB]) {
      if (n.length > 15) throw new Error(`interface name '${n}' is ${n.length} characters; Linux allows 15`);
    }
    this.assertOwned(nsA);
    this.assertOwned(nsB);
    const a = ["link", "add", nameA, ...(opts.mac ? ["address", opts.mac] : [])];
    const b = ["peer", "name", nameB, ...(opts.peerMac ? ["address", opts.peerMac] : []), "netns", nsB];
    await this.ip(nsA, ...a, "type", "veth", ...b);
    if (opts.up ?? true) {
      await this.ip(nsA, "link", "set", nameA, "up");
      await this.ip(nsB, "link", "set", nameB, "up");
    }
  }

  /** `ip -n NS ARGS...`; throws on failure. */
  ip(ns: string, ...args: string[]): Promise<string> {
    this.assertOwned(ns);
    return runOk(["ip", "-n", ns, ...args]);
  }

  /**
   * `ip -n NS -batch -`: many commands in one process (one spawn instead of one each). Throws on
   * the first failing line, unless `force` (then every line runs, and failures are ignored).
   */
  async ipBatch(ns: string, lines: string[], force = false): Promise<void> {
    this.assertOwned(ns);
    if (lines.length === 0) return;
    const input = batchInput(lines);
    if (force) await run(["ip", "-n", ns, "-force", "-batch", "-"], { input });
    else await runOk(["ip", "-n", ns, "-batch", "-"], { input });
  }

  /** Runs a command inside a namespace of this bed. */
  exec(ns: string, cmd: string[], opts?: RunOptions): Promise<RunResult> {
    this.assertOwned(ns);
    // The bed itself needs no ping; the tests that use it get a clear prerequisite failure.
    if (cmd[0] === "ping") requirePing();
    return run(["ip", "netns", "exec", ns, ...cmd], opts);
  }

  /** Like exec(), but a non-zero exit throws. */
  execOk(ns: string, cmd: string[], opts?: RunOptions): Promise<string> {
    this.assertOwned(ns);
    if (cmd[0] === "ping") requirePing();
    return runOk(["ip", "netns", "exec", ns, ...cmd], opts);
  }

  /** Sets a sysctl of the namespace (never the host's). */
  async sysctl(ns: string, key: string, value: string): Promise<void> {
    await this.sysctls(ns, [[key, value]]);
  }

  /** Sets sysctls of the namespace, in one process. */
  async sysctls(ns: string, settings: [key: string, value: string][]): Promise<void> {
    // Written through /proc/sys with sh (no procps needed); inside `ip netns exec` the
    // net.* files are the namespace's own.
    const args = settings.flatMap(([key, value]) => [value, `/proc/sys/${key.replaceAll(".", "/")}`]);
    const script = 'while [ $# -gt 0 ]; do printf "%s\\n" "$1" > "$2" || exit 1; shift 2; done';
    await this.execOk(ns, ["sh", "-c", script, "sh", ...args]);
  }

  /** Deletes every namespace of the bed (and with them their devices), killing what runs inside. */
  async destroy(): Promise<void> {
    this.destroySync();
  }

  private destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const ns of this.owned.reverse()) deleteNamespaceSync(ns);
  }

  /** Throws unless `ns` is a namespace of this bed. */
  assertOwned(ns: string): void {
    // a typo must not run a command in (or against) the host namespace or another test's
    if (!this.owned.includes(ns)) throw new Error(`namespace '${ns}' does not belong to test bed ${this.id}`);
  }
}

export function createTestBed(opts?: TestBedOptions): Promise<TestBed> {
  return TestBed.create(opts);
}

function deleteNamespaceSync(ns: string): void {
  const pids = spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8" });
  for (const pid of (pids.stdout ?? "").split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // already gone
    }
  }
  spawnSync("ip", ["netns", "del", ns], { encoding: "utf8" });
}

export function listNamespaces(): string[] {
  const out = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout ?? "";
  return out
    .split("\n")
    .map((l) => l.split(" ")[0] ?? "")
    .filter(Boolean);
}

/**
 * Deletes test-bed namespaces left by a run that was killed: the pid in their name is
 * no longer alive. Namespaces of a live test process (another suite side by side) stay.
 */
export async function sweepStaleNamespaces(): Promise<string[]> {
  const swept: string[] = [];
  for (const ns of listNamespaces()) {
    const m = NAME.exec(ns);
    if (!m || pidAlive(Number(m[1]))) continue;
    deleteNamespaceSync(ns);
    swept.push(ns);
  }
  return swept;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
