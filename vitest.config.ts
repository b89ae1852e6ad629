import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // test/ holds the integration tests and the harness's own tests; modules may
    // also keep a unit test next to them (vpc.ts with vpc.test.ts).
    include: ["test/**/*.test.ts", "**/*.test.ts"],
    exclude: ["**/node_modules/**", "dist/**", ".git/**"],
    // The integration tests start real sshd processes and wait on sockets.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    teardownTimeout: 10_000,
    pool: "forks",
    globalSetup: ["test/support/globalSetup.ts"],
    // The machine has 2 cores; most tests wait on sockets rather than compute.
    maxWorkers: 2,
  },
});
