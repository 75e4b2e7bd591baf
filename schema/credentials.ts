// Policies live in Git, so a key pair written into one is a leaked key pair. Anything that
// looks like a credential is refused, wherever it sits, and its value is never echoed.
import type { PathSegment } from "./diagnostic.ts";

const CREDENTIAL_KEY =
  /^(tmp)?(secret[-_]?(id|key)|access[-_]?key([-_]?(id|secret))?|(session[-_]?)?token|password|passwd|private[-_]?key|credentials?)$/i;
/** Tencent Cloud SecretIds start with AKID; keys are 32 characters of letters and digits. */
const CREDENTIAL_VALUE = /\bAKID[A-Za-z0-9]{16,}\b/;

export interface CredentialFinding {
  path: PathSegment[];
  /** The key itself is the problem (true), or a value that looks like a SecretId (false). */
  atKey: boolean;
}

export function findInlineCredentials(value: unknown, path: PathSegment[] = []): CredentialFinding[] {
  const found: CredentialFinding[] = [];
  if (typeof value === "string") {
    if (CREDENTIAL_VALUE.test(value)) found.push({ path, atKey: false });
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => found.push(...findInlineCredentials(item, [...path, i])));
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      if (CREDENTIAL_KEY.test(key)) found.push({ path: [...path, key], atKey: true });
      else found.push(...findInlineCredentials(item, [...path, key]));
    }
  }
  return found;
}

export const CREDENTIALS_ADVICE =
  "policies are committed to Git, so vpccni never reads keys from them: create a Secret " +
  "(kubectl -n vpccni-system create secret generic tencentcloud-credentials " +
  "--from-literal=TENCENTCLOUD_SECRET_ID=... --from-literal=TENCENTCLOUD_SECRET_KEY=...) and set " +
  "spec.cloud.credentialsSecretRef.name: tencentcloud-credentials, or leave it unset to use the node's CVM role";

export function redacted(value: unknown): string {
  return typeof value === "string" ? `<redacted, ${value.length} characters>` : "<redacted>";
}
