import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, renameSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { VpcCniPolicy } from "../../schema/index.ts";
import { describeRejection, type PolicyLoad, PolicyWatcher, readPolicyFile } from "./policy-file.ts";

const EXAMPLE = readFileSync(join(import.meta.dir, "../../examples/policies/general.yaml"), "utf8");
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Lays out a folder the way the kubelet mounts a ConfigMap: ..data -> a timestamped dir. */
function configMapMount(text: string): { dir: string; file: string; update(text: string): void } {
  const dir = mkdtempSync(join(tmpdir(), "vpccni-cm-"));
  dirs.push(dir);
  let generation = 0;
  const update = (content: string) => {
    const version = join(dir, `..2026_${generation++}`);
    mkdirSync(version);
    writeFileSync(join(version, "policy.yaml"), content);
    symlinkSync(version.split("/").pop() as string, join(dir, "..data_tmp"));
    renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
  };
  update(text);
  symlinkSync("..data/policy.yaml", join(dir, "policy.yaml"));
  return { dir, file: join(dir, "policy.yaml"), update };
}

describe("policy file", () => {
  test("the example policy loads with its defaults", async () => {
    const mount = configMapMount(EXAMPLE);
    const load = await readPolicyFile(mount.file);
    expect(load.ok && load.policy.spec.prebind).toEqual({ min: 5, max: 5 });
  });

  test("a valid change is applied; an invalid one is rejected and the old policy stays", async () => {
    const mount = configMapMount(EXAMPLE);
    const applied: VpcCniPolicy[] = [];
    const rejected: PolicyLoad[] = [];
    const watcher = new PolicyWatcher(
      mount.file,
      EXAMPLE,
      { onPolicy: (p) => applied.push(p), onRejected: (l) => rejected.push(l) },
      60_000,
    );
    await watcher.check();
    expect(applied).toEqual([]); // unchanged text is not re-applied

    mount.update(EXAMPLE.replace("  cloud:", "  prebind:\n    min: 2\n    max: 8\n  cloud:"));
    await watcher.check();
    expect(applied.map((p) => p.spec.prebind)).toEqual([{ min: 2, max: 8 }]);

    mount.update(EXAMPLE.replace("  cloud:", "  prebind:\n    min: 9\n    max: 1\n  cloud:"));
    await watcher.check();
    expect(applied).toHaveLength(1);
    expect(rejected).toHaveLength(1);
    const rendered = describeRejection(rejected[0] as Extract<PolicyLoad, { ok: false }>);
    expect(rendered).toContain("error[prebind-min-above-max]: spec.prebind.min is 9, greater than prebind.max (1)");
    expect(rendered).toContain("    min: 9");
  });

  test("a missing file is a diagnostic naming the path", async () => {
    const load = await readPolicyFile("/nonexistent/vpccni/policy.yaml");
    expect(load.ok).toBe(false);
    expect(!load.ok && load.diagnostics[0]?.code).toBe("file-unreadable");
  });

  test("a file with two policies is refused: one DaemonSet runs one policy", async () => {
    const mount = configMapMount(`${EXAMPLE}---\n${EXAMPLE.replace("name: general", "name: other")}`);
    const load = await readPolicyFile(mount.file);
    expect(!load.ok && load.diagnostics.map((d) => d.code)).toEqual(["policy-count"]);
  });
});
