// The netlink module's own checks, without a kernel change: what it refuses before sending, and
// how a refusal reads. Wiring through it is tested in namespaces (test/dataplane).
import { describe, expect, test } from "bun:test";
import { ipBytes, macBytes, NetlinkError, Netlink, openNetns } from "./netlink.ts";

describe("netlink", () => {
  test("addresses are checked before any request is built", () => {
    expect([...ipBytes("10.0.1.5")]).toEqual([10, 0, 1, 5]);
    expect([...macBytes("0e:00:0A:ff:01:05")]).toEqual([0x0e, 0, 0x0a, 0xff, 1, 5]);
    for (const bad of ["10.0.1.256", "10.0.1", "10.0.1.5.6", "a.b.c.d", ""])
      expect(() => ipBytes(bad)).toThrow(`'${bad}' must be an IPv4 address`);
    for (const bad of ["0e:00:0a:ff:01", "0e-00-0a-ff-01-05", "zz:00:0a:ff:01:05"])
      expect(() => macBytes(bad)).toThrow(`MAC '${bad}' must look like`);
  });

  test("a refusal names the request and the kernel's reason", () => {
    expect(new NetlinkError("route add 169.254.1.1/32", 17).message).toBe(
      "netlink route add 169.254.1.1/32: File exists (errno 17)",
    );
    const gone = "/var/run/netns/vpccni-netlink-test-does-not-exist";
    expect(() => openNetns(gone)).toThrow(`netlink open ${gone}: No such file or directory (errno 2)`);
    expect(() => Netlink.open(gone)).toThrow(NetlinkError);
  });
});
