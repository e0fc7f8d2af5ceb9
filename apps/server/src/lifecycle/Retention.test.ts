import { existsSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { ThreadId } from "@spindle/contracts"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/testing/TestClock"
import { bootstrapWorld } from "../testing/bootstrap.ts"
import { serverActor } from "../testing/fixtures.ts"

const DAY = 86_400_000

/** Runs `effect` with the clock standing at `ms` (a test clock of its own; nothing else moves). */
const at =
  (ms: number) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.andThen(TestClock.setTime(ms), effect).pipe(Effect.provide(TestClock.layer()))

describe("the retention policy", () => {
  it.live(
    "removes an archived thread's kept worktree once it is clean and old enough, never dirty work",
    () =>
      Effect.gen(function* () {
        const world = yield* bootstrapWorld({
          project: { retention: { removeArchivedAfterDays: 7, flagIdleAfterDays: null } }
        })
        const send = (command: Record<string, unknown>) =>
          world.commands.dispatch(
            { commandId: `c-${Math.random().toString(16).slice(2)}`, ...command },
            serverActor
          )
        const later = (yield* world.bootstrap("later", { runSetupScript: false })).worktreePath
        const dirty = (yield* world.bootstrap("dirty", { runSetupScript: false })).worktreePath
        for (const [path, id] of [
          [later, "later"],
          [dirty, "dirty"]
        ] as const) {
          writeFileSync(join(path, "wip.txt"), "not yet\n")
          yield* send({ type: "thread.archive", threadId: id })
        }
        // The user cleaned one up after archiving it.
        rmSync(join(later, "wip.txt"))
        const now = yield* Clock.currentTimeMillis

        const early = yield* at(now + 6 * DAY)(world.retention.sweep)
        assert.deepStrictEqual(early.removed, [])
        assert.isTrue(existsSync(later))

        const due = yield* at(now + 8 * DAY)(world.retention.sweep)
        assert.deepStrictEqual(due.removed, ["later" as ThreadId])
        assert.isFalse(existsSync(later))
        assert.isTrue(existsSync(join(dirty, "wip.txt")))
        const kept = (yield* world.engine.getThread("dirty" as ThreadId))!
        assert.strictEqual(kept.cleanup?.outcome, "kept")
        // Looked at again and still dirty: nothing new is recorded.
        const sequence = (yield* world.engine.readModel).sequence
        yield* at(now + 9 * DAY)(world.retention.sweep)
        assert.strictEqual((yield* world.engine.readModel).sequence, sequence)
      })
  )

  it.live("flags a thread idle past its project's limit, and any activity clears the flag", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld({
        project: { retention: { removeArchivedAfterDays: null, flagIdleAfterDays: 14 } }
      })
      yield* world.bootstrap("t1", { runSetupScript: false })
      const now = yield* Clock.currentTimeMillis
      const lastActive = (yield* world.engine.getThread("t1" as ThreadId))!.updatedAt
      assert.deepStrictEqual((yield* at(now + 13 * DAY)(world.retention.sweep)).flagged, [])
      assert.deepStrictEqual((yield* at(now + 15 * DAY)(world.retention.sweep)).flagged, ["t1" as ThreadId])
      const flagged = (yield* world.engine.getThread("t1" as ThreadId))!
      assert.strictEqual(flagged.idleSince, lastActive)
      // Flagged once, not on every pass.
      assert.deepStrictEqual((yield* at(now + 16 * DAY)(world.retention.sweep)).flagged, [])
      yield* world.commands.dispatch(
        { type: "thread.turn.interrupt", commandId: "stop-it", threadId: "t1" },
        serverActor
      )
      assert.isNull((yield* world.engine.getThread("t1" as ThreadId))!.idleSince)
    })
  )
})
