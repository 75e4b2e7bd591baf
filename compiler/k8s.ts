// The slice of the Kubernetes API the compiler writes, typed by hand: cdk8s-plus is not
// installed and `cdk8s import` needs the network, while these few fields are stable core/v1,
// apps/v1 and rbac/v1. A typo in a field name is a type error here, not a rejected manifest.

export type Labels = Record<string, string>;

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Labels;
  annotations?: Record<string, string>;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef: { fieldPath: string } };
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  mountPropagation?: "None" | "HostToContainer";
}

export interface Volume {
  name: string;
  hostPath?: { path: string; type: "Directory" | "DirectoryOrCreate" };
  configMap?: { name: string; defaultMode?: number };
  emptyDir?: { sizeLimit: string };
  secret?: { secretName: string; defaultMode: number; optional: boolean };
}

export interface HttpProbe {
  httpGet: { path: string; port: number; scheme: "HTTP" };
  initialDelaySeconds?: number;
  periodSeconds: number;
  timeoutSeconds: number;
  failureThreshold: number;
}

export interface SecurityContext {
  allowPrivilegeEscalation: boolean;
  capabilities: { drop: string[]; add?: string[] };
  privileged: boolean;
  readOnlyRootFilesystem: boolean;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  seccompProfile: { type: "RuntimeDefault" };
}

export interface Container {
  name: string;
  image: string;
  imagePullPolicy: "IfNotPresent";
  command: string[];
  args: string[];
  env?: EnvVar[];
  ports?: { name: string; containerPort: number; hostPort?: number; protocol: "TCP" }[];
  livenessProbe?: HttpProbe;
  readinessProbe?: HttpProbe;
  startupProbe?: HttpProbe;
  resources: { requests: { cpu: string; memory: string }; limits: { memory: string } };
  securityContext: SecurityContext;
  volumeMounts: VolumeMount[];
  terminationMessagePolicy: "FallbackToLogsOnError";
}

export interface Toleration {
  operator: "Exists";
}

export interface PodSpec {
  automountServiceAccountToken: boolean;
  containers: Container[];
  dnsPolicy: "Default";
  enableServiceLinks: boolean;
  hostNetwork: boolean;
  initContainers: Container[];
  nodeSelector: Labels;
  priorityClassName: string;
  serviceAccountName: string;
  terminationGracePeriodSeconds: number;
  tolerations: Toleration[];
  volumes: Volume[];
}

export interface DaemonSetSpec {
  selector: { matchLabels: Labels };
  template: { metadata: { labels: Labels; annotations?: Record<string, string> }; spec: PodSpec };
  updateStrategy: { type: "RollingUpdate"; rollingUpdate: { maxUnavailable: string | number; maxSurge: number } };
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
}

export interface ServiceSpec {
  clusterIP: "None";
  selector: Labels;
  ports: { name: string; port: number; targetPort: number; protocol: "TCP" }[];
  publishNotReadyAddresses?: boolean;
}

export interface Subject {
  kind: "ServiceAccount";
  name: string;
  namespace: string;
}

export interface RoleRef {
  apiGroup: "rbac.authorization.k8s.io";
  kind: "ClusterRole" | "Role";
  name: string;
}
