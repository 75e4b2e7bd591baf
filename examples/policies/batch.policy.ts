// A policy written in TypeScript: batch nodes start many short pods at once, so they keep a
// larger warm pool and give idle IPs back more slowly.
import { definePolicy } from "vpccni";

export default definePolicy({
  apiVersion: "vpccni.io/v1alpha1",
  kind: "VpcCniPolicy",
  metadata: { name: "batch" },
  spec: {
    clusterId: "cls-demo0001",
    region: "ap-guangzhou",
    vpcId: "vpc-demo0001",
    subnets: ["subnet-pods0002"],
    nodeSelector: { "node.vpccni.io/pool": "batch" },
    prebind: { min: 10, max: 20 },
    releaseInterval: "5m",
    limits: { maxEnisPerNode: 2 },
  },
});
