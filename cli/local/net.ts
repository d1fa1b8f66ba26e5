import { createServer } from "node:net";

/** A TCP port free on the loopback right now (for throwaway servers in tests and benchmarks). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    }).on("error", reject);
  });
}

/** Whether something already listens on 127.0.0.1:`port` (another server, or another demo). */
export async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer().once("error", () => resolve(true)).listen(port, "127.0.0.1", () => server.close(() => resolve(false)));
  });
}
