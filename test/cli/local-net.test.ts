// The demo's port check: a port someone else listens on is refused in one line, before pg_ctl.
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { freePort, portInUse } from "../../cli/local/net.ts";

describe("portInUse", () => {
  it("tells a port someone listens on from a free one", async () => {
    const port = await freePort();
    expect(await portInUse(port)).toBe(false);
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, "127.0.0.1", resolve));
    try {
      expect(await portInUse(port)).toBe(true);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
    expect(await portInUse(port)).toBe(false);
  });
});
