// The socket protocol's per-operation routes (curl inspects them; the exec shim's calls run the
// same checks in process, calls.test.ts): validation both ways, and error codes kept end to end.
import { describe, expect, test } from "bun:test";
import { callApi, CniCode, CniError, protocolHandler, type CniAgentApi } from "./protocol.ts";

const api: CniAgentApi = {
  add: async () => {
    throw new CniError(CniCode.TryAgainLater, "no idle IP", "3 IPs cooling down");
  },
  del: async () => ({ released: "10.0.1.5" }),
  check: async () => ({ ok: true as const }),
  gc: async () => ({ released: [] }),
  status: async () => ({ ready: "yes" }) as never,
  owner: async () => ({ owner: "delegate" as const, reason: "pod not annotated" }),
};
const handle = protocolHandler(api);
type Err = { error: { code: number; message: string; details?: string } };
const post = (path: string, body: unknown) =>
  handle(
    new Request(`http://agent${path}`, {
      method: "POST",
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
  );

describe("protocol", () => {
  test("a valid call is answered with the API's response", async () => {
    const r = await post("/v1/cni/del", { network: "vpc", containerId: "c1", ifname: "eth0" });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ released: "10.0.1.5" });
    const o = await post("/v1/cni/owner", { network: "vpc", containerId: "c1", ifname: "eth0", podName: "p" });
    expect(await o.json()).toEqual({ owner: "delegate", reason: "pod not annotated" });
  });
  test("a thrown CniError keeps its code, message and details end to end (503 for try-again)", async () => {
    const r = await post("/v1/cni/add", {
      network: "vpc",
      containerId: "c1",
      ifname: "eth0",
      netns: "/var/run/netns/p",
    });
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({ error: { code: 11, message: "no idle IP", details: "3 IPs cooling down" } });
  });
  test("invalid request bodies are 400 with code 7 or 6; a bad interface name is 4", async () => {
    const bad = await post("/v1/cni/add", { network: "vpc" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Err).error.code).toBe(7);
    const notJson = await post("/v1/cni/add", "{");
    expect(((await notJson.json()) as Err).error.code).toBe(6);
    const ifname = await post("/v1/cni/del", { network: "vpc", containerId: "c1", ifname: "eth0eth0eth0eth0" });
    expect(ifname.status).toBe(400);
    expect(((await ifname.json()) as Err).error).toMatchObject({
      code: 4,
      message: expect.stringContaining("eth0eth0eth0eth0"),
    });
  });
  test("unknown route is 404 and names the routes; another verb is 405", async () => {
    const r = await post("/v1/nope", {});
    expect(r.status).toBe(404);
    expect(((await r.json()) as Err).error.message).toContain("/v1/cni/add");
    const get = await handle(new Request("http://agent/v1/cni/status"));
    expect(get.status).toBe(405);
  });
  test("an API answer that does not match the protocol is the agent's failure (102, 500), not the pod's", async () => {
    const r = await post("/v1/cni/status", { network: "vpc" });
    expect(r.status).toBe(500);
    expect(((await r.json()) as Err).error.code).toBe(CniCode.AgentFailure);
    const e = await callApi(api, "status", { network: "vpc" }).catch((x) => x);
    expect(e).toBeInstanceOf(CniError);
    expect((e as CniError).code).toBe(CniCode.AgentFailure);
  });
});
