// A key written into a policy is refused (inline-credentials) and never printed again: not in
// the source excerpt of any diagnostic (validate, compile, the agent's log of a rejected
// policy), not in the JSON output. YAML and TypeScript policies alike.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeRejection, readPolicyFile } from "../../runtime/agent/policy-file.ts";
import { loadPolicies, renderDiagnostics } from "../../schema/index.ts";
import { run } from "../../sandbox/exec.ts";
import { cleanScratchAfterEach, REPO, scratchRepo } from "../../compiler/compile-kit.ts";

cleanScratchAfterEach();

const KEY = "Zq9xW7kP3mT2vB8nR4cY6hJ1fL5gD0sQ";
const SECRET_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";

/** Every 6-character piece of the secrets: none may appear anywhere in the output. */
function leaks(text: string): string[] {
  const found: string[] = [];
  for (const secret of [KEY, SECRET_ID])
    for (let i = 0; i + 6 <= secret.length; i++) if (text.includes(secret.slice(i, i + 6))) found.push(secret);
  return [...new Set(found)];
}

// The secrets share their lines with other errors (the endpoint), whose excerpts print them too.
const YAML = `apiVersion: vpccni.io/v1alpha1
kind: VpcCniPolicy
metadata: { name: alpha }
spec:
  clusterId: cls-demo0001
  region: ap-guangzhou
  vpcId: vpc-demo0001
  subnets: [subnet-pods0001]
  cloud: { secretKey: "${KEY}", endpoint: "bad endpoint" }
  description: ${SECRET_ID}
`;

const TS = `import { definePolicy } from "vpccni";
export default definePolicy({
  apiVersion: "vpccni.io/v1alpha1",
  kind: "VpcCniPolicy",
  metadata: { name: "beta" },
  spec: {
    clusterId: "cls-demo0001", region: "ap-guangzhou", vpcId: "vpc-demo0001", subnets: ["subnet-pods0001"],
    cloud: { secretKey: "${KEY}", endpoint: "bad endpoint" } as never,
  },
});
`;

const vpccni = (cwd: string, ...args: string[]) =>
  run([process.execPath, join(REPO, "cli", "main.ts"), ...args], { cwd });

describe("inline-credentials never echoes the value", () => {
  test("the rendered excerpts mask it, carets still point at the key and at the other errors", async () => {
    const repo = scratchRepo({ "a.yaml": YAML, "b.policy.ts": TS });
    const result = await loadPolicies(["policies"], repo);
    const text = renderDiagnostics(result.diagnostics, result.sources);
    expect(leaks(text)).toEqual([]);
    expect(leaks(JSON.stringify(result.diagnostics))).toEqual([]);
    expect(result.diagnostics.filter((d) => d.code === "inline-credentials").map((d) => d.path.join("."))).toEqual([
      "spec.cloud.secretKey",
      "spec.description",
      "spec.cloud.secretKey",
    ]);
    // YAML: the scalar itself is masked; the endpoint's caret moved with the shorter line.
    expect(text).toContain(
      ['9 |   cloud: { secretKey: ********, endpoint: "bad endpoint" }', "  |            ^^^^^^^^^"].join("\n"),
    );
    expect(text).toContain(
      [
        '9 |   cloud: { secretKey: ********, endpoint: "bad endpoint" }',
        "  |                                           ^^^^^^^^^^^^^^",
      ].join("\n"),
    );
    expect(text).toContain(["10 |   description: ********", "   |                ^^^^^^^^"].join("\n"));
    // TypeScript: the locator finds the key; the quoted literal after it is masked.
    expect(text).toContain(
      ['8 |     cloud: { secretKey: ********, endpoint: "bad endpoint" } as never,', "  |              ^^^^^^^^^"].join(
        "\n",
      ),
    );
  });

  test("vpccni validate and compile, text and JSON", async () => {
    const repo = scratchRepo({ "a.yaml": YAML, "b.policy.ts": TS });
    for (const args of [
      ["validate", "policies"],
      ["validate", "policies", "--output", "json"],
      ["compile", "policies", "--out", "deploy"],
      ["compile", "policies", "--out", "deploy", "--output", "json"],
    ]) {
      const res = await vpccni(repo, ...args);
      expect({ args, code: res.code, leaks: leaks(res.stdout + res.stderr) }).toEqual({ args, code: 1, leaks: [] });
      expect(res.stdout + res.stderr).toContain("inline-credentials");
    }
  }, 30_000);

  test("the agent's log of a rejected policy file", async () => {
    const repo = scratchRepo({});
    const file = join(repo, "policy.yaml");
    writeFileSync(file, YAML);
    const load = await readPolicyFile(file);
    if (load.ok) throw new Error("the policy was accepted");
    const text = describeRejection(load);
    expect(text).toContain("secretKey: ********");
    expect(leaks(text)).toEqual([]);
  });
});
