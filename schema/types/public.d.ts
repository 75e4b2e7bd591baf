// Generated from schema/public.ts by `tsc -p schema/tsconfig.types.json`; do not edit.
export {
  API_VERSION,
  KIND,
  definePolicy,
  type PolicySpec,
  type VpcCniPolicy,
  type VpcCniPolicyInput,
} from "./policy.ts";
