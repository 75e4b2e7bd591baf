// RBAC cannot say "only your own Node" or "only the eni-ip resource": the agent's
// `patch nodes/status` would let it rewrite any node's conditions or addresses. This
// ValidatingAdmissionPolicy narrows that grant: a vpccni agent may change the status of the
// node its pod runs on (the node name the kubelet-issued token carries), and there only the
// tke.cloud.tencent.com/eni-ip capacity and allocatable, and its own condition VpccniDrained
// (switching off). Needs Kubernetes >= 1.32
// (ValidatingAdmissionPolicy v1, node name in pod-bound ServiceAccount tokens).
import type { V1ValidatingAdmissionPolicy, V1ValidatingAdmissionPolicyBinding } from "@kubernetes/client-node";
import { commonLabels, names } from "./labels.ts";
import type { Manifest, Resource } from "./resource.ts";

import { DRAINED_CONDITION, ENI_IP_RESOURCE } from "../schema/names.ts";

export { DRAINED_CONDITION, ENI_IP_RESOURCE };
export const NODE_NAME_EXTRA = "authentication.kubernetes.io/node-name";

/** NodeStatus fields the agent must leave as they are (every field but the three it sets). */
const UNTOUCHED = [
  "phase",
  "addresses",
  "daemonEndpoints",
  "nodeInfo",
  "images",
  "volumesInUse",
  "volumesAttached",
  "config",
];

/** A resource map may change only in the eni-ip key: no other key added, changed or removed. */
function onlyEniIp(field: "capacity" | "allocatable"): string {
  const cur = `object.status.${field}`;
  const old = `oldObject.status.${field}`;
  const keep = (a: string, b: string) =>
    `(!has(${a}) || ${a}.all(k, k == variables.eniIp || (has(${b}) && k in ${b} && ${b}[k] == ${a}[k])))`;
  return `${keep(cur, old)} && ${keep(old, cur)}`;
}

/**
 * Conditions may change only in the agent's own type: every other condition is in both lists,
 * as it was (kubelet's Ready, MemoryPressure... and any other component's).
 */
function onlyDrainedCondition(): string {
  const cur = "object.status.conditions";
  const old = "oldObject.status.conditions";
  const keep = (a: string, b: string) =>
    `(!has(${a}) || ${a}.all(c, c.type == variables.drained || (has(${b}) && ${b}.exists(o, o == c))))`;
  return `${keep(cur, old)} && ${keep(old, cur)}`;
}

export function nodeStatusGuard(namespace: string): Resource[] {
  const name = names.nodeStatusGuard;
  const labels = commonLabels("rbac");
  const policy: Resource = {
    manifest: {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicy",
      metadata: { name, labels },
      spec: {
        failurePolicy: "Fail",
        matchConstraints: {
          // A PATCH reaches admission as an UPDATE of the whole Node.
          resourceRules: [
            { apiGroups: [""], apiVersions: ["v1"], operations: ["UPDATE"], resources: ["nodes/status"] },
          ],
        },
        matchConditions: [
          {
            name: "vpccni-agent",
            expression: `request.userInfo.username.startsWith('system:serviceaccount:${namespace}:vpccni-agent-')`,
          },
        ],
        variables: [
          { name: "eniIp", expression: `'${ENI_IP_RESOURCE}'` },
          { name: "drained", expression: `'${DRAINED_CONDITION}'` },
          {
            name: "tokenNode",
            expression: `'${NODE_NAME_EXTRA}' in request.userInfo.extra ? request.userInfo.extra['${NODE_NAME_EXTRA}'] : []`,
          },
        ],
        validations: [
          {
            expression: "variables.tokenNode == [object.metadata.name]",
            messageExpression: `'a vpccni agent may only update the status of the node it runs on (token for ' + (variables.tokenNode.size() == 0 ? 'no node' : variables.tokenNode[0]) + ', request for ' + object.metadata.name + ')'`,
            reason: "Forbidden",
          },
          {
            expression: onlyEniIp("capacity"),
            message: `a vpccni agent may only change ${ENI_IP_RESOURCE} in status.capacity`,
            reason: "Forbidden",
          },
          {
            expression: onlyEniIp("allocatable"),
            message: `a vpccni agent may only change ${ENI_IP_RESOURCE} in status.allocatable`,
            reason: "Forbidden",
          },
          {
            expression: UNTOUCHED.map(
              (f) =>
                `has(object.status.${f}) == has(oldObject.status.${f}) && (!has(object.status.${f}) || object.status.${f} == oldObject.status.${f})`,
            ).join(" && "),
            message: `a vpccni agent may only change status.capacity and status.allocatable (${ENI_IP_RESOURCE}) and its ${DRAINED_CONDITION} condition`,
            reason: "Forbidden",
          },
          {
            expression: onlyDrainedCondition(),
            message: `a vpccni agent may only change the ${DRAINED_CONDITION} condition in status.conditions`,
            reason: "Forbidden",
          },
        ],
      },
    } satisfies Manifest<V1ValidatingAdmissionPolicy>,
  };
  const binding: Resource = {
    manifest: {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name, labels },
      spec: { policyName: name, validationActions: ["Deny"] },
    } satisfies Manifest<V1ValidatingAdmissionPolicyBinding>,
  };
  return [policy, binding];
}
