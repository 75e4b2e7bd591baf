// Prometheus Operator objects, generated only when a policy asks (spec.monitoring): a
// ServiceMonitor for the headless metrics Service and a PrometheusRule whose alerts read the
// agent's metrics (docs/metrics.md). Their CRDs are the Prometheus Operator's, not ours, so
// Argo CD syncs them last and skips the dry run while the CRDs are missing.
import type { SourcedPolicy } from "../schema/index.ts";
import { METRICS_PATH } from "./agent-contract.ts";
import { commonLabels, names } from "./labels.ts";
import type { Resource } from "./resource.ts";

export const MONITORING_API = "monitoring.coreos.com/v1";
/** Argo CD: apply even when the dry run cannot find the kind (the Operator installs the CRD). */
const SKIP_DRY_RUN = { "argocd.argoproj.io/sync-options": "SkipDryRunOnMissingResource=true" };
const SCRAPE_INTERVAL = "30s";

/** The Prometheus Operator objects any of the policies asks for; none when none does. */
export function monitoringObjects(policies: readonly SourcedPolicy[], namespace: string): Resource[] {
  const wants = (key: "serviceMonitor" | "prometheusRules") =>
    policies.some((p) => p.policy.spec.monitoring?.[key] === true);
  return [
    ...(wants("serviceMonitor") ? [serviceMonitor(namespace)] : []),
    ...(wants("prometheusRules") ? [prometheusRule(namespace)] : []),
  ];
}

export function serviceMonitor(namespace: string): Resource {
  const service = commonLabels("metrics");
  return {
    manifest: {
      apiVersion: MONITORING_API,
      kind: "ServiceMonitor",
      metadata: { name: names.metrics, namespace, labels: commonLabels("metrics"), annotations: { ...SKIP_DRY_RUN } },
      spec: {
        selector: {
          matchLabels: {
            "app.kubernetes.io/component": service["app.kubernetes.io/component"],
            "app.kubernetes.io/name": service["app.kubernetes.io/name"],
          },
        },
        namespaceSelector: { matchNames: [namespace] },
        endpoints: [
          {
            port: "metrics",
            path: METRICS_PATH,
            interval: SCRAPE_INTERVAL,
            // Alerts name the node, not only the agent pod.
            relabelings: [{ sourceLabels: ["__meta_kubernetes_pod_node_name"], targetLabel: "node" }],
          },
        ],
      },
    },
  };
}

interface Alert {
  alert: string;
  expr: string;
  for: string;
  severity: "warning" | "critical";
  summary: string;
  description: string;
}

/** The label set an agent's series carry through the ServiceMonitor. */
const AGENT = "namespace, pod, node";

/** The alerts, in a fixed order. Every vpccni_* name here is registered in runtime/agent/metrics.ts (monitoring.test.ts). */
export function alerts(namespace: string): Alert[] {
  const sel = `namespace="${namespace}"`;
  return [
    {
      alert: "VpccniAgentDown",
      expr: `up{${sel}, job="${names.metrics}"} == 0`,
      for: "5m",
      severity: "critical",
      summary: "A vpccni agent does not answer on /metrics",
      description:
        "The agent {{ $labels.pod }} on node {{ $labels.node }} has not been scraped for 5 minutes: new pods on that node get CNI error 11 (agent unreachable). See docs/troubleshooting.md.",
    },
    {
      alert: "VpccniPodsWaitingForIp",
      expr: `max by (${AGENT}) (vpccni_pods_waiting{${sel}}) > 0`,
      for: "5m",
      severity: "warning",
      summary: "Pods have waited for an IP for 5 minutes",
      description:
        "Node {{ $labels.node }} has had pods waiting for an IP for 5 minutes: the pool is empty and does not grow. Look at the node's Events (PoolExhausted, SubnetExhausted, EniQuotaReached) and vpccni_cloud_operations_total.",
    },
    {
      alert: "VpccniAllocationsFailing",
      expr: `sum by (${AGENT}) (increase(vpccni_allocations_total{${sel}, result="no-ip"}[10m])) > 0`,
      for: "10m",
      severity: "warning",
      summary: "CNI ADDs are answered without an IP",
      description:
        "On node {{ $labels.node }}, CNI ADDs got no IP (error 11 or 103) for 10 minutes; pods stay in ContainerCreating.",
    },
    {
      alert: "VpccniNodeAtIpLimit",
      expr: `(max by (${AGENT}) (vpccni_pool_ips{${sel}, state="bound"}) >= max by (${AGENT}) (vpccni_pool_max_bindable{${sel}})) and on (${AGENT}) (max by (${AGENT}) (vpccni_pods_waiting{${sel}}) > 0)`,
      for: "10m",
      severity: "warning",
      summary: "A node binds all the IPs its ENI quota allows and pods still wait",
      description:
        "Node {{ $labels.node }} holds vpccni_pool_max_bindable IPs (ENIs x IPs per ENI) and pods still wait: schedule fewer pods there, or use a larger instance type.",
    },
    {
      alert: "VpccniEniQuotaReached",
      expr: `sum by (${AGENT}) (increase(vpccni_cloud_operations_total{${sel}, outcome=~"eni-quota|ip-quota"}[10m])) > 0`,
      for: "0m",
      severity: "warning",
      summary: "The cloud refused an ENI or IP for quota",
      description:
        "Node {{ $labels.node }}: CreateNetworkInterface or AssignPrivateIpAddresses failed with a quota error in the last 10 minutes (Events EniQuotaReached / IpQuotaReached).",
    },
    {
      alert: "VpccniSubnetFreeIpsLow",
      expr: `(min by (subnet, zone) (vpccni_subnet_free_ips{${sel}}) / max by (subnet, zone) (vpccni_subnet_total_ips{${sel}})) < 0.1`,
      for: "15m",
      severity: "warning",
      summary: "A pod subnet has less than 10% of its IPs free",
      description:
        "Subnet {{ $labels.subnet }} ({{ $labels.zone }}) has less than 10% free IPs: add a subnet of that zone to spec.subnets before it runs out.",
    },
    {
      alert: "VpccniSubnetExhausted",
      expr: `min by (subnet, zone) (vpccni_subnet_free_ips{${sel}}) == 0`,
      for: "5m",
      severity: "critical",
      summary: "A pod subnet has no free IP",
      description:
        "Subnet {{ $labels.subnet }} ({{ $labels.zone }}) has no free IP: nodes of that zone cannot grow their pools (Event SubnetExhausted).",
    },
    {
      alert: "VpccniCloudThrottled",
      expr: `sum by (${AGENT}) (rate(vpccni_cloud_operations_total{${sel}, outcome="throttled"}[10m])) > 0`,
      for: "10m",
      severity: "warning",
      summary: "The VPC API throttles a node's calls",
      description:
        "Node {{ $labels.node }}: cloud operations failed with RequestLimitExceeded after the adapter's retries for 10 minutes; the agent backs off, so pools grow late.",
    },
    {
      alert: "VpccniCloudErrors",
      expr: `sum by (${AGENT}, action) (rate(vpccni_cloud_operations_total{${sel}, outcome=~"transient|not-found"}[10m])) > 0`,
      for: "15m",
      severity: "warning",
      summary: "Cloud operations keep failing",
      description:
        'Node {{ $labels.node }}: {{ $labels.action }} operations have failed for 15 minutes; the agent\'s log lines "cloud operation failed" carry the error code and RequestId.',
    },
    {
      alert: "VpccniCloudAuthFailed",
      expr: `sum by (${AGENT}) (increase(vpccni_cloud_operations_total{${sel}, outcome="auth"}[10m])) > 0`,
      for: "0m",
      severity: "critical",
      summary: "The VPC API refuses a node's credentials",
      description:
        "Node {{ $labels.node }}: a cloud operation failed with AuthFailure or UnauthorizedOperation; the agent pauses cloud calls (Event CloudAuthFailed). Check spec.cloud.credentialsSecretRef or the CVM role.",
    },
  ];
}

export function prometheusRule(namespace: string): Resource {
  const rules = alerts(namespace).map((a) => ({
    alert: a.alert,
    expr: a.expr,
    for: a.for,
    labels: { severity: a.severity },
    annotations: { summary: a.summary, description: a.description },
  }));
  return {
    manifest: {
      apiVersion: MONITORING_API,
      kind: "PrometheusRule",
      metadata: { name: "vpccni-agent", namespace, labels: commonLabels("metrics"), annotations: { ...SKIP_DRY_RUN } },
      spec: { groups: [{ name: "vpccni", rules }] },
    },
  };
}
