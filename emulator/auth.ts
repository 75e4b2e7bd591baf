// Authentication of an API request: TC3 signature, timestamp window, credential registry
// (long-term keys and temporary ones with a token and an expiry), per-credential action list.
import { ApiError } from "./errors.ts";
import { parseAuthorization, scopeDate, signature, signaturesEqual } from "./sign.ts";
import type { CredentialRec } from "./state.ts";

export interface AuthRequest {
  headers: Headers;
  body: Uint8Array;
  action: string;
  nowMs: number;
  clockSkewSec: number;
  credentials: readonly CredentialRec[];
}

/** The service a VPC API request must name in its credential scope. */
export const SERVICE = "vpc";

/** Headers every TC3 signature must cover (the signing document: "content-type 和 host 为必选头部"). */
const REQUIRED_SIGNED = ["content-type", "host"];

export function authenticate(req: AuthRequest): CredentialRec {
  const header = req.headers.get("authorization");
  if (!header) throw new ApiError("AuthFailure.InvalidAuthorization", "The request has no Authorization header.");
  const auth = parseAuthorization(header);
  if (!auth)
    throw new ApiError(
      "AuthFailure.InvalidAuthorization",
      "The Authorization header is not 'TC3-HMAC-SHA256 Credential=<id>/<date>/<service>/tc3_request, SignedHeaders=..., Signature=<hex>'.",
    );
  checkScope(auth.service, auth.signedHeaders);
  const tsText = req.headers.get("x-tc-timestamp") ?? "";
  const timestamp = Number(tsText);
  if (!/^\d+$/.test(tsText))
    throw new ApiError("MissingParameter", `X-TC-Timestamp is ${JSON.stringify(tsText)}; expected unix seconds`);
  const skew = Math.abs(req.nowMs / 1000 - timestamp);
  if (skew > req.clockSkewSec) {
    throw new ApiError(
      "AuthFailure.SignatureExpire",
      `X-TC-Timestamp ${timestamp} is ${Math.round(skew)} s away from the server clock; allowed: ${req.clockSkewSec} s.`,
    );
  }
  if (auth.date !== scopeDate(timestamp))
    throw new ApiError(
      "AuthFailure.SignatureFailure",
      `Credential date ${auth.date} is not the UTC date of X-TC-Timestamp (${scopeDate(timestamp)}).`,
    );
  const cred = req.credentials.find((c) => c.secretId === auth.secretId);
  if (!cred)
    throw new ApiError(
      "AuthFailure.SecretIdNotFound",
      "The SecretId is not found; check that it exists and is enabled.",
    );
  if (!signedBy(cred.secretKey, auth.service, auth.signedHeaders, timestamp, req)) {
    throw new ApiError(
      "AuthFailure.SignatureFailure",
      "The provided credentials could not be validated; check the SecretKey and the signing steps.",
    );
  }
  if (cred.token !== undefined) {
    if (req.headers.get("x-tc-token") !== cred.token)
      throw new ApiError("AuthFailure.TokenFailure", "The token of these temporary credentials is missing or wrong.");
    if (cred.expiresAt !== undefined && cred.expiresAt * 1000 <= req.nowMs)
      throw new ApiError("AuthFailure.TokenFailure", "These temporary credentials have expired.");
  }
  if (cred.actions && !cred.actions.includes(req.action)) {
    throw new ApiError(
      "AuthFailure.UnauthorizedOperation",
      `These credentials may not call ${req.action}; allowed: ${cred.actions.join(", ")}.`,
    );
  }
  return cred;
}

/**
 * The credential scope must name the vpc service and SignedHeaders must cover content-type and
 * host; the cloud answers AuthFailure.InvalidAuthorization otherwise ("`Service` in Credential
 * not valid", as reported in tencentcloud-sdk-go issue 89 for an endpoint given as an IP).
 */
function checkScope(service: string, signedHeaders: string[]): void {
  if (service !== SERVICE)
    throw new ApiError(
      "AuthFailure.InvalidAuthorization",
      `The credential scope names service '${service}'; allowed: '${SERVICE}'. (The Node SDK takes the service from the endpoint's first label, so an endpoint such as 127.0.0.1:PORT signs for '127'.)`,
    );
  const missing = REQUIRED_SIGNED.filter((h) => !signedHeaders.includes(h));
  if (missing.length > 0)
    throw new ApiError(
      "AuthFailure.InvalidAuthorization",
      `SignedHeaders is '${signedHeaders.join(";")}'; it must include ${missing.join(" and ")} (content-type and host are required).`,
    );
}

/** Clients sign the host with or without the port (the Node SDK drops it): accept either. */
function signedBy(secretKey: string, service: string, names: string[], timestamp: number, req: AuthRequest): boolean {
  const given = parseAuthorization(req.headers.get("authorization")!)!.signature;
  const host = req.headers.get("host") ?? "";
  const hosts = new Set([host, host.replace(/:\d+$/, "")]);
  for (const h of hosts) {
    const headers: Record<string, string> = {};
    for (const n of names) headers[n] = n === "host" ? h : (req.headers.get(n) ?? "");
    if (signaturesEqual(signature({ secretKey, service, timestamp, headers, body: req.body }), given)) return true;
  }
  return false;
}
