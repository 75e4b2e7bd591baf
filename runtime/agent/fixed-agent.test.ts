// Fixed IP mode needs the Kubernetes API (claims, NodeENIConfig): without it the agent refuses
// to start, before it asks the metadata service or the cloud anything.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "./agent.ts";
import { silentLogger } from "./log.ts";

const dir = mkdtempSync(join(tmpdir(), "vpccni-fixed-agent-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("ipMode fixed with --no-kube: start fails, naming the mode, the flag and what is allowed", async () => {
  const policyFile = join(dir, "policy.yaml");
  writeFileSync(
    policyFile,
    [
      "apiVersion: vpccni.io/v1alpha1",
      "kind: VpcCniPolicy",
      "metadata: { name: fixed }",
      "spec:",
      "  clusterId: cls-demo0001",
      "  region: ap-guangzhou",
      "  vpcId: vpc-demo0001",
      "  subnets: [subnet-pods0001]",
      "  ipMode: fixed",
      "",
    ].join("\n"),
  );
  const agent = new Agent({
    policyFile,
    nodeName: "node1",
    stateDir: join(dir, "state"),
    socket: join(dir, "cni.sock"),
    listen: null,
    // nothing answers here: the refusal must come first
    metadataUrl: "http://127.0.0.1:9/latest/meta-data/",
    kube: null,
    primaryInterface: "eth0",
    log: silentLogger,
  });
  await expect(agent.start()).rejects.toThrow(
    "policy fixed sets spec.ipMode: fixed, which reads each pod's VpcIPClaim and this node's NodeENIConfig from the Kubernetes API; the agent runs with --no-kube. Allowed: fixed mode with Kubernetes access (drop --no-kube), or ipMode: shared",
  );
  await agent.stop();
});
