// Free loopback TCP ports. The kernel picks one, we release it and hand it to a server
// started right after; another process could take it in between, which startCluster
// treats as a failed start and retries.
import { createServer } from "node:net";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      if (addr === null || typeof addr === "string") {
        srv.close();
        reject(new Error(`unexpected listen address ${String(addr)}`));
        return;
      }
      srv.close(() => resolve(addr.port));
    });
  });
}
