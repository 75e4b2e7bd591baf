// Names that the product shares with Kubernetes, the cloud and the user, defined once. Every
// part (compiler, agent, cloud adapter, sandbox) imports them from here.

/** The Node extended resource: Allocatable = IPs bound, Capacity = max bindable (behaviour.md 7). */
export const ENI_IP_RESOURCE = "tke.cloud.tencent.com/eni-ip";
/** The pod annotation that opts a pod into VPC-CNI (mixed mode). */
export const NETWORKS_ANNOTATION = "tke.cloud.tencent.com/networks";
/** Its value for VPC-CNI. */
export const NETWORKS_VPC_CNI = "tke-route-eni";
/**
 * The Node condition an agent sets while its policy switches vpccni off (spec.enabled: false):
 * False (reason Draining) while vpccni pods remain, True (reason Drained) once the node holds
 * nothing of vpccni's. The only condition the node-status admission policy lets an agent write.
 */
export const DRAINED_CONDITION = "VpccniDrained";
/** A namespace labelled with this key and value "disabled" is skipped by the eni-ip webhook. */
export const ENI_IP_INJECTION_LABEL = "vpccni.io/eni-ip-injection";

/**
 * Does a pod's networks annotation name VPC-CNI? The value is a network list in the forms
 * multus reads: comma-separated names (`tke-route-eni`, `ns/tke-route-eni`,
 * `tke-route-eni@eth1`) or a JSON list of `{"name": ...}` objects.
 */
export function optsIntoVpcCni(annotations: Readonly<Record<string, string>> | undefined): boolean {
  const value = annotations?.[NETWORKS_ANNOTATION]?.trim();
  if (!value) return false;
  let names: string[];
  if (value.startsWith("[")) {
    try {
      const list = JSON.parse(value) as unknown;
      names = Array.isArray(list)
        ? list.map((n) => (n !== null && typeof n === "object" ? String((n as { name?: unknown }).name ?? "") : ""))
        : [];
    } catch {
      return false;
    }
  } else names = value.split(",");
  return names.some(
    (n) =>
      n
        .trim()
        .replace(/^[^/]*\//, "")
        .replace(/@.*$/, "") === NETWORKS_VPC_CNI,
  );
}

/** Cloud tags on every ENI vpccni creates: which cluster and node it belongs to, who made it, when. */
export const TAG_CLUSTER = "vpccni.io/cluster";
export const TAG_NODE = "vpccni.io/node";
export const TAG_CREATED_BY = "vpccni.io/created-by";
export const TAG_CREATED_AT = "vpccni.io/created-at";

// Fixed IP mode (spec/fixed-ip.md). The annotations are TKE's, so that pod templates written for
// TKE work unchanged.
/** `Immediate` (the IP goes with the pod) or `Never` (kept for the next pod of the same name). */
export const DELETE_POLICY_ANNOTATION = "tke.cloud.tencent.com/vpc-ip-claim-delete-policy";
/** How long a deleted pod's IP is kept for the next pod of the same name, e.g. `30m`. */
export const CLAIM_EXPIRED_ANNOTATION = "tke.cloud.tencent.com/claim-expired-duration";
/** One specific address the pod asks for. */
export const NOMINATED_IP_ANNOTATION = "tke.cloud.tencent.com/nominated-vpc-ip";
/** The Node label with the CVM instance id (TKE sets it; the fixed-IP controller reads it). */
export const INSTANCE_ID_LABEL = "cloud.tencent.com/node-instance-id";
/**
 * The Node label with the subnet of the node's fixed-IP ENI, set by the controller once the ENI
 * is bound; the webhook pins a pod whose claim holds an address to nodes of that subnet.
 */
export const ENI_SUBNET_LABEL = "vpccni.io/eni-subnet";
/** Finalizer on a VpcIPClaim: the controller releases the address before the claim goes. */
export const CLAIM_FINALIZER = "vpccni.io/release-address";
