// What both IP modes do first on a node: find out which instance this is (the metadata
// service), wait for cloud credentials, and build the cloud client and the data plane. The
// primary interface is the link with the primary ENI's MAC; names are not stable.
import { endpointOverrideWarning } from "../../schema/endpoint.ts";
import type { VpcCniPolicy } from "../../schema/index.ts";
import { resolveCredentials } from "../cloud/credentials.ts";
import { DEFAULT_METADATA_URL, MetadataClient } from "../cloud/metadata.ts";
import { nodeBudget } from "../cloud/caller.ts";
import { TencentVpcApi } from "../cloud/tencent.ts";
import type { VpcApi } from "../cloud/types.ts";
import { IprouteDataPlane } from "../net/index.ts";
import type { DataPlane } from "../net/types.ts";
import type { AgentOptions } from "./agent.ts";
import { waitForCredentials } from "./credentials-wait.ts";

export interface NodeConnection {
  instanceId: string;
  zone: string;
  primaryMac: string;
  primaryInterface: string;
  api: VpcApi;
  dataPlane: DataPlane;
}

export async function connectNode(opts: AgentOptions, policy: VpcCniPolicy): Promise<NodeConnection> {
  const log = opts.log;
  const metadata = new MetadataClient(opts.metadataUrl ?? DEFAULT_METADATA_URL);
  const [instanceId, zone, primaryMac] = await Promise.all([metadata.instanceId(), metadata.zone(), metadata.mac()]);
  const credentials = resolveCredentials({ secretPath: opts.credentialsDir, metadataUrl: opts.metadataUrl });
  if (!opts.api) {
    const kube = opts.kube;
    await waitForCredentials(credentials, {
      log,
      event: kube
        ? (reason, message) =>
            void kube
              .nodeEvent(opts.nodeName, "Warning", reason, message.slice(0, 1000))
              .catch((e: unknown) => log.warn("could not record an Event", { reason, error: (e as Error).message }))
        : undefined,
    });
  }
  // The policy may name a plain http:// endpoint off loopback only with insecureEndpoint (the
  // schema refuses it otherwise: the policy is what review in Git sees). An operator's
  // --endpoint is the operator's own choice on the command line, as the test beds and the demo
  // make it for the emulator on a VPC address: allowed, and said loudly.
  const insecure = opts.api ? undefined : endpointOverrideWarning(opts.endpoint);
  if (insecure) log.warn(insecure);
  const api =
    opts.api ??
    new TencentVpcApi({
      region: policy.spec.region,
      endpoint: opts.endpoint ?? policy.spec.cloud.endpoint,
      credentials,
      clusterId: policy.spec.clusterId,
      vpcId: policy.spec.vpcId,
      mutationBudget: nodeBudget(policy.spec.cloud.rateLimits),
      log: (event, fields) => log.debug(event, fields),
    });
  const dataPlane =
    opts.dataPlane ??
    new IprouteDataPlane({
      netns: opts.netns,
      routeTableBase: policy.spec.dataPlane.routeTableBase,
      manageRpFilter: policy.spec.dataPlane.manageRpFilter,
      podMetadataAccess: policy.spec.dataPlane.podMetadataAccess,
    });
  const [primaryLink] = await dataPlane.listEnis([primaryMac.toLowerCase()]);
  const primaryInterface = primaryLink?.name ?? opts.primaryInterface;
  if (!primaryLink)
    log.warn("no link has the primary ENI's MAC; using --primary-interface", { mac: primaryMac, primaryInterface });
  log.info("node identified", {
    node: opts.nodeName,
    instanceId,
    zone,
    primaryMac,
    primaryInterface,
    ipMode: policy.spec.ipMode,
  });
  return { instanceId, zone, primaryMac, primaryInterface, api, dataPlane };
}
