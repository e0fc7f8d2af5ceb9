// Shared set-up for the ProviderTokens tests: the service over a real, migrated SQLite file and a
// look at the raw rows. Not shipped; the behaviour under test lives in ProviderTokens.test.ts.
import { join } from "node:path"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as SqlClient from "effect/sql/SqlClient"
import { ProviderTokens, type ProviderTokensOptions } from "../auth/ProviderTokens.ts"
import * as Database from "../persistence/Database.ts"

export const providerTokensLayer = (home: string, options?: ProviderTokensOptions) =>
  ProviderTokens.layerWith(options).pipe(Layer.provideMerge(Database.layerClient(join(home, "spindle.db"))))

/** One server start: the service over `<home>`, closed afterwards as a shutdown would. */
export const withProviderTokens = <A, E>(
  home: string,
  f: (tokens: ProviderTokens["Service"]) => Effect.Effect<A, E, SqlClient.SqlClient>,
  options?: ProviderTokensOptions
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const context = yield* Layer.build(providerTokensLayer(home, options))
      return yield* Effect.provide(f(Context.get(context, ProviderTokens)), context)
    })
  )

export const providerTokenRows = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  return yield* sql<Record<string, unknown>>`SELECT * FROM provider_tokens`
})
