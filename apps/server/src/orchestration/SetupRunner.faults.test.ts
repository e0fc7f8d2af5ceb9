// A database that refuses writes while setup runs (a full disk) leaves no thread showing a setup
// `running` with no process behind it, and `thread.setup.rerun` works without a restart.

import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { assert, describe, it } from "@effect/vitest"
import { CommandId, ProjectId, SpindleError } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import { databasePath } from "../config/ServerConfig.ts"
import { GitLayer } from "../git/GitLayer.ts"
import { type BootstrapWorld, bootstrapWorld, threadId } from "../testing/bootstrap.ts"
import { serverActor, testConfig } from "../testing/fixtures.ts"
import { setupLayer } from "../testing/setup.ts"
import { rerun, setupEnded } from "../testing/setupRunner.ts"
import { Engine } from "./Engine.ts"
import { RECORD_RETRIES, SetupRunner } from "./SetupRunner.ts"

/** A real failing write: SQLite itself aborts inserting the matching setup ends, until dropped. */
const refuseSetupEnds = (world: BootstrapWorld, when: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const db = new DatabaseSync(databasePath({ home: world.home }))
      db.exec(`CREATE TRIGGER disk_full BEFORE INSERT ON events
        WHEN NEW.type = 'thread.setup-completed' AND (${when})
        BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`)
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
    "a bootstrap whose setup end cannot be written fails, and the end lands once writes work again",
    () =>
      Effect.gen(function* () {
        const world = yield* bootstrapWorld({ setupScript: "echo ok" })
        const disk = yield* refuseSetupEnds(world, "1")
        const error = yield* Effect.flip(world.bootstrap("t1"))
        assert.strictEqual(error.reason, "internal")
        // The run is over: while its end is unknown it shows interrupted, never running.
        const stuck = (yield* world.engine.getThread(threadId("t1")))!
        assert.strictEqual(stuck.setup.status, "interrupted")
        assert.strictEqual(stuck.bootstrap.status, "failed")
        yield* disk.heal
        // No restart: the runner was still trying, and the real outcome is recorded.
        const ended = yield* setupEnded(world, "t1", 1)
        assert.strictEqual(ended.status, "succeeded")
        assert.strictEqual((yield* world.engine.getThread(threadId("t1")))!.setup.status, "succeeded")
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
        "json_extract(NEW.payload, '$.run') = 2 AND json_extract(NEW.payload, '$.status') <> 'interrupted'"
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
