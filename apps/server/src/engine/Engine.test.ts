import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { Command, SpindleEvent } from "@spindle/contracts"
import { aggregateOf } from "@spindle/read-model"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as SqlClient from "effect/sql/SqlClient"
import * as Database from "../persistence/Database.ts"
import { NotifySecrets } from "../persistence/NotifySecrets.ts"
import { engineLayer, ids, serverActor, tempDir } from "../testing/fixtures.ts"
import { readTestStore, testPostgres } from "../testing/testStore.ts"
import { Engine } from "./Engine.ts"

const createProject = (n: number, root = `/repos/r${n}`): Command => ({
  type: "project.create",
  commandId: ids.command(`create-${n}`),
  projectId: ids.project(`p${n}`),
  workspaceRoot: root
})

/** Runs `f` against an engine over `file`, closing it (as a shutdown would) afterwards. */
const withEngine = <A, E>(
  file: string,
  f: (engine: Engine["Service"]) => Effect.Effect<A, E, SqlClient.SqlClient>
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const context = yield* Layer.build(engineLayer(file))
      const engine = Context.get(context, Engine)
      yield* engine.ready
      return yield* Effect.provide(f(engine), context)
    })
  )

const countEvents = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ readonly n: number }>`SELECT COUNT(*) AS n FROM events`
  return rows[0]!.n
})

const receiptStatus = (commandId: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{
      readonly status: string
    }>`SELECT status FROM command_receipts WHERE command_id = ${commandId}`
    return rows[0]?.status
  })

describe("Engine", () => {
  it.effect("numbers events with a global sequence in dispatch order", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir()
      yield* withEngine(join(dir, "db.sqlite"), (engine) =>
        Effect.gen(function* () {
          const first = yield* engine.dispatch(createProject(1), serverActor)
          const second = yield* engine.dispatch(createProject(2), serverActor)
          assert.deepStrictEqual([first.sequence, second.sequence], [1, 2])
          const snapshot = yield* engine.snapshot
          assert.strictEqual(snapshot.sequence, 2)
          assert.deepStrictEqual(
            snapshot.projects.map((p) => p.id),
            ["p1", "p2"]
          )
        })
      )
    })
  )

  it.effect("answers a repeated commandId with the recorded outcome and applies it once", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir()
      yield* withEngine(join(dir, "db.sqlite"), (engine) =>
        Effect.gen(function* () {
          const results = yield* Effect.all(
            Array.from({ length: 20 }, () => engine.dispatch(createProject(1), serverActor)),
            { concurrency: "unbounded" }
          )
          assert.deepStrictEqual(new Set(results.map((r) => r.sequence)), new Set([1]))
          assert.strictEqual(yield* countEvents, 1)
        })
      )
    })
  )

  it.effect("refuses the same commandId with a different payload", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir()
      yield* withEngine(join(dir, "db.sqlite"), (engine) =>
        Effect.gen(function* () {
          yield* engine.dispatch(createProject(1), serverActor)
          const other = { ...createProject(1), workspaceRoot: "/repos/elsewhere" }
          const error = yield* Effect.flip(engine.dispatch(other, serverActor))
          assert.strictEqual(error.reason, "conflict")
          assert.include(error.message, "create-1")
          assert.strictEqual(yield* countEvents, 1)
        })
      )
    })
  )

  it.effect("records a rejected receipt and no events for a refused command, and repeats the refusal", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir()
      yield* withEngine(join(dir, "db.sqlite"), (engine) =>
        Effect.gen(function* () {
          const command: Command = {
            type: "thread.create",
            commandId: ids.command("orphan"),
            threadId: ids.thread("t1"),
            projectId: ids.project("missing"),
            title: "No project"
          }
          const first = yield* Effect.flip(engine.dispatch(command, serverActor))
          assert.strictEqual(first.reason, "not-found")
          assert.strictEqual(yield* countEvents, 0)
          assert.strictEqual(yield* receiptStatus("orphan"), "rejected")
          // The project appears later, but the recorded outcome of that commandId stands.
          yield* engine.dispatch(createProject(1), serverActor)
          const again = yield* Effect.flip(engine.dispatch({ ...command }, serverActor))
          assert.strictEqual(again.reason, "not-found")
          assert.strictEqual(again.message, first.message)
        })
      )
    })
  )

  it.effect("keeps its state across a restart", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir()
      const file = join(dir, "db.sqlite")
      const before = yield* withEngine(file, (engine) =>
        Effect.gen(function* () {
          yield* engine.dispatch(createProject(1), serverActor)
          yield* engine.dispatch(
            {
              type: "thread.create",
              commandId: ids.command("t"),
              threadId: ids.thread("t1"),
              projectId: ids.project("p1"),
              title: "T"
            },
            serverActor
          )
          return yield* engine.snapshot
        })
      )
      const after = yield* withEngine(file, (engine) => engine.snapshot)
      assert.deepStrictEqual(after, before)
      assert.strictEqual(after.threads.length, 1)
      // And the receipts survived too: the same command is not applied again.
      const again = yield* withEngine(file, (engine) => engine.dispatch(createProject(1), serverActor))
      assert.strictEqual(again.sequence, 1)
    })
  )

  it.effect("rebuilds projections from the log when they are behind or unreadable", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir()
      const file = join(dir, "db.sqlite")
      const before = yield* withEngine(file, (engine) =>
        Effect.gen(function* () {
          for (let n = 1; n <= 3; n++) yield* engine.dispatch(createProject(n), serverActor)
          // Simulate a projection that lost its last write and a row that no longer decodes.
          const sql = yield* SqlClient.SqlClient
          yield* sql`UPDATE projection_state SET last_sequence = 1`
          yield* sql`DELETE FROM projection_projects WHERE id = 'p3'`
          yield* sql`UPDATE projection_projects SET data = '{"broken":true}' WHERE id = 'p2'`
          return yield* engine.snapshot
        })
      )
      const after = yield* withEngine(file, (engine) => engine.snapshot)
      assert.deepStrictEqual(after, before)
    })
  )

  it.effect(
    "writes a notify secret with the command that carries it, in batch order, and never into the log",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir()
        yield* Effect.scoped(
          Effect.gen(function* () {
            const context = yield* Layer.build(engineLayer(join(dir, "db.sqlite")))
            const engine = Context.get(context, Engine)
            const secrets = Context.get(context, NotifySecrets)
            const sql = Context.get(context, SqlClient.SqlClient)
            yield* engine.ready
            const hooked = (n: number, notifySecret: string) =>
              ({ ...createProject(n), notifyWebhook: "http://127.0.0.1:9/hook", notifySecret }) as Command
            yield* engine.dispatch(hooked(1, "secret-one"), serverActor)
            assert.strictEqual(yield* secrets.get("p1"), "secret-one")

            // One batch: p2's secret set then dropped, p3's set, then a refused create of p3 again.
            const outcomes = yield* engine.dispatchAll(
              [
                hooked(2, "secret-two"),
                {
                  type: "project.update",
                  commandId: ids.command("drop-2"),
                  projectId: ids.project("p2"),
                  notifySecret: null
                } as Command,
                hooked(3, "secret-three"),
                { ...hooked(3, "secret-refused"), commandId: ids.command("again-3") }
              ],
              serverActor
            )
            assert.deepStrictEqual(
              outcomes.map((o) => o._tag),
              ["Success", "Success", "Success", "Failure"]
            )
            assert.isUndefined(yield* secrets.get("p2"))
            assert.strictEqual(yield* secrets.get("p3"), "secret-three")
            const logged = yield* sql<{ readonly payload: string }>`SELECT payload FROM events`
            assert.isFalse(logged.some((row) => row.payload.includes("secret-")))
          })
        )
      })
  )

  it.effect("refuses to change or delete a recorded event", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir()
      yield* withEngine(join(dir, "db.sqlite"), (engine) =>
        Effect.gen(function* () {
          yield* engine.dispatch(createProject(1), serverActor)
          const sql = yield* SqlClient.SqlClient
          const update = yield* Effect.exit(sql`UPDATE events SET type = 'x'`)
          const remove = yield* Effect.exit(sql`DELETE FROM events`)
          assert.isTrue(Exit.isFailure(update))
          assert.isTrue(Exit.isFailure(remove))
          assert.strictEqual(yield* countEvents, 1)
        })
      )
    })
  )

  it.live(
    "streams every event (or every wanted one) exactly once to a subscriber that joins mid-stream",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir()
        const total = 600
        yield* withEngine(join(dir, "db.sqlite"), (engine) =>
          Effect.gen(function* () {
            for (let n = 1; n <= 100; n++) yield* engine.dispatch(createProject(n), serverActor)
            // Keep writing while the subscriber replays the backlog and switches to live events.
            const writer = yield* Effect.forkChild(
              Effect.forEach(
                Array.from({ length: total - 100 }, (_, i) => i + 101),
                (n) => engine.dispatch(createProject(n), serverActor),
                { concurrency: 8 }
              )
            )
            // A follower of some events only (every third project), backlog and live alike.
            const third = (event: SpindleEvent) => Number(aggregateOf(event).id.slice(1)) % 3 === 0
            const some = yield* Effect.forkChild(
              engine.events(0, { wanted: third }).pipe(Stream.take(total / 3), Stream.runCollect)
            )
            const all = yield* engine.events(0).pipe(
              Stream.takeUntil((event) => event.sequence >= total),
              Stream.runCollect
            )
            yield* Fiber.join(writer)
            assert.deepStrictEqual(
              Array.from(all, (event) => event.sequence),
              Array.from({ length: total }, (_, i) => i + 1)
            )
            // Exactly the wanted ones, each once, in the log's order.
            assert.deepStrictEqual(
              Array.from(yield* Fiber.join(some), (event) => event.sequence),
              Array.from(all)
                .filter(third)
                .map((event) => event.sequence)
            )
            // Resuming from the middle gives exactly the rest.
            const resumed = yield* engine.events(450).pipe(Stream.take(total - 450), Stream.runCollect)
            assert.deepStrictEqual(
              Array.from(resumed, (e) => e.sequence),
              Array.from({ length: total - 450 }, (_, i) => i + 451)
            )
          })
        )
      })
  )

  it.effect("finishes queued commands when it is shut down", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir()
      const file = join(dir, "db.sqlite")
      const results = yield* Effect.scoped(
        Effect.gen(function* () {
          const context = yield* Layer.build(engineLayer(file))
          const engine = Context.get(context, Engine)
          const fibers = yield* Effect.forEach(
            Array.from({ length: 50 }, (_, i) => i + 1),
            (n) => Effect.forkDetach(engine.dispatch(createProject(n), serverActor))
          )
          return fibers
        })
      ).pipe(Effect.flatMap((fibers) => Effect.forEach(fibers, Fiber.await)))
      const applied = results.filter(Exit.isSuccess).length
      const refused = results.filter((exit) => Exit.isFailure(exit)).length
      const persisted = yield* withEngine(file, (engine) =>
        Effect.map(engine.snapshot, (s) => s.projects.length)
      )
      // Whatever the engine accepted before closing is on disk; nothing was half-applied.
      assert.strictEqual(persisted, applied)
      assert.strictEqual(applied + refused, 50)
    })
  )
})

describe("database file safety", () => {
  it.effect.skipIf(testPostgres() !== undefined)(
    "refuses a file that is not a SQLite database and leaves it untouched",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir()
        const file = join(dir, "db.sqlite")
        const junk = "this is not a database ".repeat(100)
        writeFileSync(file, junk)
        const exit = yield* Effect.exit(withEngine(file, (engine) => engine.snapshot))
        assert.isTrue(Exit.isFailure(exit))
        const error = Exit.isFailure(exit) ? String(exit.cause) : ""
        assert.include(error, "Spindle does not overwrite it")
        assert.strictEqual(readFileSync(file, "utf8"), junk)
      })
  )

  it.effect("refuses a database migrated by a newer Spindle", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir()
      const file = join(dir, "db.sqlite")
      yield* withEngine(file, (engine) =>
        Effect.gen(function* () {
          yield* engine.dispatch(createProject(1), serverActor)
          const sql = yield* SqlClient.SqlClient
          yield* sql`INSERT INTO spindle_migrations (migration_id, name) VALUES (999, 'from_the_future')`
        })
      )
      const onSqlite = testPostgres() === undefined
      const bytes = onSqlite ? readFileSync(file) : undefined
      const rows = () =>
        readTestStore(file, "SELECT migration_id, name FROM spindle_migrations ORDER BY migration_id")
      const before = rows()
      const exit = yield* Effect.exit(withEngine(file, (engine) => engine.snapshot))
      assert.isTrue(Exit.isFailure(exit))
      assert.include(Exit.isFailure(exit) ? String(exit.cause) : "", "schema version 999")
      assert.deepStrictEqual(rows(), before)
      if (bytes !== undefined) assert.isTrue(readFileSync(file).equals(bytes))
    })
  )

  it.effect.runIf(testPostgres() !== undefined)(
    "names the Postgres store it cannot use, and how to fix it",
    () =>
      Effect.gen(function* () {
        const url = new URL(testPostgres() ?? "")
        url.pathname = "/no_such_database"
        const exit = yield* Effect.exit(
          Layer.build(Database.layer({ kind: "postgres", url: Redacted.make(url.toString()) })).pipe(
            Effect.scoped
          )
        )
        assert.isTrue(Exit.isFailure(exit))
        const error = Exit.isFailure(exit) ? String(exit.cause) : ""
        assert.include(error, `Cannot use the Postgres store ${url.toString()}`)
        assert.include(error, 'database "no_such_database" does not exist')
        assert.include(error, "the database exists (createdb)")
      })
  )
})
