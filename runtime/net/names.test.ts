import { describe, expect, test } from "bun:test";
import { aliasFor, hostVethName, parseAlias, vethMacs } from "./names.ts";
import { ipPrefix, inNetns } from "./netns.ts";

const key = { network: "vpc", containerId: "abc123", ifname: "eth0" };

describe("veth names and MACs", () => {
  test("host veth name is 15 characters, stable, and differs per attachment", () => {
    expect(hostVethName(key)).toMatch(/^vpc[0-9a-f]{12}$/);
    expect(hostVethName(key)).toBe(hostVethName({ ...key }));
    expect(hostVethName({ ...key, ifname: "net1" })).not.toBe(hostVethName(key));
  });
  test("MACs are locally administered unicast and differ between ends", () => {
    const m = vethMacs(key);
    expect(m.host).toMatch(/^0e(:[0-9a-f]{2}){5}$/);
    expect(m.pod).toMatch(/^0a(:[0-9a-f]{2}){5}$/);
  });
  test("the alias round-trips the key and rejects values that would break it", () => {
    expect(parseAlias(aliasFor(key))).toEqual(key);
    expect(parseAlias("something else")).toBeUndefined();
    expect(() => aliasFor({ ...key, containerId: "a b" })).toThrow("containerId 'a b' must match");
  });
});

describe("netns targets", () => {
  test("own namespace, a name, a /var/run/netns path and any other path", () => {
    expect(ipPrefix(undefined)).toEqual(["ip"]);
    expect(ipPrefix("node1")).toEqual(["ip", "-n", "node1"]);
    // a pod's path: setns only, never `ip -n` (which unshares a mount namespace and mounts
    // sysfs, denied by containerd's default AppArmor profile); docs/security.md
    expect(ipPrefix("/var/run/netns/cni-1")).toEqual(["nsenter", "--net=/var/run/netns/cni-1", "ip"]);
    expect(ipPrefix("/run/netns/cni-1")).toEqual(["nsenter", "--net=/run/netns/cni-1", "ip"]);
    expect(ipPrefix("/proc/42/ns/net")).toEqual(["nsenter", "--net=/proc/42/ns/net", "ip"]);
    expect(inNetns("node1", ["sysctl", "-n", "x"])).toEqual([
      "nsenter",
      "--net=/var/run/netns/node1",
      "sysctl",
      "-n",
      "x",
    ]);
    expect(() => ipPrefix("bad name")).toThrow("netns 'bad name' must be an absolute path or a name");
  });
});
