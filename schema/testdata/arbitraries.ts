// fast-check generators of valid policies as users write them (defaults often left out).
import fc from "fast-check";
import { formatDuration } from "../duration.ts";
import type { VpcCniPolicyInput } from "../policy.ts";

const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,12}[a-z0-9])?$/);
const duration = (minSeconds: number, maxSeconds: number) => fc.integer({ min: minSeconds, max: maxSeconds }).map((s) => formatDuration(s * 1000));

export const validPolicy: fc.Arbitrary<VpcCniPolicyInput> = fc
  .record(
    {
      name: label,
      clusterId: label,
      region: fc.constantFrom("ap-guangzhou", "ap-shanghai", "ap-beijing", "na-siliconvalley", "ap-shanghai-fsi"),
      vpcId: fc.stringMatching(/^vpc-[a-z0-9]{8}$/),
      subnets: fc.uniqueArray(fc.stringMatching(/^subnet-[a-z0-9]{8}$/), { minLength: 1, maxLength: 4 }),
      nodeSelector: fc.dictionary(fc.stringMatching(/^([a-z]{1,8}\.io\/)?[a-z][a-z0-9]{0,8}$/), fc.stringMatching(/^([a-z0-9]{1,8})?$/), { maxKeys: 3 }),
      prebind: fc.tuple(fc.integer({ min: 0, max: 256 }), fc.integer({ min: 0, max: 256 })).map(([a, b]) => ({ min: Math.min(a, b), max: Math.max(a, b) })),
      releaseInterval: duration(1, 86_400),
      ipCooldown: duration(0, 600),
      limits: fc.record({ maxEnisPerNode: fc.integer({ min: 1, max: 64 }), ipsPerEni: fc.integer({ min: 1, max: 255 }) }, { requiredKeys: [] }),
      fixed: fc.option(fc.oneof(fc.constantFrom("Immediate", "Never"), duration(300, 7 * 86_400)), { nil: undefined }),
      endpoint: fc.constantFrom("vpc.tencentcloudapi.com", "http://127.0.0.1:8080", "https://vpc.internal.tencentcloudapi.com"),
      secret: fc.option(label, { nil: undefined }),
      routeTableBase: fc.integer({ min: 256, max: 2_000_000_000 }),
      manageRpFilter: fc.boolean(),
    },
    { requiredKeys: ["name", "clusterId", "region", "vpcId", "subnets"] },
  )
  .map((r) => ({
    apiVersion: "vpccni.io/v1alpha1" as const,
    kind: "VpcCniPolicy" as const,
    metadata: { name: r.name },
    spec: {
      clusterId: r.clusterId,
      region: r.region,
      vpcId: r.vpcId,
      subnets: r.subnets,
      ...(r.nodeSelector !== undefined ? { nodeSelector: r.nodeSelector } : {}),
      ...(r.prebind !== undefined ? { prebind: r.prebind } : {}),
      ...(r.releaseInterval !== undefined ? { releaseInterval: r.releaseInterval } : {}),
      ...(r.ipCooldown !== undefined ? { ipCooldown: r.ipCooldown } : {}),
      ...(r.limits !== undefined ? { limits: r.limits } : {}),
      ...(r.fixed !== undefined ? { ipMode: "fixed" as const, fixedIp: { reclaim: r.fixed } } : {}),
      ...(r.endpoint !== undefined || r.secret !== undefined
        ? { cloud: { ...(r.endpoint ? { endpoint: r.endpoint } : {}), ...(r.secret ? { credentialsSecretRef: { name: r.secret } } : {}) } }
        : {}),
      ...(r.routeTableBase !== undefined || r.manageRpFilter !== undefined
        ? { dataPlane: { ...(r.routeTableBase !== undefined ? { routeTableBase: r.routeTableBase } : {}), ...(r.manageRpFilter !== undefined ? { manageRpFilter: r.manageRpFilter } : {}) } }
        : {}),
    },
  }));
