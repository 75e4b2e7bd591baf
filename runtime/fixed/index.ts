// The fixed IP allocator: the cluster's address pool for ipMode: fixed, pure (state and time in,
// decisions out). Rule table: docs/fixed-ip.md; the controller applies the decisions.
//
// Ownership (why: at 300,000 claims a copy per step costs more than the step): a step takes the
// state it is given, changes it in place and returns it, the same object, in Step.state (so do
// setSubnets, eniReady and addressInUse). A refused step changes nothing and returns it as it
// was. Keep no other reference to a state you pass in; copy it first if you need the old one
// (stateFromJSON(JSON.parse(JSON.stringify(state))): claims and addresses are a dense table,
// claim-table.ts, which structuredClone does not copy). A state built by hand (createState,
// then nodes filled and claims put with putClaim from the cluster objects) is indexed on first
// use; after editing nodes or subnets in place of a state the API has already seen, call
// indexState(state). Details: types.ts, claim-table.ts, state-index.ts.
//      rule (spec/behaviour.md "Fixed IP mode")               function            file
//   2  one ENI per node, no IPs, quota reserved                bindNodeEni         node.ts
//   8  ENI subnet: most free, holds the quota, else refusal    subnetForNodeEni    node.ts
//   8  ENI subnet: only subnets of the node's zone             subnetsOfZone       node.ts
//   3  pod: address of the ENI's subnet, assigned by address   podAdded            pod.ts
//   3  lowest free address of the subnet                       pickAddress         pod.ts
//   3  the VPC holds the address for someone else: never again addressInUse        pod.ts
//   4  pod deleted, Immediate: unassign, back to the VPC       podDeleted          pod.ts
//   5  kept claim: same address on any node of its subnet      podAdded            pod.ts
//   6  per-pod annotations override the cluster reclaim        effectiveReclaim    pod.ts
//   6  expired claims garbage-collected                        collectExpired      reclaim.ts
//   -  claim deleted: reclaimed at once                        deleteClaim         reclaim.ts
//   7  node deleted: ENI deleted, kept addresses stay reserved removeNode          node.ts
export type { Decision, FixedState, Millis, PersistedState, PodAsk, Reclaim, Refusal, Step } from "./types.ts";
export { bindNodeEni, eniReady, removeNode, subnetForNodeEni, subnetsOfZone } from "./node.ts";
export { addressInUse, deletePod, effectiveReclaim, pickAddress, podAdded } from "./pod.ts";
export { collectExpired, deleteClaim, nextWakeAt } from "./reclaim.ts";
export {
  claimKey,
  createState,
  headroom,
  putClaim,
  reclaimFromPolicy,
  setSubnets,
  STATE_VERSION,
  stateFromJSON,
} from "./state.ts";
export type { AddressesView, ClaimsView, HeldClaim } from "./claim-table.ts";
export { indexState } from "./state-index.ts";
