import { definePolicy } from "../../index.ts";

const base = { clusterId: "cls-demo0001", region: "ap-guangzhou", vpcId: "vpc-demo0001", subnets: ["subnet-pods0001"] };

export default [
  definePolicy({ apiVersion: "vpccni.io/v1alpha1", kind: "VpcCniPolicy", metadata: { name: "one" }, spec: { ...base, nodeSelector: { pool: "one" } } }),
  definePolicy({ apiVersion: "vpccni.io/v1alpha1", kind: "VpcCniPolicy", metadata: { name: "two" }, spec: { ...base, nodeSelector: { pool: "two" } } }),
];
