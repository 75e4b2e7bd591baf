// Public surface of the compiler: policies -> manifests (files), drift check, capacity plan,
// and the contract the node agent is held to (its API requests, paths, ports, arguments).
export { compileToDir, isCurrent, type CompileOutcome, type CompileRequest } from "./compile-to-dir.ts";
export { generate, type Generated } from "./output-files.ts";
export { AGENT_API_REQUESTS, AGENT_DENIED_REQUESTS, EVENTS_NAMESPACE, type ApiRequest } from "./rbac.ts";
export { agentRequestFor, attributesOf, type RequestAttributes } from "./rbac-match.ts";
export { ENI_IP_RESOURCE, NODE_NAME_EXTRA } from "./admission.ts";
export * as contract from "./agent-contract.ts";
export { OWNED_MARKER, KUSTOMIZATION } from "./render.ts";
export { IMMUTABLE_POLICY_FIELDS } from "./immutable.ts";
export { GENERATOR_VERSION, DEFAULT_IMAGE, DEFAULT_NAMESPACE } from "./version.ts";
