// The provider plugin as a process: it must not outlive the engine that started it.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const launcher = join(import.meta.dirname, "../../provider/pulumi-resource-tenancy");
/** Running (an exited process waiting to be reaped, a zombie, has stopped: it counts as gone). */
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = (() => { try { return readFileSync(`/proc/${pid}/stat`, "utf8"); } catch { return ""; } })();
  return !/^\d+ \(.*\) Z/.test(stat);
};

describe("tenancy provider plugin process", () => {
  it("exits by itself when the engine that started it is killed with SIGKILL", async () => {
    // A stand-in engine: starts the plugin through its launcher, as the engine does, and reports
    // the plugin's pid once the plugin has printed its port.
    const engine = spawn(process.execPath, ["-e", `
      const { spawn } = require("node:child_process");
      const plugin = spawn(${JSON.stringify(launcher)}, ["127.0.0.1:1"], { stdio: ["ignore", "pipe", "inherit"], detached: true });
      plugin.stdout.once("data", (port) => console.log(JSON.stringify({ pid: plugin.pid, port: String(port).trim() })));
      setInterval(() => {}, 1000);
    `], { stdio: ["ignore", "pipe", "inherit"] });
    const started = await new Promise<{ pid: number; port: string }>((resolve, reject) => {
      engine.stdout.once("data", (line) => resolve(JSON.parse(String(line))));
      engine.once("exit", () => reject(new Error("the stand-in engine exited early")));
    });
    expect(started.port).toMatch(/^\d+$/);
    expect(alive(started.pid)).toBe(true);

    engine.kill("SIGKILL");
    // It checks every 0.5 s; a loaded machine may take longer to schedule it.
    const deadline = Date.now() + 30_000;
    while (alive(started.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const survived = alive(started.pid);
    if (survived) process.kill(started.pid, "SIGKILL");
    expect(survived, "the plugin outlived its engine").toBe(false);
  }, 60_000);
});
