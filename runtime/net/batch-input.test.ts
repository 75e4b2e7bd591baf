// The `ip -batch` writer refuses a line with a control character before anything is written: a
// newline in a value (a subnet CIDR from the cloud, say) would start another command, and
// `ip -batch` runs programs (`netns exec`). The batches target a namespace that does not exist:
// had ip been started and fed, it would fail with its own error (NetCommandError) and change
// nothing on the test machine.
import { describe, expect, test } from "bun:test";
import { batchInput, Ip, UnsafeBatchLineError } from "./iproute.ts";

const NOWHERE = "vpccni-test-no-such-netns";

const BAD = [
  "route replace 10.2.16.0/22\nnetns exec x sh -c id dev eth1 table 2003",
  "addr add 10.2.16.5/32\r dev eth1",
  "route add 10.2.16.5\u0000 dev eth1",
  "rule add from 10.2.16.5\t table 2003",
  "rule add from 10.2.16.5\u007f table 2003",
  "rule add from 10.2.16.5\u001b[2J table 2003",
];

describe("ip -batch input", () => {
  test("printable lines pass, one per line", () => {
    expect(batchInput(["link set eth1 up", "route replace default via 10.2.16.1 dev eth1 table 2003"])).toBe(
      "link set eth1 up\nroute replace default via 10.2.16.1 dev eth1 table 2003\n",
    );
  });

  test("any control character refuses the batch, naming the line, JSON-escaped", () => {
    for (const line of BAD) {
      const e = (() => {
        try {
          batchInput(["link set eth1 up", line]);
        } catch (err) {
          return err;
        }
      })();
      expect(e).toBeInstanceOf(UnsafeBatchLineError);
      expect((e as Error).message).toStartWith(
        `line 2 of an ip -batch input holds a control character: ${JSON.stringify(line)}; allowed: printable characters only`,
      );
    }
  });

  test("batch, batchForce and jsonBatch refuse before ip is fed", async () => {
    const ip = new Ip(NOWHERE);
    for (const line of BAD) {
      const calls: [string, () => Promise<unknown>][] = [
        ["batch", () => ip.batch(["link set eth1 up", line])],
        ["batchForce", () => ip.batchForce(["link set eth1 up", line])],
        ["jsonBatch", () => ip.jsonBatch(["link show", line])],
      ];
      for (const [name, call] of calls) {
        const outcome = await call().then(
          () => "ran",
          (e: unknown) => (e as Error).name,
        );
        expect({ name, outcome }).toEqual({ name, outcome: "UnsafeBatchLineError" });
      }
    }
    // Printable lines do reach ip (which fails on the missing namespace).
    const good = await ip.batch(["link set eth1 up"]).then(
      () => "ran",
      (e: unknown) => (e as Error).name,
    );
    expect(good).toBe("NetCommandError");
  });
});
