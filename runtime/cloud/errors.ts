// Cloud failures as data the pool engine can act on. Every Tencent error code maps onto one
// kind; the code, the action and the RequestId stay on the error for logs and support tickets.

export type CloudErrorKind =
  | "eni-quota"
  | "ip-quota"
  | "subnet-exhausted"
  | "not-found"
  | "throttled"
  | "auth"
  | "invalid-state"
  | "zone-mismatch"
  | "invalid-parameter"
  /** A requested address is held by another ENI (ResourceInUse on Create/Assign; ResourceInUse.Address). */
  | "address-in-use"
  /** Another task runs on the same ENI (UnsupportedOperation.MutexOperationTaskRunning). */
  | "busy"
  /**
   * The cloud answered a value its field does not allow (an IP that is no IPv4 address, a CIDR
   * with a newline): refused at the adapter boundary, not retried (answers.ts).
   */
  | "invalid-answer"
  /** An asynchronous task did not finish within its wait. */
  | "timeout"
  /** InternalError, HTTP 5xx, network errors: worth retrying. */
  | "transient";

/** Kinds retried inside the adapter (with capped exponential backoff and jitter). */
export const RETRYABLE: ReadonlySet<CloudErrorKind> = new Set(["throttled", "transient", "busy"]);

export class CloudError extends Error {
  override readonly name = "CloudError";
  constructor(
    readonly kind: CloudErrorKind,
    readonly action: string,
    message: string,
    readonly code?: string,
    readonly requestId?: string,
  ) {
    super(message);
  }

  get retryable(): boolean {
    return RETRYABLE.has(this.kind);
  }
}

/** Maps any failure of an SDK call to a CloudError. */
export function classify(action: string, err: unknown): CloudError {
  if (err instanceof CloudError) return err;
  const e = (err ?? {}) as { code?: unknown; requestId?: unknown; httpCode?: unknown; message?: unknown };
  const code = typeof e.code === "string" && e.code !== "" ? e.code : undefined;
  const requestId = typeof e.requestId === "string" && e.requestId !== "" ? e.requestId : undefined;
  const message = `${action}: ${code ? `${code}: ` : ""}${typeof e.message === "string" ? e.message : String(err)}`;
  if (code === undefined) {
    // No API code: the HTTP status was not 200, or the request never got an answer.
    return new CloudError(
      "transient",
      action,
      message,
      typeof e.httpCode === "number" ? `HTTP ${e.httpCode}` : undefined,
      requestId,
    );
  }
  return new CloudError(kindOf(action, code), action, message, code, requestId);
}

export function kindOf(action: string, code: string): CloudErrorKind {
  if (code === "UnauthorizedOperation.PrimaryIp") return "invalid-parameter";
  // "No such attachment": the ENI is not attached there, which is a state, not a missing resource.
  if (code === "UnauthorizedOperation.AttachmentNotFound" || code === "UnsupportedOperation.AttachmentNotFound")
    return "invalid-state";
  if (code.startsWith("AuthFailure") || code.startsWith("UnauthorizedOperation")) return "auth";
  if (code.startsWith("RequestLimitExceeded") || code === "LimitExceeded.ActionLimited") return "throttled";
  if (code.startsWith("InternalError") || code === "InternalServerError" || code === "ServiceUnavailable")
    return "transient";
  // Another task on the ENI, or the first call with this ClientToken still running.
  if (
    code.endsWith("MutexOperationTaskRunning") ||
    code.endsWith("MutexTaskRunning") ||
    code === "UnsupportedOperation.IdempotentProcessing"
  )
    return "busy";
  // Create and Assign document plain ResourceInUse for an address in use; Delete uses it for an attached ENI.
  if (
    code === "ResourceInUse.Address" ||
    (code === "ResourceInUse" && (action === "AssignPrivateIpAddresses" || action === "CreateNetworkInterface"))
  )
    return "address-in-use";
  if (code.startsWith("ResourceInsufficient")) return "subnet-exhausted";
  if (code === "LimitExceeded.NetworkInterfaceLimitExceeded") return "eni-quota";
  if (code === "LimitExceeded.Address") return "ip-quota";
  if (code === "LimitExceeded.NumberOfFilters" || code.startsWith("LimitExceeded.Tag")) return "invalid-parameter";
  if (code.startsWith("LimitExceeded")) {
    // The same code means "ENI quota" on Create/Attach and "IP quota of the ENI" on Assign.
    return action === "AssignPrivateIpAddresses" ? "ip-quota" : "eni-quota";
  }
  // ResourceNotFound, InvalidNetworkInterfaceId.NotFound, InvalidInstanceId.NotFound, InvalidParameterValue.NetworkInterfaceNotFound ...
  if (code.startsWith("ResourceNotFound") || code.endsWith("NotFound")) return "not-found";
  if (code === "UnsupportedOperation.ZoneMismatch") return "zone-mismatch";
  if (code === "UnsupportedOperation.IdempotentParameterMismatch") return "invalid-parameter";
  if (code.startsWith("UnsupportedOperation") || code === "ResourceInUse" || code.startsWith("InvalidState"))
    return "invalid-state";
  if (
    code.startsWith("InvalidParameter") ||
    code.startsWith("MissingParameter") ||
    code.startsWith("UnknownParameter") ||
    code === "UnsupportedRegion" ||
    code === "InvalidAction"
  )
    return "invalid-parameter";
  return "transient";
}

/** The kinds runtime/pool knows; the others it treats as transient. */
export type PoolErrorKind =
  | "eni-quota"
  | "ip-quota"
  | "subnet-exhausted"
  | "throttled"
  | "not-found"
  | "auth"
  | "transient";

export function poolErrorKind(kind: CloudErrorKind): PoolErrorKind {
  switch (kind) {
    case "eni-quota":
    case "ip-quota":
    case "subnet-exhausted":
    case "throttled":
    case "not-found":
    case "auth":
    case "transient":
      return kind;
    default:
      return "transient";
  }
}
