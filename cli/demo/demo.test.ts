// The README's main job, as a user runs it: `vpccni demo` as root, end to end, with the local
// kube-apiserver the prerequisites built. It must finish, prove TCP across nodes and clean up.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { listNamespaces } from "../../sandbox/test-bed.ts";
import { requireKube, requireNetns } from "../../sandbox/prereq.ts";

const ROOT = join(import.meta.dir, "../..");

test("vpccni demo runs end to end and leaves no namespace behind", async () => {
  requireNetns();
  requireKube();
  const before = new Set(listNamespaces());
  const proc = Bun.spawn([process.execPath, join(ROOT, "cli/main.ts"), "demo", "--pods", "12"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = [await new Response(proc.stdout).text(), await new Response(proc.stderr).text(), await proc.exited];
  expect(code, out + err).toBe(0);
  for (const step of ["1/6", "2/6", "3/6", "4/6", "5/6", "6/6"]) expect(out).toContain(step);
  expect(out).toContain("Kubernetes: a local kube-apiserver");
  expect(out).toMatch(/TCP 10\.231\.\d+\.\d+ \(node1\) -> 10\.231\.\d+\.\d+ \(node2\): ok, echoed "hello from /);
  expect(out).toMatch(/Node node1: tke\.cloud\.tencent\.com\/eni-ip allocatable \d+, capacity 30/);
  expect(out).toMatch(/route tables eth1=20\d\d/);
  expect(listNamespaces().filter((ns) => !before.has(ns))).toEqual([]);
}, 180_000);
