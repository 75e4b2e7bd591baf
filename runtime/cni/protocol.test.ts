// The socket protocol: the server handler and the client decoder agree, and both reject
// what does not match.
import { describe, expect, test } from "bun:test";
import { CniCode, CniError, decodeAnswer, protocolHandler, type CniAgentApi } from "./protocol.ts";

const api: CniAgentApi = {
  add: async () => {
    throw new CniError(CniCode.TryAgainLater, "no idle IP");
  },
  del: async () => ({ released: "10.0.1.5" }),
  check: async () => ({ ok: true as const }),
  gc: async () => ({ released: [] }),
  status: async () => ({ ready: true, idleIps: 1 }),
  owner: async () => ({ owner: "delegate" as const, reason: "pod not annotated" }),
};
const handle = protocolHandler(api);
type Err = { error: { code: number; message: string } };
const post = (path: string, body: unknown) =>
  handle(
    new Request(`http://agent${path}`, {
      method: "POST",
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
  );

describe("protocol", () => {
  test("a valid call round-trips through handler and decoder", async () => {
    const r = await post("/v1/cni/del", { network: "vpc", containerId: "c1", ifname: "eth0" });
    expect(decodeAnswer("del", r.status, await r.text())).toEqual({ released: "10.0.1.5" });
  });
  test("owner round-trips, and an owner the protocol does not know is the agent's failure", async () => {
    const r = await post("/v1/cni/owner", { network: "vpc", containerId: "c1", ifname: "eth0", podName: "p" });
    expect(decodeAnswer("owner", r.status, await r.text())).toEqual({ owner: "delegate", reason: "pod not annotated" });
    expect(() => decodeAnswer("owner", 200, JSON.stringify({ owner: "bridge", reason: "" }))).toThrow(
      "does not match vpccni-cni/1",
    );
  });
  test("a thrown CniError keeps its code end to end (503 for try-again)", async () => {
    const r = await post("/v1/cni/add", {
      network: "vpc",
      containerId: "c1",
      ifname: "eth0",
      netns: "/var/run/netns/p",
    });
    expect(r.status).toBe(503);
    expect(() => decodeAnswer("add", r.status, JSON.stringify({ error: { code: 11, message: "no idle IP" } }))).toThrow(
      "no idle IP",
    );
  });
  test("invalid request bodies are 400 with code 7 or 6", async () => {
    const bad = await post("/v1/cni/add", { network: "vpc" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Err).error.code).toBe(7);
    const notJson = await post("/v1/cni/add", "{");
    expect(((await notJson.json()) as Err).error.code).toBe(6);
  });
  test("unknown route is 404 and names the routes", async () => {
    const r = await post("/v1/nope", {});
    expect(r.status).toBe(404);
    expect(((await r.json()) as Err).error.message).toContain("/v1/cni/add");
  });
  test("an answer that does not match the protocol is the agent's failure (102), not the pod's", () => {
    try {
      decodeAnswer("status", 200, JSON.stringify({ ready: "yes" }));
      throw new Error("no throw");
    } catch (e) {
      expect((e as CniError).code).toBe(CniCode.AgentFailure);
    }
  });
});
