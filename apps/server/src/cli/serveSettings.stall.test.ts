// `spindle serve --turn-stall-timeout / --turn-stall-interrupt`: durations from the flag, else the
// variable, else config.json, else 5m and 30m; bad ones refused by name with what they take.
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { tempDir } from "../testing/fixtures.ts"
import { resolveServeSettings, type ServeFlags } from "./serveSettings.ts"

const flags = (stall?: string, interrupt?: string): ServeFlags => ({
  allowOrigin: [],
  codexConfig: [],
  agentEnv: [],
  turnStallTimeout: stall,
  turnStallInterrupt: interrupt
})

const stallOf = (settings: {
  providers?: { turnStallTimeoutMs?: number; turnStallInterruptMs?: number }
}) => [settings.providers?.turnStallTimeoutMs, settings.providers?.turnStallInterruptMs]

describe("serve --turn-stall-timeout and --turn-stall-interrupt", () => {
  it.effect(
    "default 5m and 30m; units ms, s, m, h or bare seconds; the flag over the variable over config.json",
    () =>
      Effect.gen(function* () {
        const home = yield* tempDir()
        assert.deepStrictEqual(stallOf(yield* resolveServeSettings(flags(), home, {})), [300_000, 1_800_000])
        assert.deepStrictEqual(
          stallOf(yield* resolveServeSettings(flags("90s", "2h"), home, {})),
          [90_000, 7_200_000]
        )
        assert.deepStrictEqual(
          stallOf(yield* resolveServeSettings(flags("1500ms", "45"), home, {})),
          [1_500, 45_000]
        )
        writeFileSync(
          join(home, "config.json"),
          JSON.stringify({ turnStallTimeout: "2m", turnStallInterrupt: 600 })
        )
        assert.deepStrictEqual(stallOf(yield* resolveServeSettings(flags(), home, {})), [120_000, 600_000])
        const env = { SPINDLE_TURN_STALL_TIMEOUT: "3m" }
        assert.deepStrictEqual(stallOf(yield* resolveServeSettings(flags(), home, env)), [180_000, 600_000])
        assert.deepStrictEqual(
          stallOf(yield* resolveServeSettings(flags("4m"), home, env)),
          [240_000, 600_000]
        )
      }).pipe(Effect.scoped)
  )

  it.effect(
    "0 turns either off; an interrupt shorter than the stall timeout, or a bad duration, is refused by name",
    () =>
      Effect.gen(function* () {
        const home = yield* tempDir()
        assert.deepStrictEqual(stallOf(yield* resolveServeSettings(flags("0", "0"), home, {})), [0, 0])
        assert.deepStrictEqual(
          stallOf(yield* resolveServeSettings(flags("45m", "0"), home, {})),
          [2_700_000, 0]
        )
        const shorter = yield* Effect.flip(resolveServeSettings(flags("10m", "5m"), home, {}))
        assert.include(shorter.message, "--turn-stall-interrupt must be at least --turn-stall-timeout")
        const implicit = yield* Effect.flip(resolveServeSettings(flags("45m"), home, {}))
        assert.include(implicit.message, "--turn-stall-interrupt (default 30m)")
        const bad = yield* Effect.flip(resolveServeSettings(flags("soon"), home, {}))
        assert.include(bad.message, "--turn-stall-timeout takes a duration such as 90s, 5m or 1h")
        const badEnv = yield* Effect.flip(
          resolveServeSettings(flags(), home, { SPINDLE_TURN_STALL_INTERRUPT: "-5m" })
        )
        assert.include(badEnv.message, "SPINDLE_TURN_STALL_INTERRUPT takes a duration")
      }).pipe(Effect.scoped)
  )
})
