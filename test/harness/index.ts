// The test harness in one import. See docs/testing.md.
export { startCluster, type Cluster, type ServiceAccountOptions, type StartClusterOptions } from "./cluster.ts";
export { acquireSharedCluster, releaseSharedCluster, useSharedCluster } from "./shared-cluster.ts";
export { writeKubeconfig, type Kubeconfig, type KubeconfigObject } from "./kubeconfig.ts";
export { kubeCall, KubeApiError, type KubeCallOptions } from "./kube-api.ts";
export { createTestBed, sweepStaleNamespaces, listNamespaces, TestBed, type NodeNs, type PodNs, type TestBedOptions, type VethOptions } from "./netns.ts";
export { cnitool, execPlugin, makeCniDirs, ptpConflist, writeConflist, type CniCommand, type CniDirs } from "./cni.ts";
export { requirePrereq, requireRoot, requireBinary, requireKube, requireNetns, requireCni, MissingPrerequisite } from "./prereq.ts";
export { paths, versions, cacheRoot } from "./paths.ts";
export { spawnManaged, onProcessExit, type ManagedProcess } from "./process.ts";
export { run, runOk, CommandError, type RunOptions, type RunResult } from "./exec.ts";
export { freePort } from "./ports.ts";
export { makeTempDir, ensureJanitor } from "./janitor.ts";
