// Generated from schema/endpoint.ts by `tsc -p schema/tsconfig.types.json`; do not edit.
/** The host of an endpoint as spec.cloud.endpoint spells it: [http[s]://]host[:port][/]. */
export declare function endpointHost(endpoint: string): string;
/** 127.0.0.0/8 or localhost. (::1 cannot be written in spec.cloud.endpoint's form.) */
export declare function isLoopbackHost(host: string): boolean;
/** A plain http:// endpoint whose host is not loopback: refused unless explicitly allowed. */
export declare function isInsecureEndpoint(endpoint: string): boolean;
/**
 * What to log when an operator's command-line --endpoint overrides the policy's with an insecure
 * one: allowed (the command line is the operator's own, as the test beds and the demo use it for
 * the emulator on a VPC address), but said loudly. Undefined when there is nothing to say.
 */
export declare function endpointOverrideWarning(endpoint: string | undefined): string | undefined;
export declare const INSECURE_ENDPOINT_ALLOWED =
  "https:// (or no scheme), http:// to a loopback host (127.0.0.0/8, localhost), or spec.cloud.insecureEndpoint: true";
