// The kernel parameters the product needs: rp_filter 0 on all, default, the primary
// interface and every ENI (replies to pods arrive on an ENI while the main table would send
// them out eth0, which strict reverse-path filtering drops), and forwarding on.
import { readSysctls, writeSysctls, type NetnsTarget } from "./netns.ts";
import type { SysctlChange } from "./types.ts";

export function wantedSysctls(primaryInterface: string, eniLinks: string[]): Map<string, string> {
  const want = new Map<string, string>([
    ["net.ipv4.ip_forward", "1"],
    ["net.ipv4.conf.all.rp_filter", "0"],
    ["net.ipv4.conf.default.rp_filter", "0"],
  ]);
  for (const dev of [primaryInterface, ...eniLinks]) {
    if (!/^[A-Za-z0-9_-]{1,15}$/.test(dev)) throw new Error(`interface name '${dev}' is not a valid link name`);
    want.set(`net.ipv4.conf.${dev}.rp_filter`, "0");
  }
  return want;
}

/** Writes only the values that differ; returns what it changed. */
export async function ensureSysctls(target: NetnsTarget, want: Map<string, string>): Promise<SysctlChange[]> {
  const have = await readSysctls(target, [...want.keys()]);
  const change = new Map<string, string>();
  const changes: SysctlChange[] = [];
  for (const [k, v] of want) {
    const cur = have.get(k);
    if (cur === undefined || cur === v) continue; // a missing key is a link that is gone
    change.set(k, v);
    changes.push({ key: k, before: cur, after: v });
  }
  await writeSysctls(target, change);
  return changes;
}

/**
 * Switching off: each sysctl vpccni changed goes back to its value from before, but only while
 * it still holds the value vpccni wrote (someone who changed it since has the last word; a key
 * whose link is gone is skipped). Returns what it wrote back.
 */
export async function restoreSysctls(target: NetnsTarget, changes: readonly SysctlChange[]): Promise<SysctlChange[]> {
  const have = await readSysctls(
    target,
    changes.map((c) => c.key),
  );
  const write = new Map<string, string>();
  const restored: SysctlChange[] = [];
  for (const c of changes) {
    if (have.get(c.key) !== c.after) continue;
    write.set(c.key, c.before);
    restored.push({ key: c.key, before: c.after, after: c.before });
  }
  await writeSysctls(target, write);
  return restored;
}

export function describeSysctl(c: SysctlChange): string {
  return `${c.key}: ${c.before} -> ${c.after}`;
}
