// A store that fails otherwise than by being full (an I/O error, a table gone): the bootstrap stops
// at its stage with an `internal` SpindleError naming what could not be stored, not a defect, and
// rolls back; a start whose recovery cannot read its journal fails with the same kind of error.
import { DatabaseSync } from "node:sqlite"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { databasePath } from "../config/ServerConfig.ts"
import { bootstrapWorld, threadId } from "../testing/bootstrap.ts"
import { inProcessServer } from "../testing/inProcessServer.ts"

const onStore = (home: string, sql: string) =>
  Effect.sync(() => {
    const db = new DatabaseSync(databasePath({ home }))
    db.exec(sql)
    db.close()
  })

describe("a failing store", () => {
  it.live(
    "stops a bootstrap at its stage with an internal error that names the step, and rolls it back",
    () =>
      Effect.gen(function* () {
        const world = yield* bootstrapWorld()
        yield* onStore(
          world.home,
          `CREATE TRIGGER broken BEFORE UPDATE ON bootstrap_operations
           BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END`
        )
        const error = yield* Effect.flip(world.bootstrap("t1"))
        assert.strictEqual(error.reason, "internal")
        assert.include(error.message, "Recording bootstrap start-t1's creating-worktree step failed")
        assert.include(error.message, "disk I/O error")
        assert.notInclude(error.message, "unexpectedly")
        // The thread it had created is marked failed at the workspace stage; no worktree was made.
        const thread = yield* world.engine.getThread(threadId("t1")).pipe(
          Effect.repeat({
            until: (t) => t?.bootstrap.status === "failed",
            schedule: Schedule.spaced("20 millis")
          }),
          Effect.timeout("10 seconds")
        )
        assert.strictEqual(thread?.bootstrap.stage, "workspace")
        assert.isNull(thread?.workspace.worktreePath)
      })
  )

  it.live("fails a start whose recovery cannot read the bootstrap journal, saying so", () =>
    Effect.gen(function* () {
      const first = yield* bootstrapWorld()
      yield* onStore(first.home, "DROP TABLE bootstrap_operations")
      const server = yield* inProcessServer({ home: first.home }, { waitReady: false })
      const state = yield* server.gate.state.pipe(
        Effect.repeat({ until: (s) => s.status !== "starting", schedule: Schedule.spaced("20 millis") }),
        Effect.timeout("10 seconds")
      )
      assert.strictEqual(state.status, "failed")
      const failure = state.status === "failed" ? state.error : undefined
      assert.strictEqual(failure?.reason, "internal")
      assert.include(failure?.message, "Recovery (stage recover) reading the bootstrap journal failed")
      assert.include(failure?.message, "no such table")
    })
  )
})
