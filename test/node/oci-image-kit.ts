// Reads an OCI image archive (oci-archive: an OCI layout in a tar) the way a runtime sees it:
// the image config, and the merged file system of its layers as a path -> entry map, with
// symlinks resolved like the kernel does (merged /usr: /bin -> usr/bin).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { runOk } from "../../sandbox/exec.ts";

export interface ImageEntry {
  type: "file" | "dir" | "symlink" | "hardlink" | "other";
  mode: number;
  target?: string;
}

export interface ImageConfig {
  User?: string;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  Labels?: Record<string, string>;
}

export interface OciImage {
  name: string;
  config: ImageConfig;
  files: Map<string, ImageEntry>;
}

const TYPES: Record<string, ImageEntry["type"]> = { "-": "file", d: "dir", l: "symlink", h: "hardlink" };

function modeOf(perms: string): number {
  let mode = 0;
  for (const [i, c] of [...perms.slice(1, 10)].entries()) if (c !== "-") mode |= 1 << (8 - i);
  return mode;
}

/** One line of `tar -tv` (GNU): perms owner size date time name[ -> target | link to target]. */
export function parseListing(line: string): [string, ImageEntry] | null {
  const m = /^(\S)(\S{9})\S*\s+\S+\s+\d+\s+\S+\s+\S+\s+(.*)$/.exec(line);
  if (!m) return null;
  const type = TYPES[m[1]!] ?? "other";
  let name = m[3]!;
  let target: string | undefined;
  const sep = type === "symlink" ? " -> " : type === "hardlink" ? " link to " : null;
  if (sep && name.includes(sep)) [name, target] = name.split(sep) as [string, string];
  const path = posix.normalize(`/${name.replace(/^\.?\//, "")}`).replace(/\/$/, "") || "/";
  return [path, { type, mode: modeOf(`${m[1]}${m[2]}`), ...(target === undefined ? {} : { target }) }];
}

export async function readOciArchive(archive: string): Promise<OciImage> {
  const dir = mkdtempSync(join(tmpdir(), "vpccni-oci-"));
  try {
    await runOk(["tar", "-xf", archive, "-C", dir, "index.json"]);
    const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
    const desc = index.manifests[0];
    const blob = (digest: string) => `blobs/sha256/${digest.split(":")[1]}`;
    await runOk(["tar", "-xf", archive, "-C", dir, blob(desc.digest)]);
    const manifest = JSON.parse(readFileSync(join(dir, blob(desc.digest)), "utf8"));
    await runOk(["tar", "-xf", archive, "-C", dir, blob(manifest.config.digest)]);
    const config = JSON.parse(readFileSync(join(dir, blob(manifest.config.digest)), "utf8")).config as ImageConfig;
    const files = new Map<string, ImageEntry>();
    for (const layer of manifest.layers as { digest: string }[]) {
      // listed straight from the archive, so a 100 MB layer is never written out
      const listing = await runOk(["sh", "-c", 'tar -xOf "$0" "$1" | tar -tvzf -', archive, blob(layer.digest)]);
      for (const line of listing.split("\n")) {
        const parsed = parseListing(line);
        if (parsed) files.set(...parsed);
      }
    }
    return { name: desc.annotations?.["org.opencontainers.image.ref.name"] ?? "", config, files };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The entry a path names in the image, following symlinks in every component. */
export function lookup(image: OciImage, path: string, hops = 0): ImageEntry | undefined {
  if (hops > 40) return undefined;
  const parts = posix.normalize(path).split("/").filter(Boolean);
  let current = "/";
  for (const [i, part] of parts.entries()) {
    const next = posix.join(current, part);
    const entry = image.files.get(next);
    if (!entry) return undefined;
    if (entry.type === "symlink") {
      const target = posix.isAbsolute(entry.target!) ? entry.target! : posix.join(current, entry.target!);
      return lookup(image, posix.join(target, ...parts.slice(i + 1)), hops + 1);
    }
    current = next;
  }
  return image.files.get(current) ?? (current === "/" ? { type: "dir", mode: 0o755 } : undefined);
}

/** Where a command resolves on PATH in the image, as an executable regular file. */
export function which(image: OciImage, command: string, path: string): string | undefined {
  if (command.includes("/")) return isExecutable(image, command) ? command : undefined;
  return path
    .split(":")
    .map((dir) => posix.join(dir, command))
    .find((p) => isExecutable(image, p));
}

export function isExecutable(image: OciImage, path: string): boolean {
  const e = lookup(image, path);
  return e !== undefined && (e.type === "file" || e.type === "hardlink") && (e.mode & 0o111) !== 0;
}
