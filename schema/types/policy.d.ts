// Generated from schema/policy.ts by `tsc -p schema/tsconfig.types.json`; do not edit.
import { z } from "zod";
export declare const API_VERSION = "vpccni.io/v1alpha1";
export declare const KIND = "VpcCniPolicy";
export declare const SubnetId: z.ZodString;
export declare const Prebind: z.ZodObject<
  {
    min: z.ZodDefault<z.ZodInt>;
    max: z.ZodDefault<z.ZodInt>;
  },
  z.core.$strict
>;
export declare const Limits: z.ZodObject<
  {
    maxEnisPerNode: z.ZodOptional<z.ZodInt>;
    ipsPerEni: z.ZodOptional<z.ZodInt>;
  },
  z.core.$strict
>;
export declare const Reclaim: z.ZodString;
export declare const FixedIp: z.ZodObject<
  {
    reclaim: z.ZodDefault<z.ZodString>;
    cascade: z.ZodDefault<z.ZodBoolean>;
  },
  z.core.$strict
>;
export declare const SecretRef: z.ZodObject<
  {
    name: z.ZodString;
    namespace: z.ZodOptional<z.ZodString>;
  },
  z.core.$strict
>;
export declare const RateLimits: z.ZodObject<
  {
    mutationsPerSecond: z.ZodNumber;
    burst: z.ZodInt;
  },
  z.core.$strict
>;
export declare const Cloud: z.ZodObject<
  {
    credentialsSecretRef: z.ZodOptional<
      z.ZodObject<
        {
          name: z.ZodString;
          namespace: z.ZodOptional<z.ZodString>;
        },
        z.core.$strict
      >
    >;
    endpoint: z.ZodDefault<z.ZodString>;
    insecureEndpoint: z.ZodOptional<z.ZodBoolean>;
    rateLimits: z.ZodOptional<
      z.ZodObject<
        {
          mutationsPerSecond: z.ZodNumber;
          burst: z.ZodInt;
        },
        z.core.$strict
      >
    >;
  },
  z.core.$strict
>;
export declare const DataPlane: z.ZodObject<
  {
    routeTableBase: z.ZodDefault<z.ZodInt>;
    manageRpFilter: z.ZodDefault<z.ZodBoolean>;
    podMetadataAccess: z.ZodDefault<z.ZodBoolean>;
  },
  z.core.$strict
>;
export declare const Monitoring: z.ZodObject<
  {
    serviceMonitor: z.ZodDefault<z.ZodBoolean>;
    prometheusRules: z.ZodDefault<z.ZodBoolean>;
  },
  z.core.$strict
>;
export declare const IssuerRef: z.ZodObject<
  {
    name: z.ZodString;
    kind: z.ZodDefault<z.ZodString>;
    group: z.ZodDefault<z.ZodString>;
  },
  z.core.$strict
>;
export declare const Webhook: z.ZodObject<
  {
    tls: z.ZodDefault<
      z.ZodEnum<{
        "self-managed": "self-managed";
        "cert-manager": "cert-manager";
      }>
    >;
    issuerRef: z.ZodOptional<
      z.ZodObject<
        {
          name: z.ZodString;
          kind: z.ZodDefault<z.ZodString>;
          group: z.ZodDefault<z.ZodString>;
        },
        z.core.$strict
      >
    >;
  },
  z.core.$strict
>;
export declare const Spec: z.ZodObject<
  {
    clusterId: z.ZodString;
    region: z.ZodString;
    vpcId: z.ZodString;
    subnets: z.ZodArray<z.ZodString>;
    nodeSelector: z.ZodDefault<z.ZodRecord<z.ZodString, z.ZodString>>;
    ipMode: z.ZodDefault<
      z.ZodEnum<{
        shared: "shared";
        fixed: "fixed";
      }>
    >;
    mode: z.ZodDefault<
      z.ZodEnum<{
        default: "default";
        mixed: "mixed";
      }>
    >;
    enabled: z.ZodDefault<z.ZodBoolean>;
    prebind: z.ZodDefault<
      z.ZodObject<
        {
          min: z.ZodDefault<z.ZodInt>;
          max: z.ZodDefault<z.ZodInt>;
        },
        z.core.$strict
      >
    >;
    releaseInterval: z.ZodDefault<z.ZodString>;
    ipCooldown: z.ZodDefault<z.ZodString>;
    limits: z.ZodOptional<
      z.ZodObject<
        {
          maxEnisPerNode: z.ZodOptional<z.ZodInt>;
          ipsPerEni: z.ZodOptional<z.ZodInt>;
        },
        z.core.$strict
      >
    >;
    fixedIp: z.ZodOptional<
      z.ZodObject<
        {
          reclaim: z.ZodDefault<z.ZodString>;
          cascade: z.ZodDefault<z.ZodBoolean>;
        },
        z.core.$strict
      >
    >;
    cloud: z.ZodDefault<
      z.ZodObject<
        {
          credentialsSecretRef: z.ZodOptional<
            z.ZodObject<
              {
                name: z.ZodString;
                namespace: z.ZodOptional<z.ZodString>;
              },
              z.core.$strict
            >
          >;
          endpoint: z.ZodDefault<z.ZodString>;
          insecureEndpoint: z.ZodOptional<z.ZodBoolean>;
          rateLimits: z.ZodOptional<
            z.ZodObject<
              {
                mutationsPerSecond: z.ZodNumber;
                burst: z.ZodInt;
              },
              z.core.$strict
            >
          >;
        },
        z.core.$strict
      >
    >;
    dataPlane: z.ZodDefault<
      z.ZodObject<
        {
          routeTableBase: z.ZodDefault<z.ZodInt>;
          manageRpFilter: z.ZodDefault<z.ZodBoolean>;
          podMetadataAccess: z.ZodDefault<z.ZodBoolean>;
        },
        z.core.$strict
      >
    >;
    monitoring: z.ZodOptional<
      z.ZodObject<
        {
          serviceMonitor: z.ZodDefault<z.ZodBoolean>;
          prometheusRules: z.ZodDefault<z.ZodBoolean>;
        },
        z.core.$strict
      >
    >;
    webhook: z.ZodOptional<
      z.ZodObject<
        {
          tls: z.ZodDefault<
            z.ZodEnum<{
              "self-managed": "self-managed";
              "cert-manager": "cert-manager";
            }>
          >;
          issuerRef: z.ZodOptional<
            z.ZodObject<
              {
                name: z.ZodString;
                kind: z.ZodDefault<z.ZodString>;
                group: z.ZodDefault<z.ZodString>;
              },
              z.core.$strict
            >
          >;
        },
        z.core.$strict
      >
    >;
  },
  z.core.$strict
>;
export declare const Metadata: z.ZodObject<
  {
    name: z.ZodString;
    labels: z.ZodOptional<z.ZodRecord<z.ZodString, z.ZodString>>;
    annotations: z.ZodOptional<z.ZodRecord<z.ZodString, z.ZodString>>;
  },
  z.core.$strict
>;
export declare const VpcCniPolicy: z.ZodObject<
  {
    apiVersion: z.ZodLiteral<"vpccni.io/v1alpha1">;
    kind: z.ZodLiteral<"VpcCniPolicy">;
    metadata: z.ZodObject<
      {
        name: z.ZodString;
        labels: z.ZodOptional<z.ZodRecord<z.ZodString, z.ZodString>>;
        annotations: z.ZodOptional<z.ZodRecord<z.ZodString, z.ZodString>>;
      },
      z.core.$strict
    >;
    spec: z.ZodObject<
      {
        clusterId: z.ZodString;
        region: z.ZodString;
        vpcId: z.ZodString;
        subnets: z.ZodArray<z.ZodString>;
        nodeSelector: z.ZodDefault<z.ZodRecord<z.ZodString, z.ZodString>>;
        ipMode: z.ZodDefault<
          z.ZodEnum<{
            shared: "shared";
            fixed: "fixed";
          }>
        >;
        mode: z.ZodDefault<
          z.ZodEnum<{
            default: "default";
            mixed: "mixed";
          }>
        >;
        enabled: z.ZodDefault<z.ZodBoolean>;
        prebind: z.ZodDefault<
          z.ZodObject<
            {
              min: z.ZodDefault<z.ZodInt>;
              max: z.ZodDefault<z.ZodInt>;
            },
            z.core.$strict
          >
        >;
        releaseInterval: z.ZodDefault<z.ZodString>;
        ipCooldown: z.ZodDefault<z.ZodString>;
        limits: z.ZodOptional<
          z.ZodObject<
            {
              maxEnisPerNode: z.ZodOptional<z.ZodInt>;
              ipsPerEni: z.ZodOptional<z.ZodInt>;
            },
            z.core.$strict
          >
        >;
        fixedIp: z.ZodOptional<
          z.ZodObject<
            {
              reclaim: z.ZodDefault<z.ZodString>;
              cascade: z.ZodDefault<z.ZodBoolean>;
            },
            z.core.$strict
          >
        >;
        cloud: z.ZodDefault<
          z.ZodObject<
            {
              credentialsSecretRef: z.ZodOptional<
                z.ZodObject<
                  {
                    name: z.ZodString;
                    namespace: z.ZodOptional<z.ZodString>;
                  },
                  z.core.$strict
                >
              >;
              endpoint: z.ZodDefault<z.ZodString>;
              insecureEndpoint: z.ZodOptional<z.ZodBoolean>;
              rateLimits: z.ZodOptional<
                z.ZodObject<
                  {
                    mutationsPerSecond: z.ZodNumber;
                    burst: z.ZodInt;
                  },
                  z.core.$strict
                >
              >;
            },
            z.core.$strict
          >
        >;
        dataPlane: z.ZodDefault<
          z.ZodObject<
            {
              routeTableBase: z.ZodDefault<z.ZodInt>;
              manageRpFilter: z.ZodDefault<z.ZodBoolean>;
              podMetadataAccess: z.ZodDefault<z.ZodBoolean>;
            },
            z.core.$strict
          >
        >;
        monitoring: z.ZodOptional<
          z.ZodObject<
            {
              serviceMonitor: z.ZodDefault<z.ZodBoolean>;
              prometheusRules: z.ZodDefault<z.ZodBoolean>;
            },
            z.core.$strict
          >
        >;
        webhook: z.ZodOptional<
          z.ZodObject<
            {
              tls: z.ZodDefault<
                z.ZodEnum<{
                  "self-managed": "self-managed";
                  "cert-manager": "cert-manager";
                }>
              >;
              issuerRef: z.ZodOptional<
                z.ZodObject<
                  {
                    name: z.ZodString;
                    kind: z.ZodDefault<z.ZodString>;
                    group: z.ZodDefault<z.ZodString>;
                  },
                  z.core.$strict
                >
              >;
            },
            z.core.$strict
          >
        >;
      },
      z.core.$strict
    >;
  },
  z.core.$strict
>;
/** A policy as written (defaults optional). */
export type VpcCniPolicyInput = z.input<typeof VpcCniPolicy>;
/** A policy after validation, with every default filled in. */
export type VpcCniPolicy = z.output<typeof VpcCniPolicy>;
export type PolicySpec = VpcCniPolicy["spec"];
/** Typed helper for policies written in TypeScript: `export default definePolicy({...})`. */
export declare function definePolicy(policy: VpcCniPolicyInput): VpcCniPolicyInput;
