// RBAC cannot say "only your own Node" or "only the eni-ip resource": the agent's
// `patch nodes/status` would let it rewrite any node's conditions or addresses. This
// ValidatingAdmissionPolicy narrows that grant: a vpccni agent may change the status of the
// node its pod runs on (the node name the kubelet-issued token carries), and there only the
// tke.cloud.tencent.com/eni-ip capacity and allocatable, and its own condition VpccniDrained
// (switching off): every other status field and the metadata a status request can carry
// (labels, annotations, owners, finalizers) stay as they were. Needs Kubernetes >= 1.32
// (ValidatingAdmissionPolicy v1, node name in pod-bound ServiceAccount tokens). The CEL reads
// `object` untyped at admission, so a field an older server does not know is simply absent.
import type { V1ValidatingAdmissionPolicy, V1ValidatingAdmissionPolicyBinding } from "@kubernetes/client-node";
import { commonLabels, names } from "./labels.ts";
import type { Manifest, Resource } from "./resource.ts";

import { DRAINED_CONDITION, ENI_IP_RESOURCE } from "../schema/names.ts";

export { DRAINED_CONDITION, ENI_IP_RESOURCE };
export const NODE_NAME_EXTRA = "authentication.kubernetes.io/node-name";

/**
 * Said on stderr and written into kustomization.yaml when the policy is left out: the output
 * then gives every agent's token the whole of `patch nodes/status` on every Node.
 */
export const WITHOUT_NODE_STATUS_POLICY =
  "compiled with --without-node-status-policy: the admission policy vpccni-agent-node-status is left out, " +
  "so every vpccni agent's ServiceAccount token may patch the status, labels and annotations of every Node " +
  "(a stolen token can mark any Node NotReady or relabel it to attract workloads meant for other nodes); " +
  "only for clusters before Kubernetes 1.30: compile without it once the cluster is upgraded";

/**
 * Every field of NodeStatus (io.k8s.api.core.v1.NodeStatus) and what an agent may do to it:
 * "frozen" as it was, "eni-ip" only that key of the resource map, "drained" only the
 * VpccniDrained condition. A field missing here would be unguarded: the test on the real API
 * server (test/compiler/node-status-policy.test.ts) compares this list with its OpenAPI.
 */
export const NODE_STATUS_FIELDS = {
  addresses: "frozen",
  allocatable: "eni-ip",
  capacity: "eni-ip",
  conditions: "drained",
  config: "frozen",
  daemonEndpoints: "frozen",
  declaredFeatures: "frozen",
  features: "frozen",
  images: "frozen",
  nodeInfo: "frozen",
  phase: "frozen",
  runtimeHandlers: "frozen",
  volumesAttached: "frozen",
  volumesInUse: "frozen",
} as const satisfies Record<string, "frozen" | "eni-ip" | "drained">;

/**
 * Metadata a nodes/status request can change (the status strategy resets only the spec): a
 * stolen agent token could relabel its Node to attract workloads meant for other nodes, or
 * give it an owner for the garbage collector to delete it by.
 */
export const FROZEN_METADATA = ["labels", "annotations", "ownerReferences", "finalizers"] as const;

type StatusRule = (typeof NODE_STATUS_FIELDS)[keyof typeof NODE_STATUS_FIELDS];

function fieldsWith(rule: StatusRule): string[] {
  return Object.entries(NODE_STATUS_FIELDS)
    .filter(([, r]) => r === rule)
    .map(([field]) => field);
}

/** `field` (a path under object and oldObject) is present in both or neither, and equal. */
function unchanged(field: string): string {
  const cur = `object.${field}`;
  const old = `oldObject.${field}`;
  return `has(${cur}) == has(${old}) && (!has(${cur}) || ${cur} == ${old})`;
}

/** A resource map may change only in the eni-ip key: no other key added, changed or removed. */
function onlyEniIp(field: string): string {
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
function onlyDrainedCondition(field: string): string {
  const cur = `object.status.${field}`;
  const old = `oldObject.status.${field}`;
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
          ...fieldsWith("eni-ip").map((f) => ({
            expression: onlyEniIp(f),
            message: `a vpccni agent may only change ${ENI_IP_RESOURCE} in status.${f}`,
            reason: "Forbidden",
          })),
          {
            expression: fieldsWith("frozen")
              .map((f) => unchanged(`status.${f}`))
              .join(" && "),
            message: `a vpccni agent may only change status.capacity and status.allocatable (${ENI_IP_RESOURCE}) and its ${DRAINED_CONDITION} condition`,
            reason: "Forbidden",
          },
          {
            expression: FROZEN_METADATA.map((f) => unchanged(`metadata.${f}`)).join(" && "),
            message: `a vpccni agent may not change a Node's ${FROZEN_METADATA.map((f) => `metadata.${f}`).join(", ")} (its rights are for status only)`,
            reason: "Forbidden",
          },
          ...fieldsWith("drained").map((f) => ({
            expression: onlyDrainedCondition(f),
            message: `a vpccni agent may only change the ${DRAINED_CONDITION} condition in status.${f}`,
            reason: "Forbidden",
          })),
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
