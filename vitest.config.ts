import { defineConfig } from "vitest/config";

// Two tiers, both run by `npm test`: fast unit tests, and the e2e tier that drives the real
// Pulumi engine and a real PostgreSQL (slow, so it runs on its own with generous timeouts).
export default defineConfig({
  test: {
    reporters: ["default", "./test/summary-reporter.ts"],
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          exclude: ["test/e2e/**"],
          // Property tests and the CLI runs are CPU-bound: on 2 cores shared with other work the
          // 5 s default timed out a fast-check property that takes ~1 s on an idle machine.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          // The first run on a fresh machine builds the engine from Go modules (minutes).
          hookTimeout: 30 * 60_000,
          testTimeout: 5 * 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
