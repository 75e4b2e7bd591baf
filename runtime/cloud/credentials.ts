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

/**
 * A Kubernetes Secret mounted as a directory: one file per key (TENCENTCLOUD_SECRET_ID,
 * TENCENTCLOUD_SECRET_KEY, optional TENCENTCLOUD_SESSION_TOKEN). Re-read when the kubelet
 * swaps the files (a rotated Secret), detected by the modification time.
 */
export function secretDirCredentials(dir: string): CredentialSource {
  let cached: { mtimeMs: number; cred: Credential } | undefined;
  const file = (name: string) => join(dir, name);
  return {
    description: `secret directory ${dir}`,
    async get() {
      let mtimeMs: number;
      try {
        mtimeMs = statSync(file("TENCENTCLOUD_SECRET_KEY")).mtimeMs;
      } catch (e) {
        throw new Error(`credentials: ${file("TENCENTCLOUD_SECRET_KEY")} cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"}); the Secret needs keys TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY`);
      }
      if (cached && cached.mtimeMs === mtimeMs) return cached.cred;
      const read = (name: string, optional = false) => {
        try {
          return readFileSync(file(name), "utf8").trim();
        } catch (e) {
          if (optional) return "";
          throw new Error(`credentials: ${file(name)} cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"}); the Secret needs keys TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY`);
        }
      };
      const secretId = read("TENCENTCLOUD_SECRET_ID");
      const secretKey = read("TENCENTCLOUD_SECRET_KEY");
      if (!secretId || !secretKey) throw new Error(`credentials: ${dir} has an empty TENCENTCLOUD_SECRET_ID or TENCENTCLOUD_SECRET_KEY`);
      const token = read("TENCENTCLOUD_SESSION_TOKEN", true);
      cached = { mtimeMs, cred: token ? { secretId, secretKey, token } : { secretId, secretKey } };
      return cached.cred;
    },
  };
}

/** Refresh this long before the temporary credentials expire (the SDK's own provider uses 30 s too). */
export const REFRESH_BEFORE_EXPIRY_MS = 30_000;

/** The CVM role's temporary credentials, fetched from the metadata service and refreshed before expiry. */
export function cvmRoleCredentials(metadata: MetadataClient, clock: Clock = systemClock): CredentialSource {
  let cached: { cred: Credential; expiresAtMs: number } | undefined;
  let inflight: Promise<Credential> | undefined;
  const refresh = async (): Promise<Credential> => {
    const role = await metadata.roleName();
    const c = await metadata.roleCredentials(role);
    cached = { cred: { secretId: c.TmpSecretId, secretKey: c.TmpSecretKey, token: c.Token }, expiresAtMs: c.ExpiredTime * 1000 };
    return cached.cred;
  };
  return {
    description: "CVM role from the instance metadata service",
    get() {
      if (cached && clock.now() < cached.expiresAtMs - REFRESH_BEFORE_EXPIRY_MS) return Promise.resolve(cached.cred);
      // One refresh at a time: concurrent API calls share it.
      inflight ??= refresh().finally(() => (inflight = undefined));
      return inflight;
    },
  };
}

export interface CredentialOptions {
  env?: Record<string, string | undefined>;
  /** Directory of a mounted Secret (policy spec.cloud.credentialsSecretRef). */
  secretDir?: string;
  /** Base URL of the metadata service; default metadata.tencentyun.com. */
  metadataUrl?: string;
  clock?: Clock;
}

/** Environment first, then the mounted Secret, then the CVM role (the policy's documented order). */
export function resolveCredentials(opts: CredentialOptions = {}): CredentialSource {
  const fromEnv = envCredentials(opts.env ?? process.env);
  if (fromEnv) return fromEnv;
  if (opts.secretDir) return secretDirCredentials(opts.secretDir);
  return cvmRoleCredentials(new MetadataClient(opts.metadataUrl), opts.clock);
}
