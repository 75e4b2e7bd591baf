import { definePolicy } from "../../index.ts";

export default definePolicy({
  apiVersion: "vpccni.io/v1alpha1",
  kind: "VpcCniPolicy",
  metadata: { name: "ts-bad" },
  spec: {
    clusterId: "cls-demo0001",
    region: "ap-guangzhou",
    vpcId: "vpc-demo0001",
    subnets: ["subnet-pods0001"],
    prebind: { min: 12, max: 4 },
  },
});
