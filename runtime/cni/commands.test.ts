// runCni with an injected agent: the CNI contract (codes, results, prevResult, GC/STATUS
// versions) without a kernel or a socket.
import { addAnswer } from "./answer-kit.ts";
import { describe, expect, test } from "bun:test";
import type { AgentCall } from "./commands.ts";
import { localHost } from "./host.ts";
import { makeTempDir } from "../../sandbox/janitor.ts";
import { runCni, type CniDeps } from "./commands.ts";
import { CniCode, CniError } from "./protocol.ts";

const answer = addAnswer();

function deps(
  handler: (op: string, body: unknown) => unknown,
  exists = true,
): CniDeps & { calls: [string, unknown][] } {
  const calls: [string, unknown][] = [];
  const agent = (() =>
    (async (op: string, body: unknown) => {
      calls.push([op, body]);
      return handler(op, body);
    }) as AgentCall) as CniDeps["agent"];
  const exec = async () => {
    throw new Error("no delegate in these tests");
  };
  return { agent, exists: () => exists, host: { ...localHost, exec }, calls };
}

const conf = (extra: object = {}) => JSON.stringify({ cniVersion: "1.1.0", name: "vpc", type: "vpccni", ...extra });
const env = {
  CNI_COMMAND: "ADD",
  CNI_CONTAINERID: "c1",
  CNI_NETNS: "/var/run/netns/p",
  CNI_IFNAME: "eth0",
  CNI_ARGS: "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=web-0",
};

describe("runCni", () => {
  test("ADD sends the key, netns and pod identity, and prints a 1.1.0 result", async () => {
    const d = deps(() => answer);
    const out = await runCni(env, conf(), d);
    expect(out.exitCode).toBe(0);
    expect(d.calls).toEqual([
      [
        "add",
        {
          network: "vpc",
          containerId: "c1",
          ifname: "eth0",
          netns: "/var/run/netns/p",
          podNamespace: "ns1",
          podName: "web-0",
        },
      ],
    ]);
    expect(JSON.parse(out.stdout)).toEqual({
      cniVersion: "1.1.0",
      interfaces: [
        { name: "vpc0123456789ab", mac: "0e:00:00:00:00:01" },
        { name: "eth0", mac: "0a:00:00:00:00:01", sandbox: "/var/run/netns/p" },
      ],
      ips: [{ address: "10.0.1.5/32", gateway: "169.254.1.1", interface: 1 }],
      routes: [{ dst: "0.0.0.0/0", gw: "169.254.1.1" }],
      dns: {},
    });
  });

  test("ADD after another plugin appends to its prevResult; result keeps the config's 1.0.0", async () => {
    const prev = {
      cniVersion: "1.0.0",
      interfaces: [{ name: "lo", mac: "00:00:00:00:00:00", sandbox: "/var/run/netns/p" }],
      ips: [],
      dns: { nameservers: ["10.0.0.10"] },
    };
    const out = JSON.parse(
      (
        await runCni(
          env,
          conf({ cniVersion: "1.0.0", prevResult: prev }),
          deps(() => answer),
        )
      ).stdout,
    );
    expect(out.cniVersion).toBe("1.0.0");
    expect(out.interfaces.map((i: { name: string }) => i.name)).toEqual(["lo", "vpc0123456789ab", "eth0"]);
    expect(out.ips).toEqual([{ address: "10.0.1.5/32", gateway: "169.254.1.1", interface: 2 }]);
    expect(out.dns).toEqual({ nameservers: ["10.0.0.10"] });
  });

  test("DEL needs no netns and succeeds with an empty CNI_NETNS", async () => {
    const d = deps(() => ({}), false);
    const out = await runCni({ ...env, CNI_COMMAND: "DEL", CNI_NETNS: "" }, conf(), d);
    expect(out).toEqual({ stdout: "", exitCode: 0 });
    expect(d.calls).toEqual([["del", { network: "vpc", containerId: "c1", ifname: "eth0", netns: undefined }]]);
  });

  test("CHECK sends the IP prevResult gave the sandbox interface", async () => {
    const d = deps(() => ({ ok: true }));
    const prev = {
      cniVersion: "1.1.0",
      interfaces: [
        { name: "vpcx", mac: "0e:00:00:00:00:01" },
        { name: "eth0", mac: "0a:00:00:00:00:01", sandbox: "/var/run/netns/p" },
      ],
      ips: [{ address: "10.0.1.5/32", interface: 1 }],
    };
    expect((await runCni({ ...env, CNI_COMMAND: "CHECK" }, conf({ prevResult: prev }), d)).exitCode).toBe(0);
    expect(d.calls[0]![1]).toMatchObject({ ip: "10.0.1.5" });
  });

  test("mixed mode: the owner question carries the pod's annotations as the runtime passed them", async () => {
    const delegate = { conflist: "/nonexistent/delegate.conflist", cacheDir: makeTempDir("cni-cache") };
    const owners = async (runtimeConfig?: object) => {
      const d = deps((op) => (op === "owner" ? { owner: "vpccni", reason: "test" } : answer));
      const out = await runCni(env, conf({ delegate, ...(runtimeConfig ? { runtimeConfig } : {}) }), d);
      expect(out.exitCode).toBe(0);
      return d.calls.filter(([op]) => op === "owner").map(([, body]) => body);
    };
    const ref = { network: "vpc", containerId: "c1", ifname: "eth0", podNamespace: "ns1", podName: "web-0" };
    const networks = { "tke.cloud.tencent.com/networks": "tke-route-eni" };
    expect(await owners({ "io.kubernetes.cri.pod-annotations": networks, portMappings: [] })).toEqual([
      { ...ref, podAnnotations: networks },
    ]);
    // containerd sends null for a pod without annotations: known to have none
    expect(await owners({ "io.kubernetes.cri.pod-annotations": null })).toEqual([{ ...ref, podAnnotations: {} }]);
    // nothing from the runtime: the agent is told nothing (and decides so)
    expect(await owners({ portMappings: [] })).toEqual([ref]);
    expect(await owners()).toEqual([ref]);
    // a value that is not annotations is the runtime's configuration error, named
    const d = deps(() => answer);
    const bad = await runCni(
      env,
      conf({ delegate, runtimeConfig: { "io.kubernetes.cri.pod-annotations": { a: 1 } } }),
      d,
    );
    expect(JSON.parse(bad.stdout)).toEqual({
      cniVersion: "1.1.0",
      code: CniCode.InvalidConfig,
      msg: 'runtimeConfig["io.kubernetes.cri.pod-annotations"]["a"] is 1; allowed: a string',
    });
    expect(d.calls).toEqual([]);
  });

  test("GC passes cni.dev/valid-attachments as containerId/ifname pairs", async () => {
    const d = deps(() => ({ released: [] }));
    await runCni(
      { CNI_COMMAND: "GC" },
      conf({ "cni.dev/valid-attachments": [{ containerID: "c1", ifname: "eth0" }] }),
      d,
    );
    expect(d.calls).toEqual([["gc", { network: "vpc", validAttachments: [{ containerId: "c1", ifname: "eth0" }] }]]);
  });

  test("STATUS: ready is success; not ready or unreachable is 50", async () => {
    expect(
      (
        await runCni(
          { CNI_COMMAND: "STATUS" },
          conf(),
          deps(() => ({ ready: true, idleIps: 3 })),
        )
      ).exitCode,
    ).toBe(0);
    const notReady = JSON.parse(
      (
        await runCni(
          { CNI_COMMAND: "STATUS" },
          conf(),
          deps(() => ({ ready: false, idleIps: 0, message: "pool empty" })),
        )
      ).stdout,
    );
    expect(notReady).toEqual({ cniVersion: "1.1.0", code: 50, msg: "node agent cannot assign an IP now: pool empty" });
    const down = JSON.parse(
      (
        await runCni(
          { CNI_COMMAND: "STATUS" },
          conf(),
          deps(() => {
            throw new CniError(CniCode.TryAgainLater, "connect refused");
          }),
        )
      ).stdout,
    );
    expect(down.code).toBe(50);
  });

  test("the agent's CNI error is printed with its code and details", async () => {
    const out = await runCni(
      env,
      conf(),
      deps(() => {
        throw new CniError(11, "no idle IP", "pool 0/10");
      }),
    );
    expect(out.exitCode).toBe(1);
    expect(JSON.parse(out.stdout)).toEqual({ cniVersion: "1.1.0", code: 11, msg: "no idle IP", details: "pool 0/10" });
  });

  test("bad CNI_ARGS is error 4 and the agent is never called", async () => {
    const d = deps(() => answer);
    const out = JSON.parse((await runCni({ ...env, CNI_ARGS: "novalue" }, conf(), d)).stdout);
    expect(out.code).toBe(4);
    expect(d.calls).toEqual([]);
  });
});
