// Bad input to the compiled binary: each gets the CNI spec's error code on stdout, exit 1,
// and leaves no partial state (no veth, no rule, no IP taken from the agent).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PodNs } from "../../sandbox/test-bed.ts";
import { execCni, makeRig, requireDataPlaneTools, vpccniPlugin, type CniRig } from "./cni-kit.ts";
import { startStubAgent, type StubAgent } from "./stub-agent-kit.ts";
import { makeEniBed, type EniBed } from "./eni-bed-kit.ts";

let w: EniBed;
let rig: CniRig;
let agent: StubAgent;
let pod: PodNs;
const IPS = ["10.231.8.101", "10.231.8.102"];

beforeAll(async () => {
  requireDataPlaneTools();
  w = await makeEniBed(1);
  rig = await makeRig();
  await w.fabric.onAssign(w.nodes[0]!.eni, IPS);
  agent = startStubAgent({
    socket: rig.socket,
    dp: w.nodes[0]!.dp,
    eniMac: w.nodes[0]!.eni.mac,
    table: w.nodes[0]!.link.table,
    ips: IPS,
  });
  pod = await w.bed.addPod({ name: "p" });
}, 60_000);

afterAll(async () => {
  await agent?.stop();
  await w?.bed.destroy();
  rig?.remove();
});

const good = () => ({ cniVersion: "1.1.0", name: "vpc", ...vpccniPlugin(rig) });
const env = (over: Record<string, string | undefined> = {}) => {
  const base: Record<string, string | undefined> = {
    CNI_COMMAND: "ADD",
    CNI_CONTAINERID: "c1",
    CNI_NETNS: pod.path,
    CNI_IFNAME: "eth0",
    CNI_PATH: "/",
    ...over,
  };
  return Object.fromEntries(Object.entries(base).filter(([, v]) => v !== undefined)) as Record<string, string>;
};

async function expectError(stdin: string, e: Record<string, string>, code: number, msg: RegExp) {
  const r = await execCni(w.bed, w.nodes[0]!.node, rig, stdin, e);
  expect(r.code).toBe(1);
  const out = JSON.parse(r.stdout);
  expect(out.code).toBe(code);
  expect(out.msg).toMatch(msg);
  // no partial state
  expect(await w.nodes[0]!.dp.listPods()).toEqual([]);
  expect(await w.bed.ip(w.nodes[0]!.node.ns, "rule", "show")).not.toContain("10.231.8.10");
  expect(agent.free.length).toBe(IPS.length);
  expect(await w.bed.ip(pod.ns, "-o", "link", "show")).not.toContain("eth0");
}

describe("vpccni rejects bad calls with spec error codes and no partial state", () => {
  test("VERSION lists 0.4.0, 1.0.0 and 1.1.0", async () => {
    const r = await execCni(w.bed, w.nodes[0]!.node, rig, "", { CNI_COMMAND: "VERSION" });
    expect(JSON.parse(r.stdout)).toEqual({ cniVersion: "1.1.0", supportedVersions: ["0.4.0", "1.0.0", "1.1.0"] });
  });
  test("DEL of an attachment the agent never saw succeeds with empty output, netns gone or not", async () => {
    for (const netns of [pod.path, "/var/run/netns/vpccni-no-such-ns", undefined]) {
      const r = await execCni(
        w.bed,
        w.nodes[0]!.node,
        rig,
        JSON.stringify(good()),
        env({ CNI_COMMAND: "DEL", CNI_CONTAINERID: "never-added", CNI_NETNS: netns }),
      );
      expect(r).toEqual({ code: 0, stdout: "", stderr: "" });
    }
  });
  test("a .env in the runtime's working directory is not read", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vpccni-cwd-"));
    try {
      writeFileSync(join(dir, ".env"), "CNI_COMMAND=VERSION\n");
      const r = await w.bed.exec(w.nodes[0]!.node.ns, ["env", "-i", join(rig.binDir, "vpccni")], {
        input: JSON.stringify(good()),
        cwd: dir,
      });
      expect(JSON.parse(r.stdout)).toMatchObject({ code: 4, msg: "required env variables [CNI_COMMAND] missing" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  test("malformed stdin: 6", () => expectError('{"cniVersion": ', env(), 6, /error unmarshall network config/));
  test("empty stdin: 6", () => expectError("", env(), 6, /error unmarshall network config/));
  test("config without name: 7", () =>
    expectError(JSON.stringify({ cniVersion: "1.1.0", type: "vpccni" }), env(), 7, /missing network name/));
  test("unsupported cniVersion: 1", () =>
    expectError(JSON.stringify({ ...good(), cniVersion: "0.3.1" }), env(), 1, /incompatible CNI versions/));
  test("oversized stdin (over 1 MiB): 7", () =>
    expectError(
      JSON.stringify({ ...good(), pad: "x".repeat(1.5 * 1024 * 1024) }),
      env(),
      7,
      /larger than 1048576 bytes/,
    ));
  test("missing CNI_COMMAND: 4", () =>
    expectError(JSON.stringify(good()), env({ CNI_COMMAND: undefined }), 4, /\[CNI_COMMAND\] missing/));
  test("unknown CNI_COMMAND: 4", () =>
    expectError(JSON.stringify(good()), env({ CNI_COMMAND: "FROB" }), 4, /unknown CNI_COMMAND: FROB/));
  test("missing CNI_CONTAINERID: 4", () =>
    expectError(JSON.stringify(good()), env({ CNI_CONTAINERID: undefined }), 4, /\[CNI_CONTAINERID\] missing/));
  test("missing CNI_IFNAME: 4", () =>
    expectError(JSON.stringify(good()), env({ CNI_IFNAME: undefined }), 4, /\[CNI_IFNAME\] missing/));
  test("missing CNI_NETNS: 4", () =>
    expectError(JSON.stringify(good()), env({ CNI_NETNS: undefined }), 4, /\[CNI_NETNS\] missing/));
  test("relative netns path: 4", () =>
    expectError(
      JSON.stringify(good()),
      env({ CNI_NETNS: "var/run/netns/x" }),
      4,
      /CNI_NETNS 'var\/run\/netns\/x' must match/,
    ));
  test("netns path that does not exist: 3", () =>
    expectError(JSON.stringify(good()), env({ CNI_NETNS: "/var/run/netns/vpccni-no-such-ns" }), 3, /does not exist/));
  test("a netns path that is not a netns: the agent's wiring fails, nothing is left", () =>
    expectError(JSON.stringify(good()), env({ CNI_NETNS: "/etc/hostname" }), 102, /wiring failed/));
  test("GC with a 1.0.0 config: 1", () =>
    expectError(
      JSON.stringify({ ...good(), cniVersion: "1.0.0" }),
      env({ CNI_COMMAND: "GC" }),
      1,
      /config version does not allow GC/,
    ));
  test("STATUS with a 0.4.0 config: 1", () =>
    expectError(
      JSON.stringify({ ...good(), cniVersion: "0.4.0" }),
      env({ CNI_COMMAND: "STATUS" }),
      1,
      /config version does not allow STATUS/,
    ));
  test("CHECK without prevResult: 7", () =>
    expectError(JSON.stringify(good()), env({ CNI_COMMAND: "CHECK" }), 7, /CHECK needs prevResult/));
  test("an agent that accepts but never answers: 11 after timeoutMs, nothing left", async () => {
    const socket = `${rig.root}/hang.sock`;
    const listener = Bun.listen({ unix: socket, socket: { data() {} } }); // reads, never answers
    try {
      await expectError(
        JSON.stringify({ ...good(), socket, timeoutMs: 300 }),
        env(),
        11,
        /did not answer within 300 ms/,
      );
    } finally {
      listener.stop(true);
    }
  });
  test("the agent's own error code passes through (11: no idle IP)", async () => {
    const taken = agent.free.splice(0);
    try {
      const r = await execCni(w.bed, w.nodes[0]!.node, rig, JSON.stringify(good()), env());
      expect(JSON.parse(r.stdout)).toMatchObject({ code: 11, msg: "no idle IP on this node" });
      expect(await w.nodes[0]!.dp.listPods()).toEqual([]);
    } finally {
      agent.free.push(...taken);
    }
  });
});
