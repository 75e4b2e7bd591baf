// Edges of the CNI side's checks and answers that the contract tests left open (found by
// bench/mutation.ts): each rule's boundary on both sides, and the exact words an operator reads.
import { describe, expect, test } from "bun:test";
import { addAnswer } from "./answer-kit.ts";
import { CALL_PATH, cniCalls, RESUME_PATH } from "./calls.ts";
import { type AgentCall, type CniDeps, runCni } from "./commands.ts";
import { MAX_STDIN_BYTES, need, parseCniArgs, parseNetConf, podAnnotationsOf, readEnv, socketOf } from "./config.ts";
import { localHost } from "./host.ts";
import {
  argumentProblem,
  callApi,
  checkRequest,
  type CniAgentApi,
  CniCode,
  CniError,
  DEFAULT_SOCKET,
  PROTOCOL,
  protocolHandler,
  routes,
  validIfname,
} from "./protocol.ts";
import { addResult, ipFromPrevResult } from "./result.ts";

const caught = (f: () => unknown): CniError => {
  try {
    f();
  } catch (e) {
    return e as CniError;
  }
  throw new Error("no error");
};

describe("the agent's argument rules", () => {
  test("pod names: DNS-1123 subdomains up to 253, with the exact refusal", () => {
    for (const ok of ["a", "a.b", "a-b", "a1.b-2", "a".repeat(253)])
      expect(argumentProblem({ podName: ok })).toBeNull();
    for (const bad of ["A", "-a", "a-", ".a", "a.", "a..b", "a_b", "a".repeat(254), "a.-b"]) {
      const e = argumentProblem({ podName: bad });
      expect(e?.code).toBe(CniCode.InvalidEnvironment);
      expect(e?.message).toBe(
        `K8S_POD_NAME ${JSON.stringify(bad)} is invalid; allowed: a DNS-1123 subdomain (a-z 0-9 - ., at most 253)`,
      );
    }
  });
  test("pod namespaces: DNS-1123 labels up to 63, with the exact refusal", () => {
    for (const ok of ["a", "a-b", "a1", "a".repeat(63)]) expect(argumentProblem({ podNamespace: ok })).toBeNull();
    for (const bad of ["a.b", "A", "-a", "a-", "a".repeat(64), "a_b"]) {
      expect(argumentProblem({ podNamespace: bad })?.message).toBe(
        `K8S_POD_NAMESPACE ${JSON.stringify(bad)} is invalid; allowed: a DNS-1123 label (a-z 0-9 -, at most 63)`,
      );
    }
  });
  test("interface names: 1 to 15, not . or .., in a GC's attachments too", () => {
    for (const ok of ["eth0", "a", "a".repeat(15), "x.y", "a_b-c"]) {
      expect(validIfname(ok)).toBe(true);
      expect(argumentProblem({ ifname: ok })).toBeNull();
    }
    for (const bad of [".", "..", "", "a".repeat(16), "a/b", "a b"]) {
      expect(validIfname(bad)).toBe(false);
      expect(argumentProblem({ ifname: bad })?.message).toBe(
        `CNI_IFNAME ${JSON.stringify(bad)} is invalid; allowed: 1 to 15 of A-Z a-z 0-9 _ . -, not . or ..`,
      );
    }
    expect(argumentProblem({ validAttachments: [{ ifname: "eth0" }, { ifname: ".." }] })?.message).toContain('".."');
    expect(argumentProblem({})).toBeNull();
  });
  test("the protocol's names, addresses and paths are matched whole", () => {
    const add = (over: object) =>
      routes.add.request.safeParse({ network: "vpc", containerId: "c1", ifname: "eth0", netns: "/n", ...over }).success;
    expect(add({})).toBe(true);
    for (const bad of [
      { network: "-v" },
      { network: "v!" },
      { containerId: "c1 " },
      { netns: "n/a" },
      { netns: "/a b" },
    ])
      expect(add(bad)).toBe(false);
    const answer = (over: object) => routes.add.response.safeParse({ ...addAnswer(), ...over }).success;
    expect(answer({})).toBe(true);
    for (const bad of [
      { ip: "x10.0.1.5" },
      { ip: "10.0.1.5x" },
      { eniMac: "x02:00:00:00:00:01" },
      { hostMac: "0e:00:00:00:00:01x" },
    ])
      expect(answer(bad)).toBe(false);
    expect(routes.check.response.safeParse({ ok: false }).success).toBe(false);
    expect(routes.check.response.safeParse({}).success).toBe(false);
    expect(routes.owner.response.safeParse({ owner: "bridge", reason: "" }).success).toBe(false);
    expect(routes.gc.response.safeParse({ released: [{ containerId: "c", ifname: "e", ip: "1.2.3" }] }).success).toBe(
      false,
    );
    expect(
      routes.gc.request.safeParse({ network: "v", validAttachments: [{ containerId: "-c", ifname: "e" }] }).success,
    ).toBe(false);
    expect(routes.status.request.safeParse({}).success).toBe(false);
    expect(
      routes.owner.request.safeParse({ network: "v", containerId: "c", ifname: "e", podAnnotations: { a: 1 } }).success,
    ).toBe(false);
    expect(DEFAULT_SOCKET).toBe("/run/vpccni/cni.sock");
    expect(PROTOCOL).toBe("vpccni-cni/1");
    expect(new CniError(1, "m").name).toBe("CniError");
  });
  test("checkRequest and callApi say which operation failed", async () => {
    expect(caught(() => checkRequest("del", { network: "v" })).message).toBe("del: invalid request");
    const boom = { del: async () => Promise.reject(new Error("disk gone")) } as unknown as CniAgentApi;
    const e = (await callApi(boom, "del", { network: "v", containerId: "c", ifname: "e" }).catch((x) => x)) as CniError;
    expect([e.code, e.message]).toEqual([CniCode.AgentFailure, "del failed: disk gone"]);
  });
  test("the routes' HTTP answers: status by code, and messages that name the route", async () => {
    const codes: Record<string, number> = { c1: 11, c2: 4, c3: 7 };
    const api = {
      del: async (r: { containerId: string }) => {
        throw new CniError(codes[r.containerId] ?? 102, "no");
      },
    } as unknown as CniAgentApi;
    const h = protocolHandler(api);
    const post = (path: string, body: string, method = "POST") =>
      h(new Request(`http://agent${path}`, { method, ...(method === "POST" ? { body } : {}) }));
    const del = (id: string) => post("/v1/cni/del", JSON.stringify({ network: "v", containerId: id, ifname: "e" }));
    expect((await del("c1")).status).toBe(503);
    expect((await del("c2")).status).toBe(400);
    expect((await del("c3")).status).toBe(500);
    const messageOf = async (r: Response) => ((await r.json()) as { error: { message: string } }).error.message;
    expect(await messageOf(await post("/v1/x", "{}"))).toBe(
      `no route /v1/x; routes: ${Object.values(routes)
        .map((r) => r.path)
        .join(", ")}`,
    );
    expect(await messageOf(await post("/v1/cni/del", "", "GET"))).toBe("del takes POST, got GET");
    expect(await messageOf(await post("/v1/cni/del", "{"))).toBe("del: request body is not JSON");
  });
});

describe("the network configuration and the environment", () => {
  const conf = (over: object = {}) => JSON.stringify({ cniVersion: "1.0.0", name: "vpc", type: "vpccni", ...over });
  test("names, socket and delegate paths are matched whole", () => {
    expect(parseNetConf(conf({ socket: "/s", delegate: { conflist: "/c", cacheDir: "/d" } })).socket).toBe("/s");
    for (const bad of [
      { name: "-v" },
      { name: "v!" },
      { socket: "s" },
      { socket: "/" },
      { socket: "/a b" },
      { socket: "x/s" },
      { delegate: { conflist: "c" } },
      { delegate: { conflist: "/a b" } },
      { delegate: { conflist: "/c", cacheDir: "d/" } },
      { delegate: { conflist: "/c", cacheDir: "/d e" } },
      { "cni.dev/valid-attachments": [{ containerID: "c" }] },
      { "cni.dev/valid-attachments": ["c"] },
    ]) {
      const e = caught(() => parseNetConf(conf(bad)));
      expect([e.code, e.message]).toEqual([CniCode.InvalidConfig, "invalid network configuration"]);
    }
  });
  test("stdin up to 1 MiB is read; one byte more is refused, by bytes, with the limit named", () => {
    const base = conf({ pad: "" });
    const at = conf({ pad: "x".repeat(MAX_STDIN_BYTES - Buffer.byteLength(base)) });
    expect(Buffer.byteLength(at)).toBe(MAX_STDIN_BYTES);
    expect(parseNetConf(at).name).toBe("vpc");
    const over = conf({ pad: "x".repeat(MAX_STDIN_BYTES - Buffer.byteLength(base) + 1) });
    const e = caught(() => parseNetConf(over));
    expect([e.code, e.message]).toEqual([
      CniCode.InvalidConfig,
      "network configuration on stdin is larger than 1048576 bytes",
    ]);
    expect(caught(() => parseNetConf("{")).message).toStartWith("network configuration on stdin is not JSON: ");
    expect(caught(() => parseNetConf(conf({ cniVersion: "0.3.1" }))).message).toBe(
      "cniVersion '0.3.1' is not supported; supported: 0.4.0, 1.0.0, 1.1.0",
    );
  });
  test("a configuration seen before is not parsed again: the same frozen answer; refusals are never kept", () => {
    const text = conf({ socket: "/run/memo.sock", delegate: { conflist: "/c" } });
    const first = parseNetConf(text);
    expect(parseNetConf(text)).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first.delegate)).toBe(true);
    expect(() => {
      (first as { socket?: string }).socket = "/elsewhere";
    }).toThrow();
    // Another text is another answer, even when it parses to the same.
    expect(parseNetConf(` ${text}`)).not.toBe(first);
    const bad = conf({ socket: "relative" });
    for (let i = 0; i < 2; i++) expect(caught(() => parseNetConf(bad)).code).toBe(CniCode.InvalidConfig);
    // Past 16 KiB a configuration is parsed each time (and not held).
    const big = conf({ pad: "x".repeat(17 * 1024) });
    expect(parseNetConf(big)).not.toBe(parseNetConf(big));
  });
  test("socket default, environment and the spec's error 4 with the variable's name", () => {
    expect(socketOf(parseNetConf(conf()))).toBe(DEFAULT_SOCKET);
    expect(socketOf(parseNetConf(conf({ socket: "/x.sock" })))).toBe("/x.sock");
    expect(caught(() => readEnv({})).message).toBe("CNI_COMMAND is not set");
    expect(readEnv({ CNI_COMMAND: "ADD", CNI_PATH: "" }).path).toBeUndefined();
    expect(readEnv({ CNI_COMMAND: "ADD", CNI_PATH: "/opt/cni/bin" }).path).toBe("/opt/cni/bin");
    expect(caught(() => need(undefined, "CNI_IFNAME")).message).toBe("CNI_IFNAME is not set");
    expect(caught(() => need("", "CNI_IFNAME")).code).toBe(CniCode.InvalidEnvironment);
    const long = "-".repeat(300);
    expect(caught(() => need(long, "CNI_CONTAINERID", /^a$/)).message).toBe(
      `CNI_CONTAINERID '${"-".repeat(200)}' must match /^a$/`,
    );
    expect(need("a", "X", /^a$/)).toBe("a");
  });
  test("CNI_ARGS: KEY=VALUE items, empty ones skipped, an empty key refused", () => {
    expect([...parseCniArgs(undefined)]).toEqual([]);
    expect([...parseCniArgs("a=b;;c=;d=e=f")]).toEqual([
      ["a", "b"],
      ["c", ""],
      ["d", "e=f"],
    ]);
    expect(caught(() => parseCniArgs("=v")).message).toBe("CNI_ARGS item '=v' must be KEY=VALUE");
    expect(caught(() => parseCniArgs(`k${"x".repeat(200)}`)).message).toBe(
      `CNI_ARGS item 'k${"x".repeat(99)}' must be KEY=VALUE`,
    );
  });
  test("pod annotations from runtimeConfig: absent, null, an object of strings; anything else named", () => {
    const cap = "io.kubernetes.cri.pod-annotations";
    const of = (rc?: object) => podAnnotationsOf(parseNetConf(conf(rc ? { runtimeConfig: rc } : {})));
    expect(of()).toBeUndefined();
    expect(of({ other: 1 })).toBeUndefined();
    expect(of({ [cap]: null })).toEqual({});
    expect(of({ [cap]: { a: "b" } })).toEqual({ a: "b" });
    expect(caught(() => of({ [cap]: ["a"] })).message).toBe(
      `runtimeConfig["${cap}"] is ["a"]; allowed: an object of annotation names to strings, or null`,
    );
    expect(caught(() => of({ [cap]: "x".repeat(200) })).message).toContain(`is "${"x".repeat(99)};`);
    expect(caught(() => of({ [cap]: { ["k".repeat(150)]: 1 } })).message).toBe(
      `runtimeConfig["${cap}"]["${"k".repeat(100)}"] is 1; allowed: a string`,
    );
  });
});

describe("results", () => {
  test("0.4.0 names the IP's version; later versions do not", () => {
    expect(addResult("0.4.0", "eth0", "/n", addAnswer()).ips[0]?.version).toBe("4");
    expect(addResult("1.0.0", "eth0", "/n", addAnswer()).ips[0]).not.toHaveProperty("version");
  });
  test("prevResult's IPv4 for the sandbox interface: by name and sandbox, index and family", () => {
    const prev = {
      interfaces: [
        { name: "eth0", mac: "m" }, // the node side's namesake, no sandbox
        { name: "eth0", sandbox: "/other" },
        { name: "eth1", sandbox: "/n" },
        { name: "eth0", sandbox: "/n" },
      ],
      ips: [
        { address: "10.0.0.1/32", interface: 0 },
        { address: "10.0.0.2/32", interface: 1 },
        { address: "fd00::3/128", interface: 3 },
        { address: "10.0.0.3/32", interface: 2 },
        { address: "10.0.0.4/32", interface: 3 },
      ],
    };
    expect(ipFromPrevResult(prev, "eth0", "/n")).toBe("10.0.0.4");
    expect(ipFromPrevResult(prev, "eth9", "/n")).toBeUndefined();
    expect(
      ipFromPrevResult(
        { interfaces: [{ name: "eth0", sandbox: "/n" }], ips: [{ address: "10.1.1.1/32", interface: 0 }] },
        "eth0",
        "/n",
      ),
    ).toBe("10.1.1.1");
    expect(ipFromPrevResult({ ips: [{ address: "10.1.1.1/32" }] }, "eth0", "/n")).toBeUndefined();
    expect(
      ipFromPrevResult(
        { interfaces: [{ name: "eth0", sandbox: "/n" }], ips: [{ address: "10.1.1/32", interface: 0 }] },
        "eth0",
        "/n",
      ),
    ).toBeUndefined();
    expect(ipFromPrevResult(undefined, "eth0", "/n")).toBeUndefined();
  });
});

describe("runCni's answers", () => {
  const asked: { op: string; body: unknown; opts: unknown }[] = [];
  let reply: (op: string) => unknown = () => ({});
  const deps: CniDeps = {
    agent: (opts) =>
      (async (op: string, body: unknown) => {
        asked.push({ op, body, opts });
        return reply(op);
      }) as AgentCall,
    exists: () => true,
    host: { ...localHost, exec: async () => ({ stdout: "", exitCode: 0 }) },
  };
  const env = { CNI_COMMAND: "ADD", CNI_CONTAINERID: "c1", CNI_NETNS: "/n", CNI_IFNAME: "eth0", CNI_PATH: "/b" };
  const conf = (over: object = {}) => JSON.stringify({ cniVersion: "1.1.0", name: "vpc", type: "vpccni", ...over });
  const run = async (e: object, c = conf()) => runCni({ ...env, ...e }, c, deps);
  const error = async (e: object, c = conf()) => JSON.parse((await run(e, c)).stdout) as Record<string, unknown>;

  test("VERSION, exactly", async () => {
    expect(await run({ CNI_COMMAND: "VERSION" }, "")).toEqual({
      stdout: JSON.stringify({ cniVersion: "1.1.0", supportedVersions: ["0.4.0", "1.0.0", "1.1.0"] }),
      exitCode: 0,
    });
  });
  test("errors: details kept, the version of the configuration, the command named and cut", async () => {
    reply = () => {
      throw new CniError(11, "no idle IP", "3 cooling");
    };
    expect(await error({}, conf({ cniVersion: "1.0.0" }))).toEqual({
      cniVersion: "1.0.0",
      code: 11,
      msg: "no idle IP",
      details: "3 cooling",
    });
    reply = () => {
      throw new CniError(11, "no idle IP");
    };
    expect(await error({})).not.toHaveProperty("details");
    expect((await error({ CNI_COMMAND: `X${"y".repeat(80)}` })).msg).toBe(
      `CNI_COMMAND 'X${"y".repeat(49)}' is not one of ADD, DEL, CHECK, GC, STATUS, VERSION`,
    );
    expect(await error({ CNI_COMMAND: "GC" }, conf({ cniVersion: "1.0.0" }))).toMatchObject({
      code: 1,
      msg: "GC needs cniVersion 1.1.0, the configuration says 1.0.0",
    });
    expect((await error({ CNI_COMMAND: "STATUS" }, conf({ cniVersion: "0.4.0" }))).msg).toBe(
      "STATUS needs cniVersion 1.1.0, the configuration says 0.4.0",
    );
    expect((await error({ CNI_COMMAND: "CHECK" })).msg).toBe("CHECK needs prevResult in the network configuration");
    expect(await error({ CNI_COMMAND: "CHECK" }, conf({ prevResult: { ips: [] } }))).toMatchObject({
      code: CniCode.CheckFailed,
      msg: "prevResult has no IPv4 address for eth0 in /n",
    });
  });
  test("the agent is asked on the configuration's socket, STATUS with its own wait", async () => {
    asked.length = 0;
    reply = (op) => (op === "status" ? { ready: false, idleIps: 2 } : addAnswer());
    expect((await error({ CNI_COMMAND: "STATUS" })).msg).toBe("node agent cannot assign an IP now: 2 idle IPs");
    reply = () => ({ ready: false, idleIps: 0, message: "subnet full" });
    expect((await error({ CNI_COMMAND: "STATUS" }, conf({ socket: "/s.sock", timeoutMs: 700 }))).msg).toBe(
      "node agent cannot assign an IP now: subnet full",
    );
    expect(asked.map((a) => a.opts)).toEqual([
      { socket: DEFAULT_SOCKET, timeoutMs: 2000 },
      { socket: "/s.sock", timeoutMs: 700 },
    ]);
    reply = () => {
      throw new Error("refused");
    };
    expect(await error({ CNI_COMMAND: "STATUS" })).toMatchObject({ code: 50, msg: "node agent unavailable: refused" });
  });
  test("ADD passes the pod's UID only when the runtime gave one; DEL and CHECK in default mode", async () => {
    asked.length = 0;
    reply = () => addAnswer();
    await run({ CNI_ARGS: "K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p" });
    await run({ CNI_ARGS: "K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p;K8S_POD_UID=u-1" });
    expect(asked.map((a) => a.body)).toEqual([
      { network: "vpc", containerId: "c1", ifname: "eth0", netns: "/n", podNamespace: "ns", podName: "p" },
      {
        network: "vpc",
        containerId: "c1",
        ifname: "eth0",
        netns: "/n",
        podNamespace: "ns",
        podName: "p",
        podUid: "u-1",
      },
    ]);
    reply = () => ({});
    expect(await run({ CNI_COMMAND: "DEL" })).toEqual({ stdout: "", exitCode: 0 });
    reply = () => {
      throw new CniError(CniCode.UnknownContainer, "no IP for it");
    };
    const prevResult = {
      interfaces: [{ name: "eth0", sandbox: "/n" }],
      ips: [{ address: "10.0.1.5/32", interface: 0 }],
    };
    expect(await error({ CNI_COMMAND: "CHECK" }, conf({ prevResult }))).toMatchObject({ code: 3, msg: "no IP for it" });
  });
});

describe("the shim's routes", () => {
  const api = {} as CniAgentApi;
  const serve = cniCalls(api);
  const post = async (path: string, body: string, method = "POST") => {
    const r = await serve(new Request(`http://agent${path}`, { method, ...(method === "POST" ? { body } : {}) }));
    if (!r) throw new Error("no route");
    return { status: r.status, error: ((await r.json()) as { error: { code: number; message: string } }).error };
  };
  test("variable names are matched whole, and the refusals say which route", async () => {
    for (const key of ["XCNI_A", "CNI_A-", "CNI_", "cni_a"]) {
      const r = await post(CALL_PATH, JSON.stringify({ env: { [key]: "v" }, stdin: "{}" }));
      expect([r.status, r.error.message]).toEqual([400, "call: invalid request"]);
    }
    expect(await post(CALL_PATH, "", "GET")).toEqual({ status: 405, error: { code: 7, message: "call takes POST" } });
    expect(await post(CALL_PATH, "{")).toEqual({
      status: 400,
      error: { code: 6, message: "call: request body is not JSON" },
    });
    const big = await post(CALL_PATH, "x".repeat((4 << 20) + 1));
    expect([big.status, big.error.message]).toEqual([413, `call: request body is larger than ${4 << 20} bytes`]);
    const unknown = await post(RESUME_PATH, JSON.stringify({ session: "nope", result: {} }));
    expect(unknown).toEqual({
      status: 404,
      error: {
        code: 11,
        message: "the agent holds no such call (it restarted, or waited too long for the plugin); try the call again",
      },
    });
    expect((await post(RESUME_PATH, JSON.stringify({ result: {} }))).error.message).toBe("resume: invalid request");
  });
});
