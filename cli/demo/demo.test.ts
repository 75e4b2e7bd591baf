// The README's main job, as a user runs it: `vpccni demo` as root, end to end, with the local
// kube-apiserver the prerequisites built. It must finish, prove TCP across nodes and clean up.
import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { cacheRoot } from "../../sandbox/paths.ts";
import { listNamespaces } from "../../sandbox/test-bed.ts";
import { requireKube, requireNetns } from "../../sandbox/prereq.ts";

const ROOT = join(import.meta.dir, "../..");

/** `vpccni demo ARGS` as a user runs it: its exit code, stdout and stderr. */
async function demo(args: string[], env: Record<string, string | undefined> = process.env) {
  const proc = Bun.spawn([process.execPath, join(ROOT, "cli/main.ts"), "demo", ...args], {
    cwd: ROOT,
    env,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = [
    await new Response(proc.stdout).text(),
    await new Response(proc.stderr).text(),
    await proc.exited,
  ];
  return { out, err, code, pid: proc.pid };
}

test("vpccni demo runs end to end and leaves no namespace behind", async () => {
  requireNetns();
  requireKube();
  const { out, err, code, pid } = await demo(["--pods", "12", "--node-kind", "emulated"]);
  expect(code, out + err).toBe(0);
  for (const step of ["1/6", "2/6", "3/6", "4/6", "5/6", "6/6"]) expect(out).toContain(step);
  expect(out).toContain("Kubernetes: a local kube-apiserver");
  expect(out).toContain("Nodes: emulated, agents as processes (--node-kind emulated)");
  expect(out).toMatch(/TCP 10\.231\.\d+\.\d+ \(node1\) -> 10\.231\.\d+\.\d+ \(node2\): ok, echoed "hello from /);
  expect(out).toMatch(/Node node1: tke\.cloud\.tencent\.com\/eni-ip allocatable \d+, capacity 30/);
  expect(out).toMatch(/route tables (eth\d+=20\d\d, )*eth1=20\d\d/);
  // its own namespaces only: other test runs on the machine may hold theirs right now
  expect(listNamespaces().filter((ns) => ns.startsWith(`vpccni-t${pid}x`))).toEqual([]);
}, 180_000);

test("without kubelet the demo runs on emulated nodes, and says in one line what real ones need", async () => {
  requireNetns();
  requireKube();
  // a cache holding everything scripts/prereqs.sh builds but kubelet
  const cache = mkdtempSync(join(tmpdir(), "vpccni-demo-cache-"));
  try {
    for (const entry of readdirSync(cacheRoot())) {
      if (!entry.startsWith("kubernetes-")) symlinkSync(join(cacheRoot(), entry), join(cache, entry));
      else {
        mkdirSync(join(cache, entry, "bin"), { recursive: true });
        for (const bin of readdirSync(join(cacheRoot(), entry, "bin")).filter((b) => b !== "kubelet"))
          symlinkSync(join(cacheRoot(), entry, "bin", bin), join(cache, entry, "bin", bin));
      }
    }
    const { out, err, code } = await demo(["--pods", "4"], { ...process.env, VPCCNI_CACHE: cache });
    expect(code, out + err).toBe(0);
    const note = out.split("\n").filter((l) => l.includes("Nodes:"));
    expect(note).toHaveLength(1);
    // (the image too, when scripts/build-image.sh has not run)
    expect(note[0]).toMatch(
      /^ {4}Nodes: emulated, agents as processes; real nodes need kubelet(, dist\/image\/\S+)?: run `bash scripts\/prereqs\.sh`/,
    );
    expect(out).toContain("Kubernetes: a local kube-apiserver");
    expect(out).toMatch(/TCP 10\.231\.\d+\.\d+ \(node1\) -> 10\.231\.\d+\.\d+ \(node2\): ok/);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}, 120_000);

test("--node-kind real without kubelet fails in one line naming what is missing", async () => {
  requireNetns();
  const cache = mkdtempSync(join(tmpdir(), "vpccni-demo-cache-"));
  try {
    const { out, err, code } = await demo(["--node-kind", "real"], { ...process.env, VPCCNI_CACHE: cache });
    expect(code, out + err).toBe(1);
    expect(err.trim().split("\n")).toHaveLength(1);
    expect(err).toMatch(
      /^vpccni demo: real nodes need kubelet, kube-apiserver, kube-controller-manager and \d+ more: run `bash scripts\/prereqs\.sh`/,
    );
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}, 30_000);

test("the demo's VPC and subnets are the ones examples/policies/general.yaml names", async () => {
  requireNetns();
  const policy = parse(await Bun.file(join(ROOT, "examples/policies/general.yaml")).text()) as {
    spec: { vpcId: string; subnets: string[] };
  };
  const { out, err, code } = await demo(["--pods", "4", "--no-kube"]);
  expect(code, out + err).toBe(0);
  const cloudLine = out.split("\n").find((l) => l.includes("emulator at")) ?? "";
  expect(cloudLine).toContain(`${policy.spec.vpcId},`);
  for (const subnet of policy.spec.subnets) expect(cloudLine).toContain(subnet);
}, 120_000);

test("a missing OS tool that cannot be installed is one line naming the package, not a stack trace", async () => {
  requireNetns();
  // PATH holds sh and env but neither `ip` nor apt-get: what a non-Debian machine without
  // iproute2 looks like to the demo.
  const bin = join(tmpdir(), `vpccni-demo-path-${process.pid}`);
  mkdirSync(bin, { recursive: true });
  for (const tool of ["sh", "env", "bash"]) symlinkSync(Bun.which(tool)!, join(bin, tool));
  try {
    const { out, err, code } = await demo(["--no-kube"], { ...process.env, PATH: bin });
    expect(code, out + err).toBe(1);
    expect(err.trim().split("\n")).toEqual([
      "vpccni demo: ip, nsenter not found and this machine has no apt-get; install iproute2 util-linux with your package manager (e.g. apt-get install iproute2 util-linux)",
    ]);
    expect(out + err).not.toMatch(/\n\s+at /);
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
}, 60_000);
