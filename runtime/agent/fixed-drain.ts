// Switching off in fixed IP mode, the cloud side (switch-off.ts's NodeDrain). The node makes no
// cloud mutation: the cluster controller releases the kept addresses and, once the node's vpccni
// pods are gone, detaches and deletes its ENI and then deletes its NodeENIConfig. The node is
// empty when this agent holds no attachment and the NodeENIConfig is gone or names no ENI; the
// last look reads the NodeENIConfig again and checks that the cloud lists no ENI of the cluster
// on this instance any more (reads only).
import { TAG_CLUSTER } from "../../schema/names.ts";
import type { VpcApi } from "../cloud/types.ts";
import type { NodeEniState } from "./fixed-claim.ts";
import type { Logger } from "./log.ts";
import type { NodeStore } from "./store.ts";
import type { NodeDrain } from "./switch-off.ts";

export interface FixedDrainDeps {
  instanceId: string;
  clusterId: () => string;
  store: NodeStore;
  api: VpcApi;
  log: Logger;
  /** The NodeENIConfig as last read (the agent polls it). */
  eni: () => NodeEniState;
  /** The NodeENIConfig read now. */
  readEni: () => Promise<NodeEniState>;
  /** The ENIs are gone: their links and route tables are forgotten (the kernel dropped them with the link). */
  forgetLinks: () => void;
}

export function fixedDrain(deps: FixedDrainDeps): NodeDrain {
  let warned = "";
  return {
    pods: () => deps.store.fixedAttachments().length,
    empty: () => deps.store.fixedAttachments().length === 0 && deps.eni().eniId === undefined,
    async confirm() {
      const eni = await deps.readEni();
      if (eni.eniId !== undefined) return null;
      const clusterId = deps.clusterId();
      const left = (await deps.api.listEnis(deps.instanceId))
        .filter((e) => !e.primary && e.tags[TAG_CLUSTER] === clusterId)
        .map((e) => e.id);
      if (left.length > 0) {
        // The controller's detach may still be on its way; the next NodeENIConfig read looks again.
        if (warned !== left.join()) {
          warned = left.join();
          deps.log.warn(
            "switching off: the NodeENIConfig names no ENI, but the cloud still lists ENIs of the cluster on this instance; waiting for the cluster controller to detach them",
            { enis: left },
          );
        }
        return null;
      }
      deps.forgetLinks();
      return { nodeEni: "given back by the cluster controller" };
    },
  };
}
