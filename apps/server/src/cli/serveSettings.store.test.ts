// `spindle serve --store`: a postgres:// URL from the flag, else SPINDLE_STORE, else config.json's
// `store`; `sqlite` (or nothing) is the home's own SQLite file; anything else is refused by name.
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { describeStore } from "../config/Store.ts"
import { tempDir } from "../testing/fixtures.ts"
import { resolveServeSettings } from "./serveSettings.ts"

const flags = (store?: string) => ({ allowOrigin: [], codexConfig: [], agentEnv: [], store })
const url = (settings: {
  readonly store?: { readonly kind: string; readonly url?: Redacted.Redacted<string> }
}) => (settings.store?.url === undefined ? settings.store?.kind : Redacted.value(settings.store.url))

describe("serve --store", () => {
  it.effect("the flag over SPINDLE_STORE over config.json; sqlite or nothing is the home's file", () =>
    Effect.gen(function* () {
      const home = yield* tempDir()
      assert.isUndefined((yield* resolveServeSettings(flags(), home, {})).store)
      writeFileSync(join(home, "config.json"), JSON.stringify({ store: "postgres://a@127.0.0.1/file" }))
      assert.strictEqual(url(yield* resolveServeSettings(flags(), home, {})), "postgres://a@127.0.0.1/file")
      const env = { SPINDLE_STORE: "postgresql://b@127.0.0.1:6543/env" }
      assert.strictEqual(url(yield* resolveServeSettings(flags(), home, env)), env.SPINDLE_STORE)
      assert.strictEqual(
        url(yield* resolveServeSettings(flags("postgres://c@127.0.0.1/flag"), home, env)),
        "postgres://c@127.0.0.1/flag"
      )
      assert.isUndefined((yield* resolveServeSettings(flags("sqlite"), home, env)).store)
    }).pipe(Effect.scoped)
  )

  it.effect("refuses what is not a Postgres URL with a database, naming the setting", () =>
    Effect.gen(function* () {
      const home = yield* tempDir()
      const refused = (store: string, env: NodeJS.ProcessEnv = {}) =>
        Effect.flip(resolveServeSettings(flags(store), home, env)).pipe(Effect.map((e) => e.message))
      assert.include(yield* refused("not a url"), "--store takes a Postgres URL")
      assert.include(yield* refused("mysql://x@127.0.0.1/db"), "--store takes a postgres:// URL")
      assert.include(yield* refused("postgres://x@127.0.0.1"), "--store names no database")
      const fromEnv = yield* Effect.flip(resolveServeSettings(flags(), home, { SPINDLE_STORE: "http://x/y" }))
      assert.include(fromEnv.message, "SPINDLE_STORE takes a postgres:// URL")
    }).pipe(Effect.scoped)
  )

  it("names a Postgres store without its password", () => {
    const shown = describeStore({
      kind: "postgres",
      url: Redacted.make("postgres://me:s3cret@127.0.0.1:5432/db")
    })
    assert.strictEqual(shown, "postgres://me:***@127.0.0.1:5432/db")
    assert.notInclude(shown, "s3cret")
  })
})
