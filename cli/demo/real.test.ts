// `vpccni demo` on real nodes, as a user runs it once kubelet and the image are built: kubelet
// runs the agents from the image, and kubectl lists a Deployment's pods Running on both nodes
// with IPs of the policy's subnets. It must prove TCP across nodes, return the IPs of a
// scale-down to the pools, and leave no namespace or process of its own behind.
import { expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { requireControlPlane } from "../../sandbox/apiserver.ts";
import { requireContainerd } from "../../sandbox/containerd.ts";
import { emulatorConfig, LAYOUT } from "../../sandbox/emulated-cloud.ts";
import { ipToInt, parseCidr } from "../../sandbox/ipv4.ts";
import { requireKubelet } from "../../sandbox/kubelet.ts";
import { requireKube, requirePrereq } from "../../sandbox/prereq.ts";
import { IMAGE_ARCHIVE } from "../../sandbox/real-cluster.ts";
import { listNamespaces } from "../../sandbox/test-bed.ts";

const ROOT = join(import.meta.dir, "../..");
/** A row of `kubectl get pods -o wide`: NAME READY STATUS RESTARTS AGE IP NODE ... */
const ROW = /^ {4}(web-\S+)\s+(\d+\/\d+)\s+(\S+)\s+.*?\s(\d+\.\d+\.\d+\.\d+)\s+(node\d+)\s/;

function inSubnet(ip: string, cidr: string): boolean {
  const { base, prefix } = parseCidr(cidr);
  const size = 2 ** (32 - prefix);
  return ipToInt(ip) >= ipToInt(base) && ipToInt(ip) < ipToInt(base) + size;
}

/** The rows of the first `kubectl get pods -o wide` table after the line `from`. */
function podTable(out: string, from: string): RegExpExecArray[] {
  const lines = out.split("\n");
  const start = lines.findIndex((l) => l.startsWith(from));
  const head = lines.findIndex((l, i) => i > start && l.trim() === "$ kubectl get pods -o wide");
  const rows: RegExpExecArray[] = [];
  for (const line of lines.slice(head + 2)) {
    const m = ROW.exec(line);
    if (!m) break;
    rows.push(m);
  }
  return rows;
}

/** Processes whose command line names one of this run's temp folders (`vpccni-*-p<pid>-*`). */
function processesOf(pid: number): string[] {
  const mark = new RegExp(`/vpccni-[a-z0-9-]+?-p${pid}-`);
  const out: string[] = [];
  for (const entry of readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ");
      if (mark.test(cmd)) out.push(`${entry}: ${cmd.slice(0, 200)}`);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

test("vpccni demo --node-kind real: kubectl lists Running pods with VPC IPs on both nodes, TCP across them", async () => {
  requireContainerd();
  requireKube();
  requireKubelet();
  requireControlPlane();
  requirePrereq(
    "vpccni image",
    () => existsSync(IMAGE_ARCHIVE) || `${IMAGE_ARCHIVE} does not exist`,
    "build it with `bash scripts/build-image.sh`",
  );
  const proc = Bun.spawn([process.execPath, join(ROOT, "cli/main.ts"), "demo", "--node-kind", "real"], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = [
    await new Response(proc.stdout).text(),
    await new Response(proc.stderr).text(),
    await proc.exited,
  ];
  expect(code, out + err).toBe(0);
  for (const step of ["1/7", "2/7", "3/7", "4/7", "5/7", "6/7", "7/7"]) expect(out).toContain(step);
  expect(out).toContain("kubelet runs the agents from dist/image/vpccni-0.1.0.oci.tar");
  expect(out).toMatch(/vpccni-agent-general-\S+\s+1\/1\s+Running\s.*\snode1\s/);
  expect(out).toMatch(/vpccni-agent-general-\S+\s+1\/1\s+Running\s.*\snode2\s/);

  // the Deployment's 8 pods, as kubectl lists them: Running, each with its own IP of a pod subnet
  const cidrs = (emulatorConfig(2).subnets ?? [])
    .filter((s) => LAYOUT.podSubnets.includes(s.subnetId))
    .map((s) => s.cidrBlock);
  const rows = podTable(out, "4/7");
  expect(rows.map((r) => [r[2], r[3]])).toEqual(Array(8).fill(["1/1", "Running"]));
  const ips = rows.map((r) => r[4]!);
  expect(new Set(ips).size).toBe(8);
  for (const ip of ips)
    expect(
      cidrs.some((c) => inSubnet(ip, c)),
      `${ip} in ${cidrs}`,
    ).toBe(true);
  expect(new Set(rows.map((r) => r[5])).size).toBe(2);

  expect(out).toMatch(/TCP 10\.231\.\d+\.\d+ \(node1\) -> 10\.231\.\d+\.\d+ \(node2\): ok, echoed "hello from /);
  expect(out).toContain("6 of 6 pod IPs are idle in their node's pool again");
  expect(podTable(out, "6/7")).toHaveLength(2);
  expect(out).toMatch(/Node node1: tke\.cloud\.tencent\.com\/eni-ip allocatable \d+, capacity 30/);
  expect(out + err).not.toMatch(/\n\s+at /);

  // its own namespaces and processes only: other runs on the machine may hold theirs right now
  expect(listNamespaces().filter((ns) => ns.startsWith(`vpccni-t${proc.pid}x`))).toEqual([]);
  expect(processesOf(proc.pid)).toEqual([]);
}, 300_000);
