// Run INSIDE a test-bed node namespace (ip netns exec): exercises IprouteDataPlane with no
// netns option, the way the agent runs it in its own namespace, and prints what it saw.
import { IprouteDataPlane } from "../../runtime/net/index.ts";

const [mac, subnetCidr, gateway] = process.argv.slice(2);
if (!mac || !subnetCidr || !gateway) throw new Error("usage: self-netns-probe.ts MAC SUBNET GATEWAY");
const dp = new IprouteDataPlane();
const link = await dp.setupEni({ mac, subnetCidr, gateway });
await dp.ensureSysctls("eth0", [link.name]);
const report = await dp.repair({ primaryInterface: "eth0", enis: [{ mac, subnetCidr, gateway }], pods: [] });
console.log(JSON.stringify({ link, fixed: report.fixed }));
