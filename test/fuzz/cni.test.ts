// The CNI plugin under 10,000 hostile calls (seeded): random environments and mutated or
// broken netconfs. Every call ends with a CNI answer, never a throw: success only when the input
// was usable, else a spec error object (integer code, a message without a stack trace) and a
// non-zero exit. The agent is only asked with a key that passed validation, so nothing reaches it
// half-formed. The same code runs in the real binary (test/dataplane runs it through cnitool).
import { addAnswer } from "../../runtime/cni/answer-kit.ts";
import { describe, expect, test } from "bun:test";
import type { AgentCall } from "../../runtime/cni/commands.ts";
import { localHost } from "../../runtime/cni/host.ts";
import { type CniDeps, runCni } from "../../runtime/cni/commands.ts";
import { mutate, nastyString, Rng } from "./fuzz-kit.ts";

const SEED = 20261130;
const CASES = 10_000;
const COMMANDS = ["ADD", "DEL", "CHECK", "GC", "STATUS", "VERSION", "add", "NOPE", ""];
const VALID_CONF = {
  cniVersion: "1.0.0",
  name: "vpccni",
  type: "vpccni",
  socket: "/run/vpccni/cni.sock",
  prevResult: { cniVersion: "1.0.0", ips: [{ address: "10.0.1.5/32" }] },
};
const answer = addAnswer();
const ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

describe("the CNI plugin under hostile input", () => {
  test(`${CASES} seeded cases: a CNI answer every time, the agent asked only with a valid key`, async () => {
    const r = new Rng(SEED);
    const problems: string[] = [];
    let successes = 0;
    for (let i = 0; i < CASES && problems.length < 5; i++) {
      const env: Record<string, string | undefined> = {
        CNI_COMMAND: r.pick(COMMANDS),
        CNI_CONTAINERID: r.chance(0.7) ? r.pick(["c1", "abc:def_1.2-x"]) : nastyString(r),
        CNI_NETNS: r.chance(0.7) ? "/var/run/netns/p" : nastyString(r, ["/proc/1/ns/net", "relative"]),
        CNI_IFNAME: r.chance(0.7) ? "eth0" : nastyString(r, ["eth0eth0eth0eth0", "a/b"]),
        CNI_ARGS: r.chance(0.6)
          ? "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p"
          : nastyString(r, ["K8S_POD_NAME", "=;=;", "a=b=c"]),
        CNI_PATH: r.chance(0.8) ? "/opt/cni/bin" : nastyString(r),
      };
      for (const k of Object.keys(env)) if (r.chance(0.05)) delete env[k];
      const stdin = r.chance(0.1)
        ? nastyString(r, ["{", "[]", "null", '{"cniVersion":'])
        : JSON.stringify(r.chance(0.3) ? VALID_CONF : mutate(r, VALID_CONF));
      const asked: unknown[] = [];
      const deps: CniDeps = {
        agent: () =>
          (async (op: string, body: any) => {
            asked.push([op, body]);
            if (
              body &&
              "containerId" in body &&
              (!ID.test(String(body.containerId)) || !IFNAME.test(String(body.ifname)))
            )
              throw new Error(`the agent got an unvalidated key: ${JSON.stringify(body)}`);
            if (op === "add") return answer;
            if (op === "owner") return { owner: "vpccni" };
            if (op === "status") return { ready: true, idleIps: 3 };
            if (op === "gc") return { released: [] };
            if (op === "check") return { ok: true };
            return { released: null };
          }) as AgentCall,
        exists: (p) => p === "/var/run/netns/p",
        host: { ...localHost, exec: async () => ({ stdout: "", exitCode: 0 }) },
      };
      let out: Awaited<ReturnType<typeof runCni>>;
      try {
        out = await runCni(env, stdin, deps);
      } catch (e) {
        problems.push(`case ${i} (seed ${SEED}) threw: ${(e as Error).stack}`);
        continue;
      }
      if (out.exitCode === 0) {
        successes++;
        if (out.stdout !== "") JSON.parse(out.stdout);
        continue;
      }
      let err: { code?: unknown; msg?: unknown };
      try {
        err = JSON.parse(out.stdout);
      } catch {
        problems.push(`case ${i}: exit ${out.exitCode} with output that is not JSON: ${out.stdout.slice(0, 200)}`);
        continue;
      }
      if (!Number.isInteger(err.code) || typeof err.msg !== "string" || err.msg === "")
        problems.push(`case ${i}: not a CNI error object: ${out.stdout.slice(0, 300)}`);
      else if (/\n\s+at /.test(String(err.msg)) || String(err.msg).includes("agent got an unvalidated key"))
        problems.push(`case ${i}: ${String(err.msg).slice(0, 300)}`);
    }
    expect(problems).toEqual([]);
    // the generator does reach the agent: the check above has something to check
    expect(successes).toBeGreaterThan(CASES / 20);
  }, 120_000);
});
