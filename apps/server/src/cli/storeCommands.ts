// `spindle store copy --from <home> --to postgres://...`: moves a home's state from its embedded
// SQLite file into an empty Postgres store, for a team of hosts (see docs/team-scale.md). Runs
// without a server: it holds the home's lock, so stop the home's server first.
import { resolve } from "node:path"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import * as References from "effect/References"
import { CliFailure, EXIT, usageError } from "./errors.ts"
import { print, table } from "./output.ts"

const copy = Command.make(
  "copy",
  {
    from: Flag.String("from").pipe(
      Flag.withDescription("The home whose SQLite state is copied (its server stopped)")
    ),
    to: Flag.String("to").pipe(
      Flag.withDescription("An empty Postgres database: postgres://USER@HOST:PORT/DB")
    )
  },
  ({ from, to }) =>
    Effect.gen(function* () {
      const { parseStoreUrl, describeStore } = yield* Effect.promise(() => import("../config/Store.ts"))
      const target = parseStoreUrl(to)
      if ("error" in target) return yield* usageError(`--to ${target.error}`)
      const { copyStore } = yield* Effect.promise(() => import("../persistence/StoreCopy.ts"))
      const home = resolve(from)
      const copied = yield* copyStore(home, target).pipe(
        // stdout is the answer's (--json): the stores' own log lines stay out of it.
        Effect.provideService(References.MinimumLogLevel, "None"),
        Effect.mapError(
          (error) =>
            new CliFailure({
              code: EXIT.failed,
              reason: error.reason,
              message: error.message,
              showReason: true
            })
        )
      )
      yield* print({ from: home, to: describeStore(target), tables: copied }, (result) =>
        [
          `Copied ${result.from} into ${result.to}:`,
          table(
            ["TABLE", "ROWS"],
            result.tables.map((t) => [t.table, String(t.rows)])
          ),
          `Start each host with --store ${result.to} (the password, if any, as you gave it).`
        ].join("\n")
      )
    })
).pipe(
  Command.withDescription(
    "Copy a home's events, tokens (hashed, as stored), projects and journals into an empty Postgres store"
  )
)

export const storeCommand = Command.make("store").pipe(
  Command.withDescription("The state's store: the embedded SQLite file or a shared Postgres database"),
  Command.withSubcommands([copy])
)
