// The fleet tests' policy: one subnet, the given prebind (default the seed's 5/5).
import { VpcCniPolicy } from "../schema/policy.ts";

export const fleetSpec = (prebind = { min: 5, max: 5 }) =>
  VpcCniPolicy.parse({
    apiVersion: "vpccni.io/v1alpha1",
    kind: "VpcCniPolicy",
    metadata: { name: "fleet" },
    spec: {
      clusterId: "cls-fleet",
      region: "ap-guangzhou",
      vpcId: "vpc-fleet001",
      subnets: ["subnet-aaaaaaaa"],
      prebind,
    },
  }).spec;
