// The environment a setup script really gets, seen from inside a real script.
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { setupFixture } from "../testing/setup.ts"
import { SETUP_ENV_ALLOWLIST } from "./setupEnvironment.ts"

/** Sets server variables for the test and puts the old values back when its scope closes. */
const withServerEnv = (vars: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]))
      Object.assign(process.env, vars)
      return saved
    }),
    (saved) =>
      Effect.sync(() => {
        for (const [name, value] of Object.entries(saved)) {
          if (value === undefined) delete process.env[name]
          else process.env[name] = value
        }
      })
  )

/** The script's whole environment, as `env -0` prints it. */
const envOf = (logTail: string) =>
  new Map(
    logTail
      .split("\n")
      .filter((line) => line.includes("="))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)] as const)
  )

describe("setup environment", () => {
  it.live("gives the script the allowlist, the project's variables and Spindle's, and nothing else", () =>
    Effect.gen(function* () {
      yield* withServerEnv({
        SPINDLE_TOKEN: "spt_server_secret",
        AWS_SECRET_ACCESS_KEY: "aws-secret",
        SPINDLE_HOME: "/home/of/the/server",
        TERM: "xterm-test",
        TZ: "Europe/Paris"
      })
      const { service, worktree, home, request } = yield* setupFixture()
      const result = yield* service.run(
        request("t1", "env", {
          branch: "feature/x",
          setupEnv: { NPM_CONFIG_REGISTRY: "http://127.0.0.1:1/", PATH: "/opt/tools/bin:/usr/bin:/bin" }
        })
      )
      assert.strictEqual(result.status, "succeeded")
      const env = envOf(result.logTail)
      assert.notInclude(result.logTail, "spt_server_secret")
      assert.notInclude(result.logTail, "aws-secret")
      assert.isFalse(env.has("SPINDLE_TOKEN"))
      assert.isFalse(env.has("SPINDLE_HOME"))
      assert.isFalse(env.has("AWS_SECRET_ACCESS_KEY"))
      assert.strictEqual(env.get("TERM"), "xterm-test")
      assert.strictEqual(env.get("TZ"), "Europe/Paris")
      assert.strictEqual(env.get("HOME"), process.env.HOME)
      assert.strictEqual(env.get("NPM_CONFIG_REGISTRY"), "http://127.0.0.1:1/")
      assert.strictEqual(env.get("PATH"), "/opt/tools/bin:/usr/bin:/bin")
      assert.strictEqual(env.get("SPINDLE_THREAD_ID"), "t1")
      assert.strictEqual(env.get("SPINDLE_BRANCH"), "feature/x")
      assert.strictEqual(env.get("SPINDLE_WORKTREE_PATH"), worktree)
      assert.strictEqual(env.get("T3CODE_PROJECT_ROOT"), `${home}/repo`)
      // Every variable is one we chose: the allowlist, the project's, Spindle's, or the shell's own.
      const allowed = new Set<string>([
        ...SETUP_ENV_ALLOWLIST,
        "NPM_CONFIG_REGISTRY",
        "SPINDLE_PROJECT_ROOT",
        "SPINDLE_WORKTREE_PATH",
        "SPINDLE_THREAD_ID",
        "SPINDLE_BRANCH",
        "T3CODE_PROJECT_ROOT",
        "T3CODE_WORKTREE_PATH",
        "PWD",
        "OLDPWD",
        "SHLVL",
        "_"
      ])
      assert.deepStrictEqual(
        [...env.keys()].filter((name) => !allowed.has(name)),
        []
      )
    })
  )

  it.live("a project variable cannot replace the ones Spindle sets for the run", () =>
    Effect.gen(function* () {
      const { service, request } = yield* setupFixture()
      const result = yield* service.run(
        request("t1", 'echo "$SPINDLE_THREAD_ID"', { setupEnv: { SPINDLE_THREAD_ID: "spoofed" } })
      )
      assert.strictEqual(result.logTail, "t1\n")
    })
  )
})
