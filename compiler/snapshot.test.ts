// The synthesized YAML, pinned byte for byte. After an intended change, regenerate with
//   vpccni compile compiler/testdata/variants/policies --out compiler/testdata/variants/expected \
//     --namespace kube-system --image registry.example.com/vpccni:test
//   vpccni compile examples/policies --out examples/deploy
// and review the diff like code.
import { describe, expect, test } from "bun:test";
import { join, relative } from "node:path";
import { loadPolicies } from "../schema/index.ts";
import { generate } from "./output-files.ts";
import { REPO, readTree } from "./compile-kit.ts";

async function expectSnapshot(
  policies: string,
  expected: string,
  options: { namespace?: string; image?: string } = {},
) {
  const loaded = await loadPolicies([policies], REPO);
  expect(loaded.diagnostics).toEqual([]);
  const outAbs = join(REPO, expected);
  const sourceName = (file: string) => relative(outAbs, join(REPO, file));
  const { files, diagnostics } = generate(loaded.policies, loaded.sources, { ...options, sourceName });
  expect(diagnostics).toEqual([]);
  const committed = readTree(outAbs);
  expect([...files.keys()].sort()).toEqual([...committed.keys()]);
  for (const [name, text] of files) expect({ name, text }).toEqual({ name, text: committed.get(name)! });
}

describe("snapshots", () => {
  test("examples/policies compile to the committed examples/deploy", async () => {
    await expectSnapshot("examples/policies", "examples/deploy");
  });

  test("variants: system namespace (no Namespace object), Secret namespace written out, user labels, custom image", async () => {
    await expectSnapshot("compiler/testdata/variants/policies", "compiler/testdata/variants/expected", {
      namespace: "kube-system",
      image: "registry.example.com/vpccni:test",
    });
    const files = readTree(join(REPO, "compiler/testdata/variants/expected"));
    expect([...files.keys()].some((f) => f.includes("namespace"))).toBe(false);
    const edge = files.get("40-daemonset-vpccni-agent-edge.yaml")!;
    expect(edge).toContain("VPCCNI_SYSCTL_NET_DIR");
    expect(edge).toContain("--credentials-dir=/etc/vpccni/credentials");
    expect(edge).toContain("secretName: edge-keys");
    const core = files.get("40-daemonset-vpccni-agent-core.yaml")!;
    expect(core).not.toContain("credentials");
  });
});
