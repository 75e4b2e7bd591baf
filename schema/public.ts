// The package's public entry, `import { definePolicy } from "vpccni"`: what a policy file needs
// and nothing of the runtime.
export {
  API_VERSION,
  KIND,
  definePolicy,
  type PolicySpec,
  type VpcCniPolicy,
  type VpcCniPolicyInput,
} from "./policy.ts";
