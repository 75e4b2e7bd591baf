// Public surface of runtime/cloud.
export type {
  VpcApi,
  Eni,
  EniIp,
  EniState,
  Subnet,
  InstanceLimits,
  CreateEniRequest,
  AssignRequest,
  CallOptions,
} from "./types.ts";
export {
  CloudError,
  classify,
  kindOf,
  poolErrorKind,
  RETRYABLE,
  type CloudErrorKind,
  type PoolErrorKind,
} from "./errors.ts";
export {
  TencentVpcApi,
  TAG_CLUSTER,
  TAG_NODE,
  TAG_CREATED_BY,
  TAG_CREATED_AT,
  type TencentVpcApiOptions,
} from "./tencent.ts";
export {
  envCredentials,
  secretCredentials,
  parseKeyValues,
  cvmRoleCredentials,
  resolveCredentials,
  REFRESH_BEFORE_EXPIRY_MS,
  type Credential,
  type CredentialSource,
  type CredentialOptions,
} from "./credentials.ts";
export { MetadataClient, DEFAULT_METADATA_URL, type MetadataEni } from "./metadata.ts";
export { CONTROLLER_RATES, DEFAULT_RATES, nodeBudget, type CallObservation, type CallLog } from "./caller.ts";
export { DEFAULT_RETRY, THROTTLED_RETRY, type RetryPolicy } from "./retry.ts";
export { DEFAULT_WAITS, type WaitOptions, type WaitOptionsInput } from "./waits.ts";
export { systemClock, type Clock, type Random } from "./clock.ts";
export type { Rate } from "./token-bucket.ts";
