// The data plane. A pod's wiring and unwiring (its veth aside) are rtnetlink requests from
// this process (netlink.ts); every other change is an `ip -batch -` (one process per namespace
// per operation), every read an `ip -json -batch -`. See docs/dataplane.md for why.
import { eniCommands, findEniLink, findEniLinks, metadataBlockRoute } from "./eni.ts";
import { Ip, tableOf, type LinkJson, type RouteJson } from "./iproute.ts";
import { assertTarget, type NetnsTarget, netnsPath } from "./netns.ts";
import { hostOf, observe, ruleDst, ruleSrc, wiredPods } from "./observe.ts";
import { hostVethName } from "./names.ts";
import { EEXIST, Netlink, NetlinkError } from "./netlink.ts";
import { isIpv4, linkDelLine, unwireRoutes, wire, wiringOf } from "./pod.ts";
import { planRepair } from "./repair.ts";
import { planLeftoverRemoval } from "./leftovers.ts";
import { describeSysctl, ensureSysctls, restoreSysctls, wantedSysctls } from "./sysctls.ts";
import { FROM_POD_PRIORITY, POD_GATEWAY, TO_POD_PRIORITY } from "./types.ts";
import type {
  DataPlane,
  DesiredState,
  EniLink,
  EniSpec,
  PodKey,
  PodSpec,
  PodWiring,
  RepairReport,
  SysctlChange,
} from "./types.ts";

export interface IprouteDataPlaneOptions {
  /** Node namespace; undefined = this process's own (the agent). */
  netns?: NetnsTarget;
  /** Route table number = ENI ifindex + this (PolicySpec dataPlane.routeTableBase, 2000). */
  routeTableBase?: number;
  /** PolicySpec dataPlane.manageRpFilter; false leaves rp_filter alone. */
  manageRpFilter?: boolean;
  /** PolicySpec dataPlane.podMetadataAccess; false (default): pods cannot reach 169.254.0.23. */
  podMetadataAccess?: boolean;
  /**
   * unwirePod returns once routes and rules are gone and deletes the host veth in the
   * background (default true): deleting a veth waits for an RCU grace period (15-40 ms
   * here), the pod's traffic has already stopped, and the runtime's netns deletion takes
   * the pair anyway (AWS VPC CNI does not delete it at all). settle() waits for them.
   */
  deferLinkDelete?: boolean;
}

export class IprouteDataPlane implements DataPlane {
  readonly node: Ip;
  readonly base: number;
  private readonly manageRpFilter: boolean;
  private readonly pendingLinks = new Map<string, Promise<void>>();
  /** rtnetlink in the node namespace, for wiring pods; opened at the first wiring. */
  private netlink: Netlink | undefined;

  constructor(private readonly opts: IprouteDataPlaneOptions = {}) {
    assertTarget(opts.netns);
    this.node = new Ip(opts.netns);
    this.base = opts.routeTableBase ?? 2000;
    this.manageRpFilter = opts.manageRpFilter ?? true;
  }

  private nodeNetlink(): Netlink {
    this.netlink ??= Netlink.open(netnsPath(this.opts.netns));
    return this.netlink;
  }

  /** Closes the netlink socket (agent shutdown); a later wiring opens another. */
  close(): void {
    this.netlink?.close();
    this.netlink = undefined;
  }

  ensureSysctls(primaryInterface: string, eniLinks: string[]): Promise<SysctlChange[]> {
    return ensureSysctls(this.opts.netns, this.wanted(primaryInterface, eniLinks));
  }

  restoreSysctls(changes: readonly SysctlChange[]): Promise<SysctlChange[]> {
    return restoreSysctls(this.opts.netns, changes);
  }

  async removeLeftovers(): Promise<string[]> {
    await this.settle();
    const plan = planLeftoverRemoval(await observe(this.node), this.base);
    await this.node.batchForce(plan.lines);
    return plan.removed;
  }

  async setupEni(eni: EniSpec): Promise<EniLink> {
    const link = await findEniLink(this.node, eni.mac, this.base);
    if (this.manageRpFilter)
      await ensureSysctls(this.opts.netns, new Map([[`net.ipv4.conf.${link.name}.rp_filter`, "0"]]));
    const block = !this.opts.podMetadataAccess;
    await this.node.batch(eniCommands(link, eni, block));
    if (!block) await this.node.batchForce([`route del ${metadataBlockRoute(link.table)}`]);
    return link;
  }

  async teardownEni(mac: string): Promise<void> {
    const [link] = await findEniLinks(this.node, [mac], this.base);
    if (link) await this.node.batchForce([`route flush table ${link.table}`]);
  }

  listEnis(macs: string[]): Promise<EniLink[]> {
    return findEniLinks(this.node, macs, this.base);
  }

  async wirePod(pod: PodSpec): Promise<PodWiring> {
    // a re-ADD of the same attachment must not race the deletion of its previous veth
    await this.pendingLinks.get(hostVethName(pod));
    try {
      return await this.wireOnce(pod);
    } catch (err) {
      // "File exists": leftovers hold a name. Either another attachment's veth, deleted in the
      // background, still holds eth0 in a reused netns, or a crash left rules, a route or the
      // veth for this IP. wireOnce() removed what is ours to remove; wait for deletions, retry once.
      if (!(err instanceof NetlinkError && err.errno === EEXIST)) throw err;
      await this.settle();
      return this.wireOnce(pod);
    }
  }

  private async wireOnce(pod: PodSpec): Promise<PodWiring> {
    try {
      return wire(this.nodeNetlink(), pod);
    } catch (err) {
      // all or nothing: a half-wired pod would pass traffic one way or shadow a later ADD
      try {
        if (isIpv4(pod.ip)) unwireRoutes(this.nodeNetlink(), pod.ip);
        await this.node.batchForce([linkDelLine(pod)]);
      } catch {
        // The wiring's own error is the one to report. A rule or veth left here is one no
        // desired pod explains, and the repair loop removes it within seconds.
      }
      throw err;
    }
  }

  async unwirePod(key: PodKey, ip?: string): Promise<void> {
    // The route and rules go at once, through netlink, whatever table the from-pod rule names.
    // (Not an IPv4 address: nothing was ever wired for it; the veth still goes.) A refusal is
    // thrown after the veth's deletion is under way, so that a retried DEL finds less to do.
    let refused: unknown;
    try {
      if (ip && isIpv4(ip)) unwireRoutes(this.nodeNetlink(), ip);
    } catch (error) {
      refused = error;
    }
    const veth = hostVethName(key);
    const done = (this.pendingLinks.get(veth) ?? Promise.resolve())
      .then(() => this.node.batchForce([linkDelLine(key)]))
      .finally(() => {
        if (this.pendingLinks.get(veth) === done) this.pendingLinks.delete(veth);
      });
    this.pendingLinks.set(veth, done);
    if (!(this.opts.deferLinkDelete ?? true)) await done;
    if (refused !== undefined) throw refused;
  }

  async settle(): Promise<void> {
    while (this.pendingLinks.size > 0) await Promise.all([...this.pendingLinks.values()]);
  }

  async checkPod(pod: PodSpec): Promise<string[]> {
    await this.settle();
    const w = wiringOf(pod);
    const problems: string[] = [];
    const o = await observe(this.node);
    const link = o.links.find((l) => l.ifname === w.hostVeth);
    if (!link) return [`host veth ${w.hostVeth} does not exist`];
    if (!(link.flags ?? []).includes("UP")) problems.push(`host veth ${w.hostVeth} is down`);
    if (!o.routes.some((r) => r.dev === w.hostVeth && tableOf(r.table) === "main" && hostOf(r.dst) === pod.ip))
      problems.push(`route ${pod.ip}/32 dev ${w.hostVeth} missing in main`);
    if (!o.rules.some((r) => r.priority === TO_POD_PRIORITY && ruleDst(r) === pod.ip && tableOf(r.table) === "main"))
      problems.push(`rule to ${pod.ip} lookup main (pref ${TO_POD_PRIORITY}) missing`);
    if (
      !o.rules.some(
        (r) => r.priority === FROM_POD_PRIORITY && ruleSrc(r) === pod.ip && String(r.table) === String(pod.table),
      )
    )
      problems.push(`rule from ${pod.ip} lookup ${pod.table} (pref ${FROM_POD_PRIORITY}) missing`);
    problems.push(...(await this.checkPodSide(pod, w)));
    return problems;
  }

  private async checkPodSide(pod: PodSpec, w: PodWiring): Promise<string[]> {
    const problems: string[] = [];
    // no `link show` in this batch: iproute2 keeps a flag from it that turns a later
    // `addr show` of the same batch into a link listing; `addr show` carries the MAC anyway
    const [addrs, routes, neigh] = await new Ip(pod.netns).jsonBatch<
      [
        (LinkJson & { addr_info?: { local: string; prefixlen: number }[] })[],
        RouteJson[],
        { dst: string; lladdr?: string; state?: string[] }[],
      ]
    >([`addr show dev ${pod.ifname}`, "route show", `neigh show dev ${pod.ifname}`]);
    if ((addrs[0]?.address ?? "").toLowerCase() !== w.podMac)
      problems.push(`${pod.ifname} in the pod has MAC ${addrs[0]?.address}, expected ${w.podMac}`);
    if (!(addrs[0]?.addr_info ?? []).some((a) => a.local === pod.ip && a.prefixlen === 32))
      problems.push(`${pod.ifname} in the pod lacks ${pod.ip}/32`);
    if (!routes.some((r) => r.dst === "default" && r.gateway === POD_GATEWAY))
      problems.push(`pod default route via ${POD_GATEWAY} missing`);
    if (
      !neigh.some(
        (n) =>
          n.dst === POD_GATEWAY &&
          (n.lladdr ?? "").toLowerCase() === w.hostMac &&
          (n.state ?? []).includes("PERMANENT"),
      )
    )
      problems.push(`pod neighbour ${POD_GATEWAY} -> ${w.hostMac} (permanent) missing`);
    return problems;
  }

  async listPods(): Promise<PodWiring[]> {
    await this.settle();
    return wiredPods(await observe(this.node));
  }

  async repair(wanted: DesiredState | (() => DesiredState)): Promise<RepairReport> {
    const fixed: string[] = [];
    const sysctls: SysctlChange[] = [];
    await this.settle();
    const o = await observe(this.node);
    const desired = typeof wanted === "function" ? wanted() : wanted;
    if (this.manageRpFilter) {
      const eniNames = o.links
        .filter((l) => desired.enis.some((e) => e.mac.toLowerCase() === (l.address ?? "").toLowerCase()))
        .map((l) => l.ifname);
      const changed = await ensureSysctls(this.opts.netns, this.wanted(desired.primaryInterface, eniNames));
      fixed.push(...changed.map(describeSysctl));
      sysctls.push(...changed);
    }
    const plan = planRepair(desired, o, this.base, !this.opts.podMetadataAccess);
    await this.node.batchForce(plan.lines);
    for (const pod of plan.rewire) {
      await this.unwirePod(pod, pod.ip);
      await this.wirePod(pod);
    }
    fixed.push(...plan.fixed, ...plan.missingEnis.map((m) => `ENI ${m} has no link on the node (not fixable here)`));
    return { fixed, sysctls };
  }

  private wanted(primary: string, enis: string[]): Map<string, string> {
    const all = wantedSysctls(primary, enis);
    if (!this.manageRpFilter) for (const k of [...all.keys()]) if (k.endsWith(".rp_filter")) all.delete(k);
    return all;
  }
}
