import { defineConfig } from "vitest/config";
import LongestFirstSequencer from "./test/sequencer.ts";

// Two tiers, both run by `npm test`: fast unit tests, and the e2e tier that drives the real
// Pulumi engine and a real PostgreSQL. CI must finish in 20 minutes on 2 cores, so the tiers run
// one after another (sequence.groupOrder), each in two lanes, longest files first
// (test/sequencer.ts). Every e2e file has its own server, port, backend folder and stack names
// (suffixed with the worker's pid), so two files never share state.
//
// The SIGKILL files are their own group, run one at a time while nothing else runs: they assert
// that everything a killed engine started exits by itself within settle()'s 15 s
// (test/e2e/interrupt-harness.ts), and with a second lane's engine on the other core the provider
// plugin once took longer. The whole e2e tier is `npx vitest run --project 'e2e*'`.
const KILL_FILES = ["test/e2e/interrupted-apply.test.ts", "test/e2e/checkpoint-free-kill.test.ts"];

const e2e = {
  // Throwaway stacks: the demo passphrase unless CI sets one (see the file).
  setupFiles: ["test/e2e/setup.ts"],
  // The first run on a fresh machine builds the engine from Go modules (minutes).
  hookTimeout: 30 * 60_000,
  testTimeout: 5 * 60_000,
};

export default defineConfig({
  test: {
    reporters: ["default", "./test/summary-reporter.ts"],
    sequence: { sequencer: LongestFirstSequencer },
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          exclude: ["test/e2e/**"],
          // Property tests and the CLI runs are CPU-bound: on 2 cores shared with other work the
          // 5 s default timed out a fast-check property that takes ~1 s on an idle machine.
          testTimeout: 30_000,
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...e2e,
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          exclude: KILL_FILES,
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          ...e2e,
          name: "e2e-kill",
          include: KILL_FILES,
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
