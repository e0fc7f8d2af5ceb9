// `spindle store copy` end to end: a real server fills a SQLite home, the real CLI copies it into
// an empty Postgres database, and a real server on that database answers the copied client token
// with the same threads and the same event sequence. Needs the Postgres test cluster, so it runs
// in the server-postgres project only.
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { gitRepo, tempHome } from "../testing/fixtures.ts"
import { runSpindle, startServer } from "../testing/serverProcess.ts"
import { postgresFor, readSqlite, readTestStore, testPostgres } from "../testing/testStore.ts"

const json = <A>(out: { readonly stdout: string }) => JSON.parse(out.stdout) as A

describe.runIf(testPostgres() !== undefined)("spindle store copy", () => {
  it.effect("copies a SQLite home into an empty Postgres store that a server then runs on", () =>
    Effect.gen(function* () {
      const admin = testPostgres() ?? ""
      const home = yield* tempHome
      const repo = yield* gitRepo
      const env = { SPINDLE_HOME: home }
      const source = yield* startServer(home, ["--store", "sqlite"])
      const added = yield* runSpindle(["project", "add", repo, "--id", "demo"], env)
      assert.strictEqual(added.code, 0, added.stderr)
      for (const id of ["t1", "t2"]) {
        const started = yield* runSpindle(
          ["thread", "start", "--project", "demo", "--prompt", `work ${id}`, "--thread-id", id],
          env
        )
        assert.strictEqual(started.code, 0, started.stderr)
      }
      const issued = yield* runSpindle(["token", "create", "--name", "ci", "--json"], env)
      assert.strictEqual(issued.code, 0, issued.stderr)
      const { token } = json<{ token: string }>(issued)

      // A running server holds the home: nothing is copied under it.
      const newHome = yield* tempHome
      const target = postgresFor(admin, join(newHome, "spindle.db"))
      const busy = yield* runSpindle(["store", "copy", "--from", home, "--to", target, "--json"], {})
      assert.strictEqual(busy.code, 1)
      assert.strictEqual(json<{ error: { reason: string } }>(busy).error.reason, "in-use")

      source.terminate()
      yield* Effect.promise(() => source.exited)
      const sourceEvents = readSqlite(
        join(home, "spindle.db"),
        "SELECT sequence, type FROM events ORDER BY sequence"
      )
      const copied = yield* runSpindle(["store", "copy", "--from", home, "--to", target, "--json"], {})
      assert.strictEqual(copied.code, 0, copied.stderr)
      const tables = json<{ tables: Array<{ table: string; rows: number }> }>(copied).tables
      const rows = (name: string) => tables.find((t) => t.table === name)?.rows
      assert.strictEqual(rows("events"), sourceEvents.length)
      assert.isAtLeast(rows("client_tokens") ?? 0, 2)

      // Same log, same numbers.
      const targetEvents = readTestStore(
        join(newHome, "spindle.db"),
        "SELECT sequence, type FROM events ORDER BY sequence"
      )
      assert.deepStrictEqual(targetEvents, sourceEvents)

      // A server on the Postgres store knows the copied token and the threads.
      const server = yield* startServer(newHome)
      const listed = yield* runSpindle(
        ["thread", "list", "--json", "--url", server.url, "--token", token],
        {}
      )
      assert.strictEqual(listed.code, 0, listed.stderr)
      assert.deepStrictEqual(
        json<Array<{ id: string }>>(listed)
          .map((t) => t.id)
          .sort(),
        ["t1", "t2"]
      )

      // The target is no longer empty: a second copy is refused and changes nothing.
      server.terminate()
      yield* Effect.promise(() => server.exited)
      const again = yield* runSpindle(["store", "copy", "--from", home, "--to", target, "--json"], {})
      assert.strictEqual(again.code, 1)
      const refusal = json<{ error: { reason: string; message: string } }>(again).error
      assert.strictEqual(refusal.reason, "not-empty")
      assert.include(refusal.message, "nothing was copied")
      assert.strictEqual(
        readTestStore(join(newHome, "spindle.db"), "SELECT COUNT(*) AS n FROM events")[0]?.n,
        targetEvents.length
      )
    })
  )
})
