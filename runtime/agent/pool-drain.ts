// Switching off in shared mode, the cloud side (switch-off.ts's NodeDrain). The pool engine
// drains through the journal (runtime/pool/drain.ts): idle IPs and empty ENIs go at once, each
// pod's IP at its DEL. Before the node is cleaned up, one last look at the cloud: ENIs of this
// node the pool does not know (a lost state) are taken into the pool, which drains them; ENIs
// created for this node and attached nowhere go now (no create is in flight any more, so the
// leak sweep's age guard is not needed).
import type { VpcCniPolicy } from "../../schema/index.ts";
import type { VpcApi } from "../cloud/types.ts";
import { drained, syncInventory } from "../pool/index.ts";
import type { PoolDriver } from "./driver.ts";
import { isManaged, toInventory } from "./inventory.ts";
import type { Logger } from "./log.ts";
import { sweepLeakedEnis } from "./maintenance.ts";
import type { NodeDrain } from "./switch-off.ts";

export interface PoolDrainDeps {
  instanceId: string;
  policy: () => VpcCniPolicy;
  driver: PoolDriver;
  api: VpcApi;
  log: Logger;
  leakTags: Record<string, string>;
  createdAtTag: string;
}

export function poolDrain(deps: PoolDrainDeps): NodeDrain {
  const { driver, api, log } = deps;
  return {
    pods: () => Object.keys(driver.state.pods).length,
    empty: () => drained(driver.state),
    async confirm() {
      const managed = isManaged(deps.policy(), new Set(driver.state.enis.map((e) => e.id)));
      const enis = await api.listEnis(deps.instanceId);
      if (enis.some(managed)) {
        log.warn("switching off: the cloud lists ENIs of this node the pool did not hold; draining them too", {
          enis: enis.filter(managed).map((e) => e.id),
        });
        driver.update((s) => syncInventory(s, toInventory(enis, managed)).state);
        return null;
      }
      const swept = await sweepLeakedEnis(api, deps.leakTags, deps.createdAtTag, log, Date.now(), 0);
      return { leakedEnisDeleted: swept };
    },
  };
}
