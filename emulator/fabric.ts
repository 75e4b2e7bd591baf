// The fabric hook: how the network test bed mirrors the emulated cloud into namespaces.
// The emulator calls it when an asynchronous task completes, before the task reads SUCCESS,
// so a client that sees an ENI attached can rely on its link existing. A hook that throws is
// logged and the task still succeeds (the cloud does not roll back for the test bed).

export interface FabricEni {
  eniId: string;
  mac: string;
  vpcId: string;
  subnetId: string;
  /** Subnet CIDR, gateway (first host) and mask, as the metadata service reports them. */
  cidrBlock: string;
  gateway: string;
  primaryIp: string;
  /** Secondary IPs bound (AVAILABLE) when the hook runs. */
  secondaryIps: string[];
  /** 0 for the primary ENI, 1.. in attach order for the others. */
  deviceIndex?: number;
}

export interface FabricInstance {
  instanceId: string;
  zone: string;
  primaryIp: string;
  primaryMac: string;
}

export interface Fabric {
  /** The ENI is now attached; `eni.secondaryIps` are bound already and get no onAssign of their own. */
  onAttach(eni: FabricEni, instance: FabricInstance): Promise<void>;
  /** The ENI has left the instance, with every IP it still holds. */
  onDetach(eni: FabricEni, instance: FabricInstance): Promise<void>;
  /** IPs bound to the ENI, attached or not (`eni.deviceIndex` is unset when it is not). */
  onAssign(eni: FabricEni, ips: string[]): Promise<void>;
  /** IPs removed from the ENI; `eni.secondaryIps` no longer lists them. */
  onUnassign(eni: FabricEni, ips: string[]): Promise<void>;
}

export const noopFabric: Fabric = {
  onAttach: async () => {},
  onDetach: async () => {},
  onAssign: async () => {},
  onUnassign: async () => {},
};
