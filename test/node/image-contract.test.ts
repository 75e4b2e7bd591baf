// The manifests match the image: every command, path and user the compiled DaemonSet relies
// on is checked against the built image's file system and config, so the two cannot drift.
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join, posix, resolve } from "node:path";
import type { V1Container, V1DaemonSet } from "@kubernetes/client-node";
import { parse } from "yaml";
import { PATHS } from "../../compiler/agent-contract.ts";
import { DEFAULT_IMAGE, GENERATOR_VERSION } from "../../compiler/version.ts";
import { requirePrereq } from "../../sandbox/prereq.ts";
import { isExecutable, lookup, type OciImage, parseListing, readOciArchive, which } from "./oci-image-kit.ts";

const ROOT = resolve(import.meta.dir, "../..");
const ARCHIVE = join(ROOT, "dist", "image", `vpccni-${GENERATOR_VERSION}.oci.tar`);
const daemonSet = parse(
  readFileSync(join(ROOT, "examples", "deploy", "40-daemonset-vpccni-agent-general.yaml"), "utf8"),
) as V1DaemonSet;
const pod = daemonSet.spec!.template.spec!;
const containers: V1Container[] = [...(pod.initContainers ?? []), ...pod.containers];

let image: OciImage;

/** The PATH a container runs with: its own env, else the image's. */
function pathOf(c: V1Container): string {
  const own = c.env?.find((e) => e.name === "PATH")?.value;
  const fromImage = image.config.Env?.find((e) => e.startsWith("PATH="))?.slice(5);
  return own ?? fromImage ?? "";
}

/** The commands a `sh -c` script runs: the first word of each simple command. */
export function scriptCommands(script: string): string[] {
  // `[ ... ]` is a test expression (a dash builtin), not a command to look up
  const words = script
    .replace(/\[[^\]]*\]/g, "")
    .split(/\s*(?:\n|&&|\|\||;|\bthen\b|\belse\b|\bif\b|\bfi\b)\s*/)
    .map((s) => s.trim());
  return [...new Set(words.map((w) => w.split(/\s+/)[0]!).filter((w) => w !== "" && w !== "set"))];
}

function underMount(c: V1Container, path: string): { readOnly: boolean } | undefined {
  const m = c.volumeMounts?.find((v) => path === v.mountPath || path.startsWith(`${v.mountPath}/`));
  return m && { readOnly: m.readOnly === true };
}

describe("the compiled DaemonSet against the built image", () => {
  beforeAll(async () => {
    requirePrereq(
      "vpccni image",
      () => existsSync(ARCHIVE) || `${ARCHIVE} does not exist`,
      "build it with `bash scripts/build-image.sh`",
    );
    image = await readOciArchive(ARCHIVE);
  });

  test("the archive is named as the compiler's default image, and every container runs it", () => {
    expect(image.name).toBe(DEFAULT_IMAGE);
    for (const c of containers)
      expect({ name: c.name, image: c.image }).toEqual({ name: c.name, image: DEFAULT_IMAGE });
  });

  test("each container's command is an executable on its PATH in the image", () => {
    for (const c of containers) {
      const command = c.command?.[0] ?? image.config.Entrypoint?.[0] ?? "";
      expect({ container: c.name, command, at: which(image, command, pathOf(c)) !== undefined }).toEqual({
        container: c.name,
        command,
        at: true,
      });
    }
    expect(which(image, image.config.Entrypoint?.[0] ?? "", pathOf(pod.containers[0]!))).toBe("/usr/local/bin/vpccni");
  });

  test("install-cni's script finds every tool it runs and the binaries it copies", () => {
    const init = pod.initContainers!.find((c) => c.name === "install-cni")!;
    expect(init.command).toEqual(["sh", "-c"]);
    const script = init.args![0]!;
    const tools = scriptCommands(script);
    expect(tools.sort()).toEqual(["install", "mv", "rm"]);
    for (const tool of tools)
      expect({ tool, found: which(image, tool, pathOf(init)) !== undefined }).toEqual({ tool, found: true });
    // absolute paths the script names: in the image (the binaries it copies) or under a mount
    const absolute = [...new Set(script.match(/\/[\w./-]+/g) ?? [])].map((p) => p.replace(/\/\.[\w.-]+\.tmp$/, ""));
    for (const p of absolute) {
      const where = underMount(init, p) ? "mount" : isExecutable(image, p) ? "image" : "missing";
      expect({ path: p, where: where === "missing" ? "missing" : "ok" }).toEqual({ path: p, where: "ok" });
    }
    expect(isExecutable(image, PATHS.cniBinaryInImage)).toBe(true);
    expect(isExecutable(image, PATHS.portmapInImage)).toBe(true);
    // the shell itself
    expect(which(image, "sh", pathOf(init))).toBeDefined();
  });

  test("the agent's files live under mounts (read-only root), writable where it writes", () => {
    const agent = pod.containers.find((c) => c.name === "agent")!;
    expect(agent.securityContext?.readOnlyRootFilesystem).toBe(true);
    const flag = (name: string) => agent.args!.find((a) => a.startsWith(`--${name}=`))!.split("=")[1]!;
    expect(underMount(agent, flag("policy"))).toEqual({ readOnly: true });
    expect(underMount(agent, flag("state-dir"))).toEqual({ readOnly: false });
    expect(underMount(agent, posix.dirname(flag("socket")))).toEqual({ readOnly: false });
    const sysctl = agent.env!.find((e) => e.name === "VPCCNI_SYSCTL_NET_DIR")!.value!;
    expect(underMount(agent, sysctl)).toEqual({ readOnly: false });
    // Bun writes its temporary files to /tmp
    expect(underMount(agent, "/tmp")).toEqual({ readOnly: false });
    // the agent runs ip and nsenter
    for (const tool of ["ip", "nsenter"])
      expect({ tool, found: which(image, tool, pathOf(agent)) !== undefined }).toEqual({ tool, found: true });
  });

  test("users: the containers run as root, as the image says, with what the agent needs", () => {
    expect(["0", "root", "0:0"]).toContain(image.config.User ?? "0");
    for (const c of containers)
      expect({ name: c.name, user: c.securityContext?.runAsUser }).toEqual({ name: c.name, user: 0 });
    const agent = pod.containers.find((c) => c.name === "agent")!;
    expect(agent.securityContext?.capabilities?.add?.sort()).toEqual(["NET_ADMIN", "SYS_ADMIN"]);
    expect(image.config.Labels?.["org.opencontainers.image.version"]).toBe(GENERATOR_VERSION);
  });
});

describe("the image reader", () => {
  test("parses GNU tar listings: files, symlinks, modes", () => {
    expect(parseListing("-rwxr-xr-x 0/0         1234 2023-06-10 00:00 ./usr/local/bin/vpccni")).toEqual([
      "/usr/local/bin/vpccni",
      { type: "file", mode: 0o755 },
    ]);
    expect(parseListing("lrwxrwxrwx 0/0            0 2023-06-10 00:00 ./bin -> usr/bin")).toEqual([
      "/bin",
      { type: "symlink", mode: 0o777, target: "usr/bin" },
    ]);
    const fake: OciImage = {
      name: "x",
      config: {},
      files: new Map([
        ["/bin", { type: "symlink", mode: 0o777, target: "usr/bin" }],
        ["/usr", { type: "dir", mode: 0o755 }],
        ["/usr/bin", { type: "dir", mode: 0o755 }],
        ["/usr/bin/sh", { type: "symlink", mode: 0o777, target: "dash" }],
        ["/usr/bin/dash", { type: "file", mode: 0o755 }],
        ["/usr/bin/notes", { type: "file", mode: 0o644 }],
      ]),
    };
    expect(lookup(fake, "/bin/sh")).toEqual({ type: "file", mode: 0o755 });
    expect(which(fake, "sh", "/sbin:/bin")).toBe("/bin/sh");
    expect(which(fake, "notes", "/usr/bin")).toBeUndefined();
    expect(which(fake, "ip", "/usr/bin")).toBeUndefined();
  });

  test("finds the commands of a shell script", () => {
    expect(
      scriptCommands("set -eu\ninstall -m 0755 a b\nif [ ! -e x ]; then cp a b && mv -f b c; fi\n").sort(),
    ).toEqual(["cp", "install", "mv"]);
  });
});
