// Where API credentials come from: the environment, a mounted Secret, or the CVM role through
// the metadata service. Values are never logged: errors name the source and the field only.
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Clock } from "./clock.ts";
import { systemClock } from "./clock.ts";
import { MetadataClient } from "./metadata.ts";

export interface Credential {
  secretId: string;
  secretKey: string;
  token?: string;
}

export interface CredentialSource {
  /** What the credentials are, for logs ("environment", "secret file ...", "CVM role ..."). */
  readonly description: string;
  get(): Promise<Credential>;
}

export function envCredentials(env: Record<string, string | undefined> = process.env): CredentialSource | undefined {
  const secretId = env.TENCENTCLOUD_SECRET_ID;
  const secretKey = env.TENCENTCLOUD_SECRET_KEY;
  if (!secretId || !secretKey) return undefined;
  const token = env.TENCENTCLOUD_SESSION_TOKEN || undefined;
  const cred: Credential = token ? { secretId, secretKey, token } : { secretId, secretKey };
  return { description: "environment TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY", get: async () => cred };
}

const KEYS = "TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY";

/**
 * A mounted Kubernetes Secret: a directory with one file per key (TENCENTCLOUD_SECRET_ID,
 * TENCENTCLOUD_SECRET_KEY, optional TENCENTCLOUD_SESSION_TOKEN), or one file of KEY=value
 * lines (a Secret key mounted with subPath). Re-read when the kubelet swaps the files (a
 * rotated Secret), which the modification time shows.
 */
export function secretCredentials(path: string): CredentialSource {
  let cached: { mtimeMs: number; cred: Credential } | undefined;
  const fail = (file: string, e: unknown): never => {
    throw new Error(
      `credentials: ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"}); the Secret needs keys ${KEYS}`,
    );
  };
  return {
    description: `secret ${path}`,
    async get() {
      let isDir = false;
      let watched = path;
      try {
        isDir = statSync(path).isDirectory();
        if (isDir) watched = join(path, "TENCENTCLOUD_SECRET_KEY");
      } catch (e) {
        fail(path, e);
      }
      let mtimeMs = 0;
      try {
        mtimeMs = statSync(watched).mtimeMs;
      } catch (e) {
        fail(watched, e);
      }
      if (cached && cached.mtimeMs === mtimeMs) return cached.cred;
      const values = isDir ? readDir(path, fail) : parseKeyValues(readFileSync(path, "utf8"));
      const secretId = values.TENCENTCLOUD_SECRET_ID ?? "";
      const secretKey = values.TENCENTCLOUD_SECRET_KEY ?? "";
      if (!secretId || !secretKey)
        throw new Error(
          `credentials: ${path} has no or an empty TENCENTCLOUD_SECRET_ID or TENCENTCLOUD_SECRET_KEY; it needs both`,
        );
      const token = values.TENCENTCLOUD_SESSION_TOKEN;
      cached = { mtimeMs, cred: token ? { secretId, secretKey, token } : { secretId, secretKey } };
      return cached.cred;
    },
  };
}

function readDir(dir: string, fail: (file: string, e: unknown) => never): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ["TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY", "TENCENTCLOUD_SESSION_TOKEN"]) {
    try {
      out[name] = readFileSync(join(dir, name), "utf8").trim();
    } catch (e) {
      if (name !== "TENCENTCLOUD_SESSION_TOKEN") fail(join(dir, name), e);
    }
  }
  return out;
}

/** `KEY=value` lines; blank lines, `#` comments, `export ` and surrounding quotes are allowed. */
export function parseKeyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim().replace(/^export\s+/, "");
    if (line === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) continue;
    out[line.slice(0, eq).trim()] = line
      .slice(eq + 1)
      .trim()
      .replace(/^(["'])(.*)\1$/, "$2");
  }
  return out;
}

/**
 * Refresh this long before the temporary credentials expire, plus up to REFRESH_JITTER_MS so
 * that a fleet's nodes, whose credentials were issued together, do not all ask at once. Minutes,
 * not seconds: a metadata service slow or down for a while costs nothing while the pair lasts.
 * Never more than half the pair's lifetime (short-lived pairs, the emulator's tests).
 */
export const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;
export const REFRESH_JITTER_MS = 60_000;
/** After a failed refresh, the cached pair serves this long before the next try. */
export const REFRESH_RETRY_MS = 10_000;

export interface CvmRoleOptions {
  /** Uniform in [0, 1): where in the jitter window this node refreshes. */
  random?: () => number;
  /** A refresh failed and the cached pair, still valid, is used meanwhile (for the log). */
  onRefreshError?: (error: Error, expiresAtMs: number) => void;
}

/**
 * The CVM role's temporary credentials, fetched from the metadata service and refreshed a few
 * minutes before expiry. A failed refresh keeps the cached pair until it really expires; only
 * then does get() fail, with the refresh's error.
 */
export function cvmRoleCredentials(
  metadata: MetadataClient,
  clock: Clock = systemClock,
  opts: CvmRoleOptions = {},
): CredentialSource {
  const random = opts.random ?? Math.random;
  let cached: { cred: Credential; expiresAtMs: number; refreshAtMs: number } | undefined;
  let inflight: Promise<Credential> | undefined;
  const fetchPair = async (): Promise<Credential> => {
    const role = await metadata.roleName();
    const c = await metadata.roleCredentials(role);
    const now = clock.now();
    const expiresAtMs = c.ExpiredTime * 1000;
    const margin = Math.min(REFRESH_BEFORE_EXPIRY_MS + random() * REFRESH_JITTER_MS, (expiresAtMs - now) / 2);
    cached = {
      cred: { secretId: c.TmpSecretId, secretKey: c.TmpSecretKey, token: c.Token },
      expiresAtMs,
      refreshAtMs: expiresAtMs - margin,
    };
    return cached.cred;
  };
  const refresh = async (): Promise<Credential> => {
    const previous = cached;
    try {
      return await fetchPair();
    } catch (error) {
      if (!previous || clock.now() >= previous.expiresAtMs) throw error;
      // Still valid: keep it, and try again a little later rather than at every call.
      previous.refreshAtMs = Math.min(clock.now() + REFRESH_RETRY_MS, previous.expiresAtMs);
      opts.onRefreshError?.(error as Error, previous.expiresAtMs);
      return previous.cred;
    }
  };
  return {
    description: "CVM role from the instance metadata service",
    get() {
      if (cached && clock.now() < cached.refreshAtMs) return Promise.resolve(cached.cred);
      // One refresh at a time: concurrent API calls share it.
      inflight ??= refresh().finally(() => (inflight = undefined));
      return inflight;
    },
  };
}

export interface CredentialOptions {
  env?: Record<string, string | undefined>;
  /** Where the policy's spec.cloud.credentialsSecretRef is mounted: a directory or a KEY=value file. */
  secretPath?: string;
  /** Base URL of the metadata service; default metadata.tencentyun.com. */
  metadataUrl?: string;
  clock?: Clock;
  /** CVM role: a refresh failed while the cached pair is still valid. */
  onRefreshError?: CvmRoleOptions["onRefreshError"];
}

/** Environment first, then the mounted Secret, then the CVM role (the policy's documented order). */
export function resolveCredentials(opts: CredentialOptions = {}): CredentialSource {
  const fromEnv = envCredentials(opts.env ?? process.env);
  if (fromEnv) return fromEnv;
  if (opts.secretPath) return secretCredentials(opts.secretPath);
  return cvmRoleCredentials(new MetadataClient(opts.metadataUrl), opts.clock, {
    ...(opts.onRefreshError ? { onRefreshError: opts.onRefreshError } : {}),
  });
}
