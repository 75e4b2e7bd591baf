import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { describeRejection, readPolicyFile } from "../../runtime/agent/policy-file.ts";
import { CONTROLLER_RATES, resolveCredentials, TencentVpcApi } from "../../runtime/cloud/index.ts";
import { parseDuration } from "../../schema/duration.ts";
import { endpointOverrideWarning } from "../../schema/endpoint.ts";
import { createLogger, type Level } from "../../runtime/agent/log.ts";
import { Controller } from "../../runtime/controller/controller.ts";
import { WEBHOOK_TLS_MODES, type WebhookTlsMode } from "../../runtime/controller/tls-source.ts";
import { clusterCaFile } from "../../runtime/kube/ca-env.ts";
import { ControllerKubeClient } from "../../runtime/kube/controller-client.ts";
import { FixedKubeClient } from "../../runtime/kube/fixed-client.ts";
import { FixedPass, type FixedSettings } from "../../runtime/controller/fixed-pass.ts";
import type { Claim } from "../../runtime/controller/fixed-state.ts";
import { reclaimFromPolicy } from "../../runtime/fixed/index.ts";
import { selfArgs } from "./agent.ts";

export const help = `Usage: vpccni controller [options]

The cluster component (run by the vpccni-controller Deployment): serves the
admission webhook that makes pods using vpccni request one
tke.cloud.tencent.com/eni-ip, with TLS it keeps in a Secret it creates and a
caBundle it sets on its MutatingWebhookConfiguration (or, with --webhook-tls
cert-manager, a Secret cert-manager issues). The replica elected on a Lease
removes the ENIs of nodes that left the cluster.

Options (environment variable in brackets):
  --namespace NS               its namespace [POD_NAMESPACE] (required)
  --mode MODE                  default (vpccni is the cluster's CNI) or mixed
                               (only pods that opt in) (default: default)
  --listen HOST:PORT           the HTTPS webhook (default 0.0.0.0:9443)
  --health-listen HOST:PORT    /healthz and /readyz (default 0.0.0.0:9440);
                               "off" for none
  --webhook-service NAME       the webhook's Service (default vpccni-webhook)
  --webhook-secret NAME        the TLS Secret it keeps (default
                               vpccni-webhook-tls)
  --webhook-configuration NAME the MutatingWebhookConfiguration whose caBundle
                               it sets (default vpccni-eni-ip)
  --webhook-tls MODE           self-managed (it creates the Secret and sets the
                               caBundle) or cert-manager (it only reads the
                               Secret cert-manager issues, and is not ready
                               until it exists) (default: self-managed)
  --identity NAME              this replica in the Lease [POD_NAME] (default:
                               the host name)
  --policy FILE                a policy (its ConfigMap mount): region, cluster
                               and cloud endpoint for the departed-node ENI
                               sweep; without it, no sweep
  --credentials-dir DIR        mounted credentials Secret (default:
                               environment, then CVM role)
  --metadata-url URL           instance metadata service (the CVM role)
  --eni-age-guard DURATION     leave ENIs younger than this (default 10m)
  --eni-sweep-interval DURATION  how often the leader sweeps (default 5m)
  --fixed-interval DURATION    fixed IP mode (the policy's ipMode: fixed): how
                               often the leader reconciles claims, addresses
                               and node ENIs (default 2s)
  --endpoint URL               cloud API endpoint instead of the policy's
  --kubeconfig FILE            Kubernetes access [KUBECONFIG] (default: the
                               pod's ServiceAccount)
  --log-level LEVEL            debug, info, warn or error (default info)
`;

export async function run(argv: string[]): Promise<number> {
  const env = process.env;
  const { values } = parseArgs({
    args: argv,
    options: {
      namespace: { type: "string", default: env.POD_NAMESPACE },
      mode: { type: "string", default: "default" },
      listen: { type: "string", default: "0.0.0.0:9443" },
      "health-listen": { type: "string", default: "0.0.0.0:9440" },
      "webhook-service": { type: "string", default: "vpccni-webhook" },
      "webhook-secret": { type: "string", default: "vpccni-webhook-tls" },
      "webhook-configuration": { type: "string", default: "vpccni-eni-ip" },
      "webhook-tls": { type: "string", default: "self-managed" },
      identity: { type: "string", default: env.POD_NAME ?? hostname() },
      policy: { type: "string" },
      "credentials-dir": { type: "string" },
      "metadata-url": { type: "string" },
      "eni-age-guard": { type: "string", default: "10m" },
      "eni-sweep-interval": { type: "string", default: "5m" },
      "fixed-interval": { type: "string", default: "2s" },
      endpoint: { type: "string" },
      kubeconfig: { type: "string", default: env.KUBECONFIG },
      "log-level": { type: "string", default: "info" },
    },
  });
  const fail = (m: string) => {
    process.stderr.write(`vpccni controller: ${m}\n`);
    return 2;
  };
  const level = values["log-level"] as Level;
  if (!["debug", "info", "warn", "error"].includes(level))
    return fail(`--log-level is ${JSON.stringify(level)}; allowed: debug, info, warn or error`);
  const mode = values.mode as string;
  if (mode !== "default" && mode !== "mixed")
    return fail(`--mode is ${JSON.stringify(mode)}; allowed: default or mixed`);
  const webhookTls = values["webhook-tls"] as WebhookTlsMode;
  if (!WEBHOOK_TLS_MODES.includes(webhookTls))
    return fail(`--webhook-tls is ${JSON.stringify(webhookTls)}; allowed: ${WEBHOOK_TLS_MODES.join(" or ")}`);
  const namespace = values.namespace as string | undefined;
  if (!namespace)
    return fail("--namespace (or POD_NAMESPACE) is required; the Deployment sets it from metadata.namespace");
  for (const flag of ["listen", "health-listen"] as const) {
    const v = values[flag];
    if (flag === "health-listen" && v === "off") continue;
    if (!/^[^\s]*:\d{1,5}$/.test(v))
      return fail(`--${flag} is ${JSON.stringify(v)}; allowed: HOST:PORT, e.g. 0.0.0.0:9443`);
  }
  const durations: Record<string, number> = {};
  for (const flag of ["eni-age-guard", "eni-sweep-interval", "fixed-interval"] as const) {
    const ms = parseDuration(values[flag]);
    if (ms === undefined || ms < 1000)
      return fail(`--${flag} is ${JSON.stringify(values[flag])}; allowed: a duration of 1s or more, e.g. 10m`);
    durations[flag] = ms;
  }
  const kubeconfig = values.kubeconfig as string | undefined;
  // client-node under Bun needs the cluster CA at process start (see runtime/kube/ca-env.ts)
  if (!env.NODE_EXTRA_CA_CERTS) {
    const ca = clusterCaFile(kubeconfig);
    if (ca) {
      const child = Bun.spawn([process.execPath, ...selfArgs()], {
        env: { ...env, NODE_EXTRA_CA_CERTS: ca },
        stdio: ["inherit", "inherit", "inherit"],
      });
      for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => child.kill(signal));
      return await child.exited;
    }
  }
  const log = createLogger({ level, base: { component: "vpccni-controller" } });
  let sweep: { api: TencentVpcApi; clusterId: string; intervalMs: number; guardMs: number } | undefined;
  let fixed: { pass: FixedPass; intervalMs: number; watch: (onChange: () => void) => () => void } | undefined;
  let claimSubnet: ((namespace: string, name: string) => Promise<string | null>) | undefined;
  if (values.policy) {
    const load = await readPolicyFile(values.policy);
    if (!load.ok) {
      process.stderr.write(`vpccni controller: ${values.policy} cannot be used:\n${describeRejection(load)}\n`);
      return 1;
    }
    const spec = load.policy.spec;
    const insecure = endpointOverrideWarning(values.endpoint);
    if (insecure) log.warn(insecure);
    sweep = {
      api: new TencentVpcApi({
        region: spec.region,
        endpoint: values.endpoint ?? spec.cloud.endpoint,
        credentials: resolveCredentials({ secretPath: values["credentials-dir"], metadataUrl: values["metadata-url"] }),
        clusterId: spec.clusterId,
        vpcId: spec.vpcId,
        // fixed mode: the cluster's one caller of the mutating actions (the agents make none)
        ...(spec.ipMode === "fixed" ? { rates: CONTROLLER_RATES } : {}),
        log: (event, fields) => log.debug(event, fields),
      }),
      clusterId: spec.clusterId,
      intervalMs: durations["eni-sweep-interval"]!,
      guardMs: durations["eni-age-guard"]!,
    };
    if (spec.ipMode === "fixed") {
      const settings: FixedSettings = {
        subnets: spec.subnets,
        reclaim: reclaimFromPolicy(spec.fixedIp?.reclaim ?? "Never"),
        cascade: spec.fixedIp?.cascade ?? false,
        mode,
        nodeSelector: spec.nodeSelector,
        enabled: spec.enabled !== false,
      };
      const fixedKube = FixedKubeClient.load(kubeconfig);
      claimSubnet = async (namespace, name) =>
        (await fixedKube.get<Claim>("vpcipclaims", name, namespace))?.status?.subnet ?? null;
      fixed = {
        pass: new FixedPass({
          kube: fixedKube,
          api: sweep.api,
          settings: () => settings,
          now: Date.now,
          log,
        }),
        intervalMs: durations["fixed-interval"]!,
        watch: (onChange) => fixedKube.watchChanges(onChange),
      };
    }
  }
  const controller = new Controller({
    namespace,
    webhookSecret: values["webhook-secret"] as string,
    webhookService: values["webhook-service"] as string,
    webhookConfiguration: values["webhook-configuration"] as string,
    webhookTls,
    listen: values.listen as string,
    healthListen: values["health-listen"] === "off" ? null : (values["health-listen"] as string),
    settings: { mode },
    kube: ControllerKubeClient.load(kubeconfig),
    log,
    identity: values.identity,
    ...(sweep ? { sweep } : {}),
    ...(fixed ? { fixed, claimSubnet } : {}),
  });
  try {
    await controller.start();
  } catch (e) {
    log.error("controller failed to start", { error: (e as Error).message });
    await controller.stop();
    return 1;
  }
  const { promise, resolve } = Promise.withResolvers<number>();
  for (const signal of ["SIGTERM", "SIGINT"] as const)
    process.on(signal, () => {
      log.info("stopping", { signal });
      void controller.stop().then(() => resolve(0));
    });
  const code = await promise;
  process.exit(code);
}
