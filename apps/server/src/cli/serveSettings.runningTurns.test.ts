// `spindle serve --max-running-turns`: turns at once on this host, from the flag, else
// SPINDLE_MAX_RUNNING_TURNS, else config.json's maxRunningTurns, else the number of cores; a bad
// value is refused naming where it came from. With providers off no turn runs, so no start waits.
import { writeFileSync } from "node:fs"
import { availableParallelism } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { tempDir } from "../testing/fixtures.ts"
import { resolveServeSettings, type ServeFlags } from "./serveSettings.ts"

const flags = (maxRunningTurns?: string, providers?: string): ServeFlags => ({
  allowOrigin: [],
  codexConfig: [],
  agentEnv: [],
  ...(maxRunningTurns === undefined ? {} : { maxRunningTurns }),
  ...(providers === undefined ? {} : { providers })
})

describe("serve --max-running-turns", () => {
  it.effect(
    "the flag wins over SPINDLE_MAX_RUNNING_TURNS, which wins over config.json; default: the cores",
    () =>
      Effect.gen(function* () {
        const home = yield* tempDir()
        const limit = (f: ServeFlags, env: NodeJS.ProcessEnv = {}) =>
          Effect.map(resolveServeSettings(f, home, env), (s) => s.limits.runningTurns)
        assert.strictEqual(yield* limit(flags()), availableParallelism())
        writeFileSync(join(home, "config.json"), JSON.stringify({ maxRunningTurns: 3 }))
        assert.strictEqual(yield* limit(flags()), 3)
        assert.strictEqual(yield* limit(flags(), { SPINDLE_MAX_RUNNING_TURNS: "5" }), 5)
        assert.strictEqual(yield* limit(flags("7"), { SPINDLE_MAX_RUNNING_TURNS: "5" }), 7)
        // No agent runs a turn with providers off: nothing waits for a running-turn slot.
        assert.strictEqual(yield* limit(flags("7", "off")), Number.POSITIVE_INFINITY)
      }).pipe(Effect.scoped)
  )

  it.effect("refuses what is not a positive whole number, naming the flag, the variable or the key", () =>
    Effect.gen(function* () {
      const home = yield* tempDir()
      const refused = (f: ServeFlags, env: NodeJS.ProcessEnv = {}) =>
        Effect.flip(resolveServeSettings(f, home, env))
      const zero = yield* refused(flags("0"))
      assert.strictEqual(zero.reason, "usage")
      assert.include(zero.message, "--max-running-turns must be a whole number from 1 to 100000 (got '0')")
      assert.include((yield* refused(flags("two"))).message, "--max-running-turns")
      assert.include(
        (yield* refused(flags(), { SPINDLE_MAX_RUNNING_TURNS: "-1" })).message,
        "SPINDLE_MAX_RUNNING_TURNS must be a whole number"
      )
      writeFileSync(join(home, "config.json"), JSON.stringify({ maxRunningTurns: 1.5 }))
      const file = yield* refused(flags())
      assert.include(file.message, "maxRunningTurns")
    }).pipe(Effect.scoped)
  )
})
