import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { tempHome } from "../testing/fixtures.ts"
import { allGone, providersOn, providerWorld } from "../testing/providers.ts"
import { providerTokenRows, withProviderTokens } from "../testing/providerTokens.ts"

/** A Codex that starts (its pid in `pidFile`) and never answers `initialize`. */
const hangingCodex = (dir: string, pidFile: string) => {
  const bin = join(dir, "hanging-codex")
  writeFileSync(bin, `#!/bin/sh\necho $$ > '${pidFile}'\nexec sleep 300\n`)
  chmodSync(bin, 0o755)
  return bin
}

describe("agent session lifetimes", () => {
  it.live("a server that stops while a session is starting leaves no agent process and no live token", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      const pidFile = join(home, "..", "codex.pid")
      const codexBin = hangingCodex(join(home, ".."), pidFile)
      const pid = yield* Effect.scoped(
        Effect.gen(function* () {
          const world = yield* providerWorld({ ...providersOn, codexBin }, {}, { home })
          yield* world.start("t1", "go")
          // The agent's process runs and its token exists; the session is not registered yet.
          yield* Effect.sync(() => existsSync(pidFile) && readFileSync(pidFile, "utf8").trim() !== "").pipe(
            Effect.repeat({ until: (found) => found, schedule: Schedule.spaced("20 millis") }),
            Effect.timeout("10 seconds")
          )
          const thread = yield* world.engine.getThread("t1" as ThreadId)
          assert.strictEqual(thread?.session.status, "starting")
          return Number(readFileSync(pidFile, "utf8"))
        })
      )
      yield* allGone([pid])
      const rows = yield* withProviderTokens(home, () => providerTokenRows)
      assert.isAbove(rows.length, 0, "the session had a token")
      for (const row of rows) assert.isNotNull(row.revoked_at, `token ${String(row.id)} is still live`)
    })
  )
})
