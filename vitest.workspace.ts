// The test projects, one per workspace package. vitest 5 ignores this file on its own:
// vitest.config.ts imports it into `test.projects`.
import { defineProject } from "vitest/config"
import { postgresInstalled } from "./apps/server/src/testing/postgresCluster.ts"

/**
 * Every server a test starts, in process or as `spindle serve`, runs no agent unless the test
 * turns providers on and points Codex at the loopback fake model itself: nothing reaches a model
 * service, and turns stay `requested` where a test does not care about them.
 */
const env = { SPINDLE_PROVIDERS: "off" }

const project = (name: string, root: string) =>
  defineProject({
    test: {
      name,
      root,
      include: ["src/**/*.test.ts", "test/**/*.test.ts", "scripts/**/*.test.ts"],
      testTimeout: 30_000,
      hookTimeout: 30_000,
      env
    }
  })

// The reliability suite (`npm run test:reliability`): the real server under crashes, hostile
// input, token attacks and load; one file at a time, with long bounds, and a report at the end.
const reliability = defineProject({
  test: {
    name: "reliability",
    root: "apps/server",
    include: ["reliability/**/*.test.ts"],
    // The several-hosts scenarios share one throwaway Postgres cluster.
    globalSetup: ["reliability/globalSetup.ts", "src/testing/postgresSetup.ts"],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 120_000,
    env
  }
})

// The engine, persistence and bootstrap tests again, against Postgres (`--store postgres://`):
// one throwaway cluster for the run (Debian's postgresql package), a database per test. The few
// files that open the SQLite file itself (to corrupt, fill or break it) or test the engine's direct
// path on it (persistence/sqliteBatch.ts) stay SQLite-only.
// Without Postgres's binaries (a machine that never installed Debian's postgresql) the project is
// left out with a notice, except under CI, where a missing server is a failure.
const serverPostgres = defineProject({
  test: {
    name: "server-postgres",
    root: "apps/server",
    include: [
      "src/engine/**/*.test.ts",
      "src/persistence/**/*.test.ts",
      "src/bootstrap/**/*.test.ts",
      "src/hosts/**/*.test.ts",
      "src/cluster/**/*.test.ts"
    ],
    exclude: [
      "src/persistence/HomeLock.test.ts",
      "src/persistence/corruptRows.test.ts",
      "src/persistence/sqliteBatch.test.ts",
      "src/bootstrap/SetupRunner.faults.test.ts",
      "src/bootstrap/storageFull.test.ts",
      "src/bootstrap/storeFailures.test.ts"
    ],
    globalSetup: ["src/testing/postgresSetup.ts"],
    setupFiles: ["src/testing/postgresEnv.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    env
  }
})

// The board's tests (`npm test` runs them): the real server and the page in a real Chromium (the
// system's, or the npm package's: apps/board/test/browser.ts) driven by playwright-core. One file
// at a time: each starts a browser and servers, and the machine has two cores.
const board = defineProject({
  test: {
    name: "board",
    root: "apps/board",
    include: ["test/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
    env
  }
})

function postgresProjects() {
  if (process.env.CI === "true" || postgresInstalled()) return [serverPostgres]
  process.stderr.write(
    "server-postgres: left out, no Postgres server binaries here (apt-get install -y postgresql runs it).\n"
  )
  return []
}

export default [
  project("contracts", "packages/contracts"),
  project("shared", "packages/shared"),
  project("server", "apps/server"),
  ...postgresProjects(),
  board,
  reliability
]
