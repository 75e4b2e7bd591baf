// The pure judgement of pods gone without a DEL: netns absent twice, never within the grace
// period of an ADD, never on a path whose folder the agent cannot see.
import { describe, expect, test } from "bun:test";
import { gonePods, type GoneInput, netnsAnchor } from "./gone-pods.ts";

const MIN = 60_000;
const base = (over: Partial<GoneInput> = {}): GoneInput => ({
  attachments: [
    { key: "vpccni/old/eth0", netns: "/var/run/netns/cni-old", createdAt: 0 },
    { key: "vpccni/live/eth0", netns: "/var/run/netns/cni-live", createdAt: 0 },
  ],
  presence: { "/var/run/netns/cni-old": "absent", "/var/run/netns/cni-live": "present" },
  suspects: new Map(),
  now: 10 * MIN,
  graceMs: 25_000,
  confirmMs: 15_000,
  ...over,
});

describe("gonePods", () => {
  test("absent once: a suspect, nothing freed; absent again a pass later: freed", () => {
    const first = gonePods(base());
    expect(first).toEqual({ free: [], suspects: new Map([["vpccni/old/eth0", 10 * MIN]]) });
    // too soon after the first look (a retry, timer jitter): still only a suspect
    const early = gonePods(base({ suspects: first.suspects, now: 10 * MIN + 5_000 }));
    expect(early).toEqual({ free: [], suspects: new Map([["vpccni/old/eth0", 10 * MIN]]) });
    const second = gonePods(base({ suspects: first.suspects, now: 10 * MIN + 30_000 }));
    expect(second).toEqual({ free: ["vpccni/old/eth0"], suspects: new Map() });
  });

  test("an attachment within the grace period is never freed, however long its netns is absent", () => {
    const young = base({
      attachments: [{ key: "vpccni/new/eth0", netns: "/var/run/netns/cni-new", createdAt: 10 * MIN - 20_000 }],
      presence: { "/var/run/netns/cni-new": "absent" },
      suspects: new Map([["vpccni/new/eth0", 0]]),
    });
    expect(gonePods(young)).toEqual({ free: [], suspects: new Map() });
  });

  test("present again, or not judged (folder not visible): the suspicion is dropped", () => {
    const suspects = new Map([["vpccni/old/eth0", 9 * MIN]]);
    for (const presence of ["present", "unknown"] as const) {
      const d = gonePods(base({ suspects, presence: { "/var/run/netns/cni-old": presence } }));
      expect(d).toEqual({ free: [], suspects: new Map() });
    }
    // a netns the shell did not probe counts as unknown
    expect(gonePods(base({ suspects, presence: {} }))).toEqual({ free: [], suspects: new Map() });
  });

  test("a node after a reboot: every netns absent, each freed after its second look", () => {
    const attachments = Array.from({ length: 5 }, (_, i) => ({
      key: `vpccni/c${i}/eth0`,
      netns: `/var/run/netns/cni-${i}`,
      createdAt: 0,
    }));
    const presence = Object.fromEntries(attachments.map((a) => [a.netns, "absent" as const]));
    const first = gonePods(base({ attachments, presence }));
    expect(first.free).toEqual([]);
    expect(gonePods(base({ attachments, presence, suspects: first.suspects, now: 11 * MIN })).free).toEqual(
      attachments.map((a) => a.key),
    );
  });
});

describe("netnsAnchor", () => {
  test("the folder that must be visible for a missing path to mean removed", () => {
    expect(netnsAnchor("/var/run/netns/cni-1234")).toBe("/var/run/netns");
    expect(netnsAnchor("/run/netns/cni-1234")).toBe("/run/netns");
    expect(netnsAnchor("/proc/4242/ns/net")).toBe("/proc/self/ns/net");
    expect(netnsAnchor("/var/run/docker/netns/abc")).toBe("/var/run/docker/netns");
    for (const bad of ["", "netns/x", "/x", "/var/run/netns/../../etc", "/var/run/net ns/x"])
      expect(netnsAnchor(bad)).toBeNull();
  });
});
