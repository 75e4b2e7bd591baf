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
