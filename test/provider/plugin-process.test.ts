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

  it("exits when the engine is killed while the plugin is still starting and a subreaper adopts it", async () => {
    // A subreaper (PR_SET_CHILD_SUBREAPER: systemd user sessions, some container inits) adopts
    // orphans instead of PID 1, so an orphan's parent is not 1. The stand-in engine, under a
    // Python subreaper, starts the plugin and is SIGKILLed 150 ms later: the launcher has read
    // the engine's pid by then, the plugin is still loading its modules.
    const reaper = spawn("python3", ["-c", `
import ctypes, json, os, subprocess, sys, time
assert ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
engine = subprocess.Popen([sys.argv[1], "-e", sys.argv[2]], stdout=subprocess.PIPE)
plugin = int(engine.stdout.readline())
engine.wait()
print(json.dumps({"reaper": os.getpid(), "plugin": plugin}), flush=True)
while True:  # reap adopted orphans until killed
    try: os.waitpid(-1, 0)
    except ChildProcessError: time.sleep(0.1)
`, process.execPath, `
      const { spawn } = require("node:child_process");
      const plugin = spawn(${JSON.stringify(launcher)}, ["127.0.0.1:1"], { stdio: ["ignore", "ignore", "inherit"], detached: true });
      console.log(plugin.pid);
      setTimeout(() => process.kill(process.pid, "SIGKILL"), 150);
    `], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      const started = await new Promise<{ reaper: number; plugin: number }>((resolve, reject) => {
        reaper.stdout.once("data", (line) => resolve(JSON.parse(String(line))));
        reaper.once("exit", (code) => reject(new Error(`the subreaper exited early (${code})`)));
      });
      const parent = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ")[1]);
      if (alive(started.plugin)) expect(parent(started.plugin), "the plugin must have been adopted by the subreaper").toBe(started.reaper);
      const deadline = Date.now() + 30_000;
      while (alive(started.plugin) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const survived = alive(started.plugin);
      if (survived) process.kill(started.plugin, "SIGKILL");
      expect(survived, "the plugin served on under the subreaper").toBe(false);
    } finally {
      reaper.kill("SIGKILL");
    }
  }, 60_000);
});
