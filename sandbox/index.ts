// The sandbox in one import: the product's local test bed that `vpccni demo`, the benches and
// the test suites share. See docs/architecture.md and docs/testing.md.
export { startCluster, type Cluster, type ServiceAccountOptions, type StartClusterOptions } from "./apiserver.ts";
export { writeKubeconfig, type Kubeconfig, type KubeconfigObject } from "./kubeconfig.ts";
export { kubeCall, KubeApiError, type KubeCallOptions } from "./kube-api.ts";
export {
  createTestBed,
  sweepStaleNamespaces,
  listNamespaces,
  TestBed,
  type NodeNs,
  type PodNs,
  type TestBedOptions,
  type VethOptions,
} from "./test-bed.ts";
export { NetnsFabric } from "./vpc-fabric.ts";
export { EmulatedCluster, EmulatedNode, type EmulatedClusterOptions } from "./emulated-cluster.ts";
export {
  emulatorConfig,
  layoutOf,
  policyYaml,
  waitFor,
  EXAMPLE_POLICY,
  LAYOUT,
  NETWORK,
  SUBNETS,
  VPC,
  type CloudLayout,
} from "./emulated-cloud.ts";
export { buildCni } from "./cni-build.ts";
export {
  cnitool,
  execPlugin,
  makeCniDirs,
  ptpConflist,
  writeConflist,
  type CniCommand,
  type CniDirs,
} from "./cnitool.ts";
export {
  Containerd,
  cniBinFolder,
  containerdConfig,
  PAUSE_IMAGE,
  requireContainerd,
  startContainerd,
  sweepStaleContainerd,
  type PodSpec,
  type PodStatus,
  type StartContainerdOptions,
} from "./containerd.ts";
export { forwardIntoNetns, type NetnsForward, type NetnsForwardOptions } from "./netns-forward.ts";
export { ensureOsTools, SANDBOX_TOOLS, type OsTool } from "./os-packages.ts";
export {
  requirePrereq,
  requireRoot,
  requireBinary,
  requireKube,
  requireNetns,
  requirePing,
  requireCni,
  MissingPrerequisite,
} from "./prereq.ts";
export { paths, versions, cacheRoot } from "./paths.ts";
export { spawnManaged, onProcessExit, type ManagedProcess } from "./process.ts";
export { run, runOk, CommandError, type RunOptions, type RunResult } from "./exec.ts";
export { freePort } from "./ports.ts";
export { makeTempDir, ensureJanitor } from "./janitor.ts";
