// Shared set-up for the token tests (both kinds): one "server start" over a real home and SQLite file,
// log capture and secret checks. Not shipped; the behaviour under test lives in the test files.
import { readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { assert } from "@effect/vitest"
import { SpindleError } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as SqlClient from "effect/sql/SqlClient"
import { ClientTokens } from "../auth/ClientTokens.ts"
import * as Database from "../persistence/Database.ts"
import { testConfig } from "./fixtures.ts"

export const tokensLayer = (home: string) =>
  ClientTokens.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(Database.layer(join(home, "spindle.db")), testConfig(home)))
  )

/** One server start: the service over `<home>`, closed afterwards as a shutdown would. */
export const withTokens = <A, E>(
  home: string,
  f: (tokens: ClientTokens["Service"]) => Effect.Effect<A, E, SqlClient.SqlClient>
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const context = yield* Layer.build(tokensLayer(home))
      return yield* Effect.provide(f(Context.get(context, ClientTokens)), context)
    })
  )

export const ownerFile = (home: string) => join(home, "owner-token")
export const readOwnerToken = (home: string) => readFileSync(ownerFile(home), "utf8").trim()
export const modeOf = (path: string) => statSync(path).mode & 0o777

/** The SpindleError an effect failed with (the test fails if it succeeded or failed otherwise). */
export const failure = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>) =>
  Effect.map(Effect.flip(effect), (error) => {
    assert.instanceOf(error, SpindleError)
    return error as SpindleError
  })

export const allRows = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  return yield* sql<Record<string, unknown>>`SELECT * FROM client_tokens`
})

/** Log lines (JSON, annotations included) written while `effect` runs. */
export const capturingLogs = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const lines: Array<string> = []
    const capture = Logger.make((options) => {
      lines.push(Logger.formatJson.log(options))
    })
    const result = yield* Effect.provide(effect, Logger.layer([capture]))
    return { result, lines }
  })

/** Neither the token nor a recognisable piece of it. */
export const assertNoSecret = (text: string, token: string) => {
  assert.notInclude(text, token)
  assert.notInclude(text, token.slice(4, 16))
  assert.notInclude(text, token.slice(-12))
}
