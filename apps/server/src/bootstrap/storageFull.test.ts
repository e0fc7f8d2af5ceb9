// A store that takes no write at all (a full disk) while a bootstrap runs its setup: a person's
// command is refused at once with `storage-full` and the fix, the bootstrap waits, and once the
// store takes writes again it completes on its own (no restart), its first turn requested once;
// setup rerun and archive then work. The writes fail in SQLite itself, by trigger.
import { DatabaseSync } from "node:sqlite"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import { databasePath } from "../config/ServerConfig.ts"
import { bootstrapWorld, threadId } from "../testing/bootstrap.ts"
import { serverActor } from "../testing/fixtures.ts"
import { setupEnded } from "../testing/setupRunner.ts"

const TABLES = [
  "events",
  "command_receipts",
  "projection_threads",
  "projection_state",
  "bootstrap_operations"
]

/** Every insert and update of the store refused as SQLite refuses them on a full disk, until healed. */
const fullStore = (home: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const db = new DatabaseSync(databasePath({ home }))
      for (const table of TABLES)
        for (const op of ["INSERT", "UPDATE"])
          db.exec(`CREATE TRIGGER full_${op}_${table} BEFORE ${op} ON ${table}
            BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`)
      return db
    }),
    (db) => Effect.sync(() => db.close())
  ).pipe(
    Effect.map((db) => ({
      heal: Effect.sync(() => {
        for (const table of TABLES)
          for (const op of ["INSERT", "UPDATE"]) db.exec(`DROP TRIGGER IF EXISTS full_${op}_${table}`)
      })
    }))
  )

describe("a full store", () => {
  it.live("refuses commands with the fix, holds the bootstrap, and lets it finish once writes work", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld({ setupScript: "sleep 1; echo ok" })
      const bootstrap = yield* Effect.forkChild(world.bootstrap("t1"))
      yield* world.engine.getThread(threadId("t1")).pipe(
        Effect.repeat({
          until: (t) => t?.setup.status === "running",
          schedule: Schedule.spaced("20 millis")
        }),
        Effect.timeout("20 seconds")
      )
      const disk = yield* fullStore(world.home)

      const refused = yield* Effect.flip(
        world.commands.dispatch(
          { type: "project.update", commandId: "rename", projectId: "p1", title: "renamed" } as never,
          serverActor
        )
      )
      assert.strictEqual(refused.reason, "storage-full")
      assert.include(refused.message, "free disk space")

      yield* Effect.sleep("2500 millis")
      const held = (yield* world.engine.getThread(threadId("t1")))!
      assert.strictEqual(held.bootstrap.status, "running")
      assert.isNull(held.latestTurn)

      yield* disk.heal
      const result = yield* Fiber.join(bootstrap).pipe(Effect.timeout("20 seconds"))
      assert.strictEqual(result.turn.status, "requested")
      const types = yield* world.eventTypes("t1")
      assert.strictEqual(types.filter((t) => t === "thread.turn-start-requested").length, 1)
      assert.strictEqual((yield* world.engine.getThread(threadId("t1")))!.bootstrap.status, "completed")

      // Without a restart: setup reruns and the thread archives.
      yield* world.commands.dispatch(
        { type: "thread.setup.rerun", commandId: "rerun", threadId: "t1" } as never,
        serverActor
      )
      const rerun = yield* setupEnded(world, "t1", 2)
      assert.strictEqual(rerun.status, "succeeded")
      yield* world.commands.dispatch(
        { type: "thread.archive", commandId: "archive", threadId: "t1" } as never,
        serverActor
      )
      assert.strictEqual((yield* world.engine.getThread(threadId("t1")))!.status, "archived")
    })
  )
})
