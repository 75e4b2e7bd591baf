// Public surface of the emulator package.
export {
  startEmulator,
  initialState,
  inventoryOf,
  type Emulator,
  type EmulatorOptions,
  type Inventory,
} from "./server.ts";
export {
  parseConfig,
  loadConfigFile,
  ACTIONS,
  type EmulatorConfig,
  type EmulatorConfigInput,
  type ActionFault,
  type Faults,
  type Settings,
} from "./config.ts";
export { noopFabric, type Fabric, type FabricEni, type FabricInstance } from "./fabric.ts";
export type { Admin } from "./admin.ts";
export type { State, EniRec, InstanceRec, SubnetRec, CredentialRec } from "./state.ts";
export { authorization, signature } from "./sign.ts";
