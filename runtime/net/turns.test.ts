import { expect, test } from "bun:test";
import { Turns } from "./turns.ts";

const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

test("takers run one per turn of the event loop, in order, with timers and I/O between them", async () => {
  const turns = new Turns();
  const order: string[] = [];
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("ok") });
  try {
    setTimeout(() => order.push("timer"), 0);
    const answered = fetch(`http://127.0.0.1:${server.port}/`).then(() => order.push("fetch"));
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        await turns.take();
        busy(1); // a wiring's synchronous kernel work
        order.push(`w${i}`);
      }),
    );
    await answered;
    const takers = order.filter((x) => x.startsWith("w"));
    expect(takers).toEqual(Array.from({ length: 40 }, (_, i) => `w${i}`));
    // Held back by none of the 40 ms of work: each came in after a taker, not after all of them.
    expect(order.indexOf("timer")).toBeLessThan(5);
    expect(order.indexOf("fetch")).toBeLessThan(order.length - 1);
  } finally {
    server.stop(true);
  }
});
