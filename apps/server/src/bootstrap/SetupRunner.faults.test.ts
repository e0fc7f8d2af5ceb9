// A database that refuses writes while setup runs: a full one holds the bootstrap until it takes
// writes again, then the bootstrap completes with its first turn requested once; one that fails
// otherwise leaves no thread showing a setup `running` with no process behind it, and
// `thread.setup.rerun` works without a restart.

import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { assert, describe, it } from "@effect/vitest"
import { CommandId, ProjectId, SpindleError } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { databasePath } from "../config/ServerConfig.ts"
import { Engine } from "../engine/Engine.ts"
import { GitLayer } from "../git/GitLayer.ts"
import { type BootstrapWorld, bootstrapWorld, threadId } from "../testing/bootstrap.ts"
import { serverActor, testConfig } from "../testing/fixtures.ts"
import { setupLayer } from "../testing/setup.ts"
import { rerun, setupEnded } from "../testing/setupRunner.ts"
import { RECORD_RETRIES, SetupRunner } from "./SetupRunner.ts"

/** A real failing write: SQLite itself aborts inserting the matching setup ends, until dropped. */
const refuseSetupEnds = (world: BootstrapWorld, when: string, error = "database or disk is full") =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const db = new DatabaseSync(databasePath({ home: world.home }))
      db.exec(`CREATE TRIGGER disk_full BEFORE INSERT ON events
        WHEN NEW.type = 'thread.setup-completed' AND (${when})
        BEGIN SELECT RAISE(ABORT, '${error}'); END`)
      return db
    }),
    (db) => Effect.sync(() => db.close())
  ).pipe(Effect.map((db) => ({ heal: Effect.sync(() => db.exec("DROP TRIGGER IF EXISTS disk_full")) })))

/** A SetupRunner over the world's engine, whose first `failures` setup ends fail like a refused write. */
const flakyRunner = (world: BootstrapWorld, failures: number) =>
  Effect.gen(function* () {
    let attempts = 0
    const engine = Engine.of({
      ...world.engine,
      // Each retry runs the effect again, so the count is taken when it runs.
      dispatch: (command, actor) =>
        Effect.suspend(() => {
          if (command.type !== "thread.setup.finish") return world.engine.dispatch(command, actor)
          attempts++
          return attempts <= failures
            ? Effect.fail(
                new SpindleError({
                  reason: "internal",
                  message:
                    "The database failed (database or disk is full). Nothing was applied; retry the same command."
                })
              )
            : world.engine.dispatch(command, actor)
        })
    })
    const context = yield* Layer.build(
      SetupRunner.layer.pipe(
        Layer.provide(Layer.succeed(Engine, engine)),
        Layer.provide(setupLayer(join(world.home, "logs"))),
        Layer.provide(GitLayer.pipe(Layer.provide(testConfig(world.home)), Layer.provide(NodeServices.layer)))
      )
    )
    return { runner: Context.get(context, SetupRunner), attempts: () => attempts }
  })

describe("SetupRunner under a failing database", () => {
  it.live("a finish refused a few times is retried and recorded before the run answers", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld({ setupScript: "echo ok" })
      const { worktreePath, branch } = yield* world.bootstrap("t1")
      yield* setupEnded(world, "t1", 1)
      const project = (yield* world.engine.getProject(ProjectId.make("p1")))!
      const { runner, attempts } = yield* flakyRunner(world, RECORD_RETRIES)
      const outcome = yield* runner.runAndRecord({
        threadId: threadId("t1"),
        project,
        worktreePath,
        branch,
        commandId: CommandId.make("again"),
        actor: serverActor
      })
      assert.strictEqual(outcome.status, "succeeded")
      assert.strictEqual(attempts(), RECORD_RETRIES + 1)
      const thread = (yield* world.engine.getThread(threadId("t1")))!
      assert.strictEqual(thread.setup.status, "succeeded")
      assert.strictEqual(thread.setup.runs, 2)
    })
  )

  it.live(
    "a bootstrap whose setup end meets a full store waits for it, then completes and requests its turn once",
    () =>
      Effect.gen(function* () {
        const world = yield* bootstrapWorld({ setupScript: "echo ok" })
        const disk = yield* refuseSetupEnds(world, "1")
        const bootstrap = yield* Effect.forkChild(world.bootstrap("t1"))
        // The script ended; its end cannot be written: the bootstrap waits, it neither fails nor guesses.
        yield* world.engine.getThread(threadId("t1")).pipe(
          Effect.repeat({
            until: (t) => t?.setup.status === "running",
            schedule: Schedule.spaced("50 millis")
          }),
          Effect.timeout("20 seconds")
        )
        yield* Effect.sleep("1500 millis")
        const waiting = (yield* world.engine.getThread(threadId("t1")))!
        assert.strictEqual(waiting.bootstrap.status, "running")
        assert.isNull(waiting.latestTurn)
        yield* disk.heal
        // No restart: once the store takes writes, the bootstrap goes on to its end.
        const result = yield* Fiber.join(bootstrap).pipe(Effect.timeout("20 seconds"))
        assert.strictEqual(result.setup.status, "succeeded")
        assert.strictEqual(result.turn.status, "requested")
        const thread = (yield* world.engine.getThread(threadId("t1")))!
        assert.strictEqual(thread.bootstrap.status, "completed")
        assert.strictEqual(thread.setup.status, "succeeded")
        assert.strictEqual(thread.latestTurn?.status, "requested")
        const events = yield* world.engine.events(0).pipe(
          Stream.take((yield* world.engine.readModel).sequence),
          Stream.filter((e) => e.type === "thread.turn-start-requested" && e.payload.threadId === "t1"),
          Stream.runCollect
        )
        assert.strictEqual(Array.from(events).length, 1, "the first prompt is requested exactly once")
      })
  )

  it.live("a rerun settles a run left `running` with no process as interrupted, then runs again", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld({ setupScript: "echo ok" })
      yield* world.bootstrap("t1")
      yield* setupEnded(world, "t1", 1)
      // Run 2's real end can never be written; anything else can.
      yield* refuseSetupEnds(
        world,
        "json_extract(NEW.payload, '$.run') = 2 AND json_extract(NEW.payload, '$.status') <> 'interrupted'",
        "disk I/O error"
      )
      yield* rerun(world, "t1", "rerun-1")
      const thread = (yield* world.engine.getThread(threadId("t1")))!
      assert.strictEqual(thread.setup.runs, 2)
      assert.strictEqual(thread.setup.status, "running")
      // Reruns join run 2 while it is live; once the runner gave up on recording it, one settles it.
      let n = 0
      yield* Effect.suspend(() => rerun(world, "t1", `rerun-again-${++n}`)).pipe(
        Effect.andThen(world.engine.getThread(threadId("t1"))),
        Effect.repeat({ until: (t) => t!.setup.runs === 3, schedule: Schedule.spaced("50 millis") }),
        Effect.timeout("20 seconds")
      )
      const settled = yield* setupEnded(world, "t1", 2)
      assert.strictEqual(settled.status, "interrupted")
      assert.include(settled.logTail, "could not be recorded")
      const third = yield* setupEnded(world, "t1", 3)
      assert.strictEqual(third.status, "succeeded")
      assert.strictEqual((yield* world.engine.getThread(threadId("t1")))!.setup.status, "succeeded")
    })
  )
})
