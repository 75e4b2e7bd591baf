// The cluster component, `vpccni controller`: its Deployment (2 replicas, every one serves the
// webhook), the webhook's Service and MutatingWebhookConfiguration, a PodDisruptionBudget, and
// RBAC derived from CONTROLLER_API_REQUESTS, which lists exactly what
// runtime/kube/controller-client.ts asks (test/compiler proves it on a real API server).
// No TLS material in the output: the controller makes its CA and serving key in a Secret and
// sets the caBundle itself; GitOps tools must leave that one field alone (examples/argocd). With
// spec.webhook.tls: cert-manager, cert-manager issues that Secret instead (cert-manager.ts) and
// the controller loses the rights only its own TLS bootstrap needs.
import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1Deployment,
  V1MutatingWebhookConfiguration,
  V1PodDisruptionBudget,
  V1Role,
  V1RoleBinding,
  V1Service,
  V1ServiceAccount,
} from "@kubernetes/client-node";
import { ENI_IP_INJECTION_LABEL, ENI_IP_RESOURCE } from "../schema/names.ts";
import type { VpcCniPolicy } from "../schema/index.ts";
import { ENV, PATHS, SERVICE_ACCOUNT_CA } from "./agent-contract.ts";
import { certManagerObjects, type WebhookSettings, type WebhookTlsMode, webhookAnnotations } from "./cert-manager.ts";
import { credentialsSecretName, policyDigest, policyYaml } from "./policy-objects.ts";
import { commonLabels, names } from "./labels.ts";
import type { Manifest, Resource } from "./resource.ts";

export const CONTROLLER = {
  webhookPort: 9443,
  healthPort: 9440,
  webhookPath: "/mutate-pods",
  webhookName: "eni-ip.vpccni.io",
} as const;

export interface ControllerRequest {
  verb: "get" | "list" | "create" | "update" | "patch" | "delete";
  group: string;
  resource: string;
  /** e.g. "status": a resource of its own in RBAC ("vpcipclaims/status"). */
  subresource?: string;
  /** Only these objects (RBAC resourceNames); a create cannot be narrowed so. */
  names?: string[];
  scope: "cluster" | "namespace";
  why: string;
}

/** How the cluster's pods get addresses: a fixed-IP policy makes the controller run its passes. */
export type ClusterIpMode = "shared" | "fixed";

/** The fixed-IP passes' cluster objects (runtime/kube/fixed-client.ts). */
const FIXED_GROUP = "vpccni.io";

/**
 * `tls`: made only in that webhook TLS mode (absent: in both). `ipMode: "fixed"`: made only
 * when a policy has ipMode: fixed (runtime/controller/fixed-pass.ts, fixed-apply.ts,
 * fixed-write.ts through runtime/kube/fixed-client.ts; `list` is a cluster-wide GET, `update`
 * a PUT, `updateStatus` a PUT on /status, `remove` a DELETE).
 */
const REQUESTS: readonly (ControllerRequest & { tls?: WebhookTlsMode; ipMode?: "fixed" })[] = [
  {
    verb: "get",
    group: "",
    resource: "secrets",
    names: [names.webhookSecret],
    scope: "namespace",
    why: "reads the webhook's CA and serving certificate, which the first replica created",
    tls: "self-managed",
  },
  {
    verb: "get",
    group: "",
    resource: "secrets",
    names: [names.webhookSecret],
    scope: "namespace",
    why: "reads the webhook's serving certificate, which cert-manager issued",
    tls: "cert-manager",
  },
  {
    verb: "create",
    group: "",
    resource: "secrets",
    scope: "namespace",
    why: "creates the webhook's TLS Secret once (RBAC cannot narrow a create to a name)",
    tls: "self-managed",
  },
  {
    verb: "update",
    group: "",
    resource: "secrets",
    names: [names.webhookSecret],
    scope: "namespace",
    why: "renews the serving certificate from the same CA 30 days before it ends",
    tls: "self-managed",
  },
  {
    verb: "list",
    group: "",
    resource: "nodes",
    scope: "cluster",
    why: "the departed-node ENI sweep keeps the ENIs of every Node that exists (their agents own them)",
  },
  {
    verb: "get",
    group: "coordination.k8s.io",
    resource: "leases",
    names: [names.controller],
    scope: "namespace",
    why: "reads the Lease the replicas elect a leader on",
  },
  {
    verb: "create",
    group: "coordination.k8s.io",
    resource: "leases",
    scope: "namespace",
    why: "creates the Lease once (RBAC cannot narrow a create to a name)",
  },
  {
    verb: "update",
    group: "coordination.k8s.io",
    resource: "leases",
    names: [names.controller],
    scope: "namespace",
    why: "renews the Lease while leading, or takes it over once it ran out",
  },
  {
    verb: "get",
    group: "admissionregistration.k8s.io",
    resource: "mutatingwebhookconfigurations",
    names: [names.webhookConfiguration],
    scope: "cluster",
    why: "reads its webhook configuration's caBundle",
    tls: "self-managed",
  },
  {
    verb: "patch",
    group: "admissionregistration.k8s.io",
    resource: "mutatingwebhookconfigurations",
    names: [names.webhookConfiguration],
    scope: "cluster",
    why: "sets the caBundle to its CA (the field is not in Git)",
    tls: "self-managed",
  },
  ...fixedRequests(),
];

function fixedRequests(): (ControllerRequest & { ipMode: "fixed" })[] {
  const cr = (
    verb: ControllerRequest["verb"],
    resource: string,
    why: string,
    subresource?: string,
  ): ControllerRequest & { ipMode: "fixed" } => ({
    verb,
    group: FIXED_GROUP,
    resource,
    ...(subresource ? { subresource } : {}),
    scope: "cluster",
    why: `fixed IP mode: ${why}`,
    ipMode: "fixed",
  });
  const core = (verb: ControllerRequest["verb"], resource: string, why: string) => ({
    ...cr(verb, resource, why),
    group: "",
  });
  return [
    cr(
      "get",
      "vpcipclaims",
      "the webhook (every replica) reads the VpcIPClaim of a pod it admits, to pin a pod whose claim holds an address to nodes of that address's subnet",
    ),
    cr(
      "list",
      "vpcipclaims",
      "each pass reads every claim (all namespaces): the allocation state is rebuilt from the objects",
    ),
    cr("create", "vpcipclaims", "makes the claim of a served pod, named after it, in its namespace"),
    cr("update", "vpcipclaims", "removes its finalizer once the claim's address is released"),
    cr("delete", "vpcipclaims", "deletes a claim whose address was released (Immediate, or its reclaim delay passed)"),
    cr("update", "vpcipclaims", "journals a cloud call, then records phase, address, node and ENI", "status"),
    cr("list", "vpcips", "each pass reads the cluster's allocation table"),
    cr("create", "vpcips", "records an address it allocated"),
    cr("delete", "vpcips", "removes an address released to the VPC"),
    cr("update", "vpcips", "journals an assign or unassign, then records phase, node and ENI", "status"),
    cr("list", "vpcenis", "each pass reads the node ENIs"),
    cr("create", "vpcenis", "records a node's ENI before it is created in the cloud"),
    cr("delete", "vpcenis", "removes the ENI of a node that left, once the cloud deleted it"),
    cr("update", "vpcenis", "journals the ENI's creation and deletion, then records its id and assigned IPs", "status"),
    cr("list", "nodeeniconfigs", "each pass reads every node's ENI configuration"),
    cr("create", "nodeeniconfigs", "makes a selected Node's configuration with its instance's IP quota"),
    cr("delete", "nodeeniconfigs", "removes the configuration of a Node that left"),
    cr(
      "update",
      "nodeeniconfigs",
      "records the bound ENI (which the node's agent waits for) or why no subnet fits",
      "status",
    ),
    core("list", "pods", "each pass lists every pod (all namespaces): the served pods on selected nodes need a claim"),
    core(
      "patch",
      "nodes",
      "sets the vpccni.io/eni-subnet label on a Node once its ENI is bound (merge patch; RBAC cannot narrow a patch to one label)",
    ),
    core(
      "create",
      "events",
      "records why a node got no ENI (Node events in \"default\", where the kubelet's are) or a pod no address (in the pod's namespace)",
    ),
  ];
}

/**
 * Every request `vpccni controller` makes in a TLS mode and IP mode; its roles allow these and
 * nothing else.
 */
export function controllerApiRequests(tls: WebhookTlsMode, ipMode: ClusterIpMode = "shared"): ControllerRequest[] {
  return REQUESTS.filter(
    (r) => (r.tls === undefined || r.tls === tls) && (r.ipMode === undefined || r.ipMode === ipMode),
  ).map(({ tls: _, ipMode: __, ...r }) => r);
}

/** The requests of the default mode, self-managed TLS. */
export const CONTROLLER_API_REQUESTS: readonly ControllerRequest[] = controllerApiRequests("self-managed");

function rules(scope: "cluster" | "namespace", tls: WebhookTlsMode, ipMode: ClusterIpMode) {
  return controllerApiRequests(tls, ipMode)
    .filter((r) => r.scope === scope)
    .map((r) => ({
      rule: {
        apiGroups: [r.group],
        resources: [r.subresource ? `${r.resource}/${r.subresource}` : r.resource],
        verbs: [r.verb],
        ...(r.names ? { resourceNames: r.names } : {}),
      },
      why: r.why,
    }));
}

function controllerPolicyDigest(policy: VpcCniPolicy): string {
  const { clusterId, region, vpcId, cloud } = policy.spec;
  return policyDigest(
    policy.spec.ipMode === "fixed" ? policyYaml(policy) : JSON.stringify({ clusterId, region, vpcId, cloud }),
  );
}

/**
 * `policy`: the policy whose cloud settings (region, cluster, endpoint, credentials) the
 * departed-node ENI sweep uses, and whose fixed-IP pool the controller runs when its ipMode is
 * fixed: the cluster's fixed policy if it has one, else the first by name (a cluster's
 * policies share the cloud settings). `webhook`: the cluster's one spec.webhook
 * (cert-manager.ts clusterWebhook).
 */
export function controllerObjects(
  namespace: string,
  image: string,
  mode: "default" | "mixed",
  policy: VpcCniPolicy,
  webhook: WebhookSettings = { tls: "self-managed" },
): Resource[] {
  const ipMode: ClusterIpMode = policy.spec.ipMode === "fixed" ? "fixed" : "shared";
  const fixed = ipMode === "fixed";
  const eniIp = mode === "default" && !fixed;
  const secret = credentialsSecretName(policy);
  const labels = commonLabels("controller");
  const selector = { "app.kubernetes.io/component": "controller", "app.kubernetes.io/name": "vpccni" };
  const name = names.controller;
  const subject = { kind: "ServiceAccount", name, namespace };
  const clusterRules = rules("cluster", webhook.tls, ipMode);
  const nsRules = rules("namespace", webhook.tls, ipMode);
  const resources: Resource[] = [
    {
      manifest: {
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: { name, namespace, labels },
      } satisfies Manifest<V1ServiceAccount>,
    },
    {
      manifest: {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name, labels },
        rules: clusterRules.map((r) => r.rule),
      } satisfies Manifest<V1ClusterRole>,
      comments: clusterRules.map((r, i) => ({ path: ["rules", i], text: r.why })),
    },
    {
      manifest: {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
        subjects: [subject],
      } satisfies Manifest<V1ClusterRoleBinding>,
    },
    {
      manifest: {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        metadata: { name, namespace, labels },
        rules: nsRules.map((r) => r.rule),
      } satisfies Manifest<V1Role>,
      comments: nsRules.map((r, i) => ({ path: ["rules", i], text: r.why })),
    },
    {
      manifest: {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name, namespace, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
        subjects: [subject],
      } satisfies Manifest<V1RoleBinding>,
    },
    {
      manifest: {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name, namespace, labels },
        spec: {
          // two: the webhook has failurePolicy Fail, so one replica must serve while another restarts
          replicas: 2,
          selector: { matchLabels: selector },
          strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
          template: {
            metadata: {
              labels: { ...labels, ...selector },
              // what the controller reads of its policy at start, changed, rolls it: all of it in
              // fixed mode (it runs the pool), the cloud settings of the ENI sweep otherwise
              annotations: { "vpccni.io/policy-digest": controllerPolicyDigest(policy) },
            },
            spec: {
              serviceAccountName: name,
              automountServiceAccountToken: true,
              priorityClassName: "system-cluster-critical",
              enableServiceLinks: false,
              // Fixed IP mode: the controller assigns the pods' fixed IPs, so its own pods cannot
              // wait for one (nor, in default mode, for a shared-mode IP on a fixed-mode node):
              // they run on the node's network, and the containerPorts become host ports.
              ...(fixed ? { hostNetwork: true, dnsPolicy: "ClusterFirstWithHostNet" } : {}),
              // apart, so that losing one node never takes both replicas; required on the host
              // network, where two replicas on one node would want the same ports
              affinity: {
                podAntiAffinity: fixed
                  ? {
                      requiredDuringSchedulingIgnoredDuringExecution: [
                        { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: selector } },
                      ],
                    }
                  : {
                      preferredDuringSchedulingIgnoredDuringExecution: [
                        {
                          weight: 100,
                          podAffinityTerm: {
                            topologyKey: "kubernetes.io/hostname",
                            labelSelector: { matchLabels: selector },
                          },
                        },
                      ],
                    },
              },
              securityContext: {
                runAsNonRoot: true,
                runAsUser: 65532,
                runAsGroup: 65532,
                // the credentials Secret's files (0440) are the group's
                fsGroup: 65532,
                seccompProfile: { type: "RuntimeDefault" },
              },
              containers: [
                {
                  name: "controller",
                  image,
                  imagePullPolicy: "IfNotPresent",
                  command: ["vpccni"],
                  args: [
                    "controller",
                    `--mode=${mode}`,
                    `--listen=0.0.0.0:${CONTROLLER.webhookPort}`,
                    `--health-listen=0.0.0.0:${CONTROLLER.healthPort}`,
                    `--webhook-service=${names.webhookService}`,
                    `--webhook-secret=${names.webhookSecret}`,
                    `--webhook-configuration=${names.webhookConfiguration}`,
                    ...(webhook.tls === "cert-manager" ? ["--webhook-tls=cert-manager"] : []),
                    `--policy=${PATHS.policyFile}`,
                    ...(fixed ? ["--fixed-interval=2s"] : []),
                    ...(secret === undefined ? [] : [`--credentials-dir=${PATHS.credentialsDir}`]),
                  ],
                  env: [
                    { name: ENV.podNamespace, valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
                    { name: ENV.podName, valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                    { name: ENV.extraCaCerts, value: SERVICE_ACCOUNT_CA },
                  ],
                  ports: [
                    { name: "webhook", containerPort: CONTROLLER.webhookPort, protocol: "TCP" },
                    { name: "health", containerPort: CONTROLLER.healthPort, protocol: "TCP" },
                  ],
                  readinessProbe: {
                    httpGet: { path: "/readyz", port: CONTROLLER.healthPort, scheme: "HTTP" },
                    periodSeconds: 5,
                    failureThreshold: 3,
                  },
                  livenessProbe: {
                    httpGet: { path: "/healthz", port: CONTROLLER.healthPort, scheme: "HTTP" },
                    periodSeconds: 10,
                    failureThreshold: 6,
                  },
                  // its own namespace is outside the webhook: in default mode its pods take VPC IPs
                  // like any other, so they ask for them as the webhook would make them (not on
                  // the host network of fixed IP mode)
                  resources: {
                    requests: { cpu: "20m", memory: "64Mi", ...(eniIp ? { [ENI_IP_RESOURCE]: "1" } : {}) },
                    limits: { memory: "256Mi", ...(eniIp ? { [ENI_IP_RESOURCE]: "1" } : {}) },
                  },
                  securityContext: {
                    allowPrivilegeEscalation: false,
                    capabilities: { drop: ["ALL"] },
                    readOnlyRootFilesystem: true,
                  },
                  volumeMounts: [
                    { name: "policy", mountPath: PATHS.policyDir, readOnly: true },
                    ...(secret === undefined
                      ? []
                      : [{ name: "credentials", mountPath: PATHS.credentialsDir, readOnly: true }]),
                    { name: "tmp", mountPath: "/tmp" },
                  ],
                  terminationMessagePolicy: "FallbackToLogsOnError",
                },
              ],
              volumes: [
                { name: "policy", configMap: { name: names.policyConfig(policy.metadata.name), defaultMode: 0o444 } },
                // optional, as for the agents: a missing Secret leaves the sweep failing, not the webhook down
                ...(secret === undefined
                  ? []
                  : [{ name: "credentials", secret: { secretName: secret, defaultMode: 0o440, optional: true } }]),
                { name: "tmp", emptyDir: { sizeLimit: "32Mi" } },
              ],
            },
          },
        },
      } satisfies Manifest<V1Deployment>,
    },
    {
      manifest: {
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: { name, namespace, labels },
        spec: { minAvailable: 1, selector: { matchLabels: selector } },
      } satisfies Manifest<V1PodDisruptionBudget>,
    },
    {
      manifest: {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: names.webhookService, namespace, labels },
        spec: {
          selector,
          ports: [{ name: "webhook", port: 443, targetPort: CONTROLLER.webhookPort, protocol: "TCP" }],
        },
      } satisfies Manifest<V1Service>,
    },
    {
      manifest: {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "MutatingWebhookConfiguration",
        metadata: { name: names.webhookConfiguration, labels, annotations: webhookAnnotations(namespace, webhook) },
        webhooks: [
          {
            name: CONTROLLER.webhookName,
            admissionReviewVersions: ["v1"],
            // caBundle: set by the controller from its own CA, or by cert-manager's cainjector (not in Git)
            clientConfig: {
              service: { name: names.webhookService, namespace, path: CONTROLLER.webhookPath, port: 443 },
            },
            rules: [
              {
                operations: ["CREATE"],
                apiGroups: [""],
                apiVersions: ["v1"],
                resources: ["pods"],
                scope: "Namespaced",
              },
            ],
            // a pod that should ask for eni-ip and does not would be placed on a node with no IP
            failurePolicy: "Fail",
            sideEffects: "None",
            timeoutSeconds: 5,
            reinvocationPolicy: "IfNeeded",
            // never its own namespace, so it can always restart itself; and namespaces that opt out
            namespaceSelector: {
              matchExpressions: [
                { key: "kubernetes.io/metadata.name", operator: "NotIn", values: [namespace] },
                { key: ENI_IP_INJECTION_LABEL, operator: "NotIn", values: ["disabled"] },
              ],
            },
          },
        ],
      } satisfies Manifest<V1MutatingWebhookConfiguration>,
    },
    ...certManagerObjects(namespace, webhook),
  ];
  return resources;
}
