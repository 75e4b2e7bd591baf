// The switch-off sweep of the node namespace, without a kernel: observed state in, lines out.
import { describe, expect, test } from "bun:test";
import { planLeftoverRemoval } from "./leftovers.ts";
import type { Observed } from "./observe.ts";

describe("planLeftoverRemoval", () => {
  test("a clean node: nothing to remove", () => {
    const o: Observed = {
      links: [
        { ifindex: 1, ifname: "lo", link_type: "loopback" },
        { ifindex: 2, ifname: "eth0", address: "02:00:00:00:00:09", link_type: "ether" },
      ],
      routes: [{ dst: "default", gateway: "10.0.0.1", dev: "eth0" }],
      rules: [
        { priority: 0, table: "local" },
        { priority: 32766, table: "main" },
        { priority: 32767, table: "default" },
      ],
    };
    expect(planLeftoverRemoval(o, 2000)).toEqual({ lines: [], removed: [] });
  });

  test("removes vpccni's rules, ENI tables (routes out of link N in table N + base) and veths; leaves others alone", () => {
    const o: Observed = {
      links: [
        { ifindex: 2, ifname: "eth0", link_type: "ether" },
        { ifindex: 3, ifname: "eth1", link_type: "ether" },
        { ifindex: 9, ifname: "vpc0123456789ab", link_type: "ether", ifalias: "vpccni vpccni c1 eth0" },
        { ifindex: 10, ifname: "cali1234", link_type: "ether" },
      ],
      routes: [
        { dst: "default", gateway: "10.0.1.1", dev: "eth1", table: "2003" }, // eth1's ENI table
        { dst: "default", gateway: "10.9.0.1", dev: "eth0", table: "2003" }, // (same table)
        { dst: "default", gateway: "10.0.1.1", dev: "eth0", table: "2005" }, // no link 5: not ENI-shaped
        { dst: "default", gateway: "10.7.0.1", dev: "eth0", table: "2010" }, // link 10 is cali: not ours
        { dst: "default", gateway: "10.7.0.1", dev: "eth0", table: "100" }, // below the base
        { type: "prohibit", dst: "169.254.0.23", table: "2003" }, // flushed with its table
        { type: "prohibit", dst: "169.254.0.23", table: "2007" }, // the metadata block of a gone ENI
        { type: "prohibit", dst: "169.254.0.24", table: "2008" }, // not the metadata service
        { type: "prohibit", dst: "169.254.0.23", table: "100" }, // below the base
      ],
      rules: [
        { priority: 512, dst: "10.0.1.5", table: "main" },
        { priority: 1536, src: "10.0.1.5", table: "2003" },
        { priority: 1536, src: "10.0.1.0", srclen: 24, table: "2003" }, // not a pod's /32
        { priority: 100, src: "10.0.1.6", table: "2003" }, // another priority
      ],
    };
    expect(planLeftoverRemoval(o, 2000).lines).toEqual([
      "rule del to 10.0.1.5/32 lookup main pref 512",
      "rule del from 10.0.1.5/32 lookup 2003 pref 1536",
      "route flush table 2003",
      "route del prohibit 169.254.0.23/32 table 2007",
      "link del dev vpc0123456789ab",
    ]);
  });
});
