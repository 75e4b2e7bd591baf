// Drift repair, planned as a pure function of (desired, observed) so the rules are tested
// without a kernel: whatever the agent's state says should exist and the kernel lacks is
// re-created; rules and veths of ours that no desired pod explains are removed.
import { eniLinksByMac, isUp, missingEniRoutes } from "./eni.ts";
import { tableOf } from "./iproute.ts";
import { hostVethName, parseAlias } from "./names.ts";
import { hostOf, ruleDst, ruleSrc, type Observed } from "./observe.ts";
import { hostRouteLine } from "./pod.ts";
import { FROM_POD_PRIORITY, TO_POD_PRIORITY, type DesiredState, type PodSpec } from "./types.ts";

export interface RepairPlan {
  /** ip -batch lines, each independent (applied with -force so one failure stops nothing). */
  lines: string[];
  /** Pods whose veth is gone: they need a full re-wire (their netns lost eth0 too). */
  rewire: PodSpec[];
  /** Human-readable account of every change, in the order planned. */
  fixed: string[];
  /** ENIs the agent expects but the node does not have (not fixable here). */
  missingEnis: string[];
}

export function planRepair(desired: DesiredState, o: Observed, base: number, blockMetadata = true): RepairPlan {
  const plan: RepairPlan = { lines: [], rewire: [], fixed: [], missingEnis: [] };
  const add = (line: string, why: string) => {
    plan.lines.push(line);
    plan.fixed.push(why);
  };

  const links = eniLinksByMac(
    o.links,
    desired.enis.map((e) => e.mac),
    base,
  );
  for (const eni of desired.enis) {
    const link = links.find((l) => l.mac === eni.mac.toLowerCase());
    if (!link) {
      plan.missingEnis.push(eni.mac);
      continue;
    }
    const json = o.links.find((l) => l.ifindex === link.ifindex)!;
    for (const line of missingEniRoutes(link, eni, o.routes, isUp(json), blockMetadata))
      add(line, `${line} (ENI ${link.name})`);
  }

  // pods whose ADD or DEL is under way count as wanted: half done is not drift
  const wantIps = new Set([...desired.pods.map((p) => p.ip), ...(desired.leaveAlone?.ips ?? [])]);
  const wantVeths = new Set([...desired.pods.map((p) => hostVethName(p)), ...(desired.leaveAlone?.veths ?? [])]);
  for (const pod of desired.pods) {
    const veth = hostVethName(pod);
    const link = o.links.find((l) => l.ifname === veth);
    if (!link) {
      plan.rewire.push(pod);
      plan.fixed.push(`pod ${pod.containerId}/${pod.ifname}: veth ${veth} missing, re-wired`);
      continue;
    }
    if (!isUp(link)) add(`link set dev ${veth} up`, `veth ${veth} brought up`);
    if (!o.routes.some((r) => tableOf(r.table) === "main" && r.dev === veth && hostOf(r.dst) === pod.ip)) {
      add(hostRouteLine(pod.ip, veth), `route ${pod.ip}/32 dev ${veth} re-added`);
    }
    if (!o.rules.some((r) => r.priority === TO_POD_PRIORITY && ruleDst(r) === pod.ip && tableOf(r.table) === "main")) {
      add(`rule add to ${pod.ip}/32 lookup main pref ${TO_POD_PRIORITY}`, `rule to ${pod.ip} lookup main re-added`);
    }
    const from = o.rules.filter((r) => r.priority === FROM_POD_PRIORITY && ruleSrc(r) === pod.ip);
    for (const r of from.filter((r) => String(r.table) !== String(pod.table))) {
      add(
        `rule del from ${pod.ip}/32 lookup ${r.table} pref ${FROM_POD_PRIORITY}`,
        `stale rule from ${pod.ip} lookup ${r.table} removed`,
      );
    }
    if (!from.some((r) => String(r.table) === String(pod.table))) {
      add(
        `rule add from ${pod.ip}/32 lookup ${pod.table} pref ${FROM_POD_PRIORITY}`,
        `rule from ${pod.ip} lookup ${pod.table} re-added`,
      );
    }
  }

  for (const r of o.rules) {
    const ip = r.priority === TO_POD_PRIORITY ? ruleDst(r) : r.priority === FROM_POD_PRIORITY ? ruleSrc(r) : undefined;
    if (ip === undefined || wantIps.has(ip)) continue;
    const dir = r.priority === TO_POD_PRIORITY ? "to" : "from";
    add(
      `rule del ${dir} ${ip}/32 lookup ${r.table} pref ${r.priority}`,
      `stale rule ${dir} ${ip} lookup ${r.table} removed`,
    );
  }
  for (const l of o.links) {
    if (parseAlias(l.ifalias) && !wantVeths.has(l.ifname))
      add(`link del dev ${l.ifname}`, `stale veth ${l.ifname} removed`);
  }
  return plan;
}
