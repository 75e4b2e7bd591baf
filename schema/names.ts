// Names that the product shares with Kubernetes, the cloud and the user, defined once. Every
// part (compiler, agent, cloud adapter, sandbox) imports them from here.

/** The Node extended resource: Allocatable = IPs bound, Capacity = max bindable (behaviour.md 7). */
export const ENI_IP_RESOURCE = "tke.cloud.tencent.com/eni-ip";
/** The pod annotation that opts a pod into VPC-CNI (mixed mode). */
export const NETWORKS_ANNOTATION = "tke.cloud.tencent.com/networks";
/** Its value for VPC-CNI. */
export const NETWORKS_VPC_CNI = "tke-route-eni";

/** Cloud tags on every ENI vpccni creates: which cluster and node it belongs to, who made it, when. */
export const TAG_CLUSTER = "vpccni.io/cluster";
export const TAG_NODE = "vpccni.io/node";
export const TAG_CREATED_BY = "vpccni.io/created-by";
export const TAG_CREATED_AT = "vpccni.io/created-at";
