// Public surface of the schema package: the policy type, definePolicy() for TypeScript
// policies, and the loader with its diagnostics.
export { API_VERSION, KIND, VpcCniPolicy, definePolicy, type PolicySpec, type VpcCniPolicyInput } from "./policy.ts";
export { parseDuration, formatDuration } from "./duration.ts";
export { loadPolicies, noPolicyFound, type LoadResult } from "./load.ts";
export {
  ENI_IP_RESOURCE,
  NETWORKS_ANNOTATION,
  NETWORKS_VPC_CNI,
  optsIntoVpcCni,
  TAG_CLUSTER,
  TAG_CREATED_AT,
  TAG_CREATED_BY,
  TAG_NODE,
} from "./names.ts";
export { loadYamlText, type SourcedPolicy } from "./yaml-source.ts";
export { type Diagnostic, hasErrors, pathText } from "./diagnostic.ts";
export { renderDiagnostic, renderDiagnostics, summary } from "./render.ts";
