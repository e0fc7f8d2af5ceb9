// `spindle serve --session-idle-timeout`: a duration from the flag, else the variable, else
// config.json, else 15m; 0 or off turns it off; a bad one is refused by name with what it takes.
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { tempDir } from "../testing/fixtures.ts"
import { resolveServeSettings, type ServeFlags } from "./serveSettings.ts"

const flags = (idle?: string): ServeFlags => ({
  allowOrigin: [],
  codexConfig: [],
  agentEnv: [],
  sessionIdleTimeout: idle
})

const idleOf = (settings: { providers?: { sessionIdleTimeoutMs?: number } }) =>
  settings.providers?.sessionIdleTimeoutMs

describe("serve --session-idle-timeout", () => {
  it.effect(
    "default 15m; the flag over the variable over config.json; 0 or off is off; bad values refused",
    () =>
      Effect.gen(function* () {
        const home = yield* tempDir()
        assert.strictEqual(idleOf(yield* resolveServeSettings(flags(), home, {})), 900_000)
        assert.strictEqual(idleOf(yield* resolveServeSettings(flags("90s"), home, {})), 90_000)
        assert.strictEqual(idleOf(yield* resolveServeSettings(flags("0"), home, {})), 0)
        assert.strictEqual(idleOf(yield* resolveServeSettings(flags("off"), home, {})), 0)
        assert.strictEqual(idleOf(yield* resolveServeSettings(flags(" OFF "), home, {})), 0)
        const offByEnv = { SPINDLE_SESSION_IDLE_TIMEOUT: "off" }
        assert.strictEqual(idleOf(yield* resolveServeSettings(flags(), home, offByEnv)), 0)
        writeFileSync(join(home, "config.json"), JSON.stringify({ sessionIdleTimeout: "off" }))
        assert.strictEqual(idleOf(yield* resolveServeSettings(flags(), home, {})), 0)
        writeFileSync(join(home, "config.json"), JSON.stringify({ sessionIdleTimeout: "1h" }))
        assert.strictEqual(idleOf(yield* resolveServeSettings(flags(), home, {})), 3_600_000)
        const env = { SPINDLE_SESSION_IDLE_TIMEOUT: "20m" }
        assert.strictEqual(idleOf(yield* resolveServeSettings(flags(), home, env)), 1_200_000)
        assert.strictEqual(idleOf(yield* resolveServeSettings(flags("2m"), home, env)), 120_000)
        const bad = yield* Effect.flip(resolveServeSettings(flags("later"), home, {}))
        assert.include(bad.message, "--session-idle-timeout takes a duration such as 90s, 5m or 1h")
        assert.include(bad.message, "0 or off means never")
        assert.include(bad.message, "got 'later'")
      }).pipe(Effect.scoped)
  )
})
