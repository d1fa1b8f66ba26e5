// With TENANCY_BENCH_CPU_PROFILE=<dir>, writes the program's V8 CPU profile there when it exits
// (Node 20 refuses --cpu-prof in NODE_OPTIONS; the language host passes no other way in).
"use strict";
const dir = process.env.TENANCY_BENCH_CPU_PROFILE;
if (dir) {
  const { Session } = require("node:inspector");
  const { writeFileSync } = require("node:fs");
  const { join } = require("node:path");
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.start");
  process.on("exit", () => {
    session.post("Profiler.stop", (error, result) => {
      if (!error) writeFileSync(join(dir, `program-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
