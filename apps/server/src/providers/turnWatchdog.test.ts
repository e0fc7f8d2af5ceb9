// The turn watchdog on the test clock, its reports folded by the real decider and projector: quiet
// turns are marked stalled, then stopped with the reason; progress (not notices) restarts the
// clock; a turn waiting for an approval or already ended is left alone.
import { assert, describe, it } from "@effect/vitest"
import type { Command, ProviderReport, Thread, ThreadId } from "@spindle/contracts"
import { emptyReadModel, type ReadModel, turnStateOf } from "@spindle/read-model"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import { TestClock } from "effect/testing"
import { applyCommand } from "../testing/decide.ts"
import { ids } from "../testing/fixtures.ts"
import { formatQuiet, makeTurnWatchdog } from "./turnWatchdog.ts"

const threadId = ids.thread("t1")
const turnId = ids.turn("u1")

/** A thread whose turn u1 runs, the watchdog's reports and stops applied to it as the server would. */
const world = Effect.gen(function* () {
  let n = 0
  const cmd = () => ids.command(`c${++n}`)
  let model: ReadModel = [
    { type: "project.create", commandId: cmd(), projectId: ids.project("p1"), workspaceRoot: "/repos/alpha" },
    { type: "thread.create", commandId: cmd(), threadId, projectId: ids.project("p1"), title: "T" },
    { type: "thread.turn.start", commandId: cmd(), threadId, prompt: "go", turnId }
  ].reduce((m, c) => applyCommand(m, c as Command), emptyReadModel)
  const apply = (report: ProviderReport) => {
    model = applyCommand(model, { type: "thread.provider.record", commandId: cmd(), threadId, report })
  }
  apply({ type: "turn-started", turnId })
  const thread = () => (HashMap.get(model.threads, threadId) as unknown as { value: Thread }).value
  const reported: Array<ProviderReport> = []
  const stops: Array<string> = []
  const watchdog = yield* makeTurnWatchdog(
    { stallAfterMs: 5 * 60_000, interruptAfterMs: 30 * 60_000 },
    {
      thread: () => Effect.sync(thread),
      report: (_id, report) =>
        Effect.sync(() => {
          reported.push(report)
          apply(report)
        }),
      stop: (_id, why) =>
        Effect.sync(() => {
          stops.push(why)
          apply({ type: "turn-ended", turnId, status: "interrupted", reason: why })
        }),
      endTurn: () => Effect.die("the session was there to stop")
    }
  )
  /** What the session reports goes to the watchdog, then into the log, as ProviderService does it. */
  const session = (report: ProviderReport) =>
    Effect.andThen(
      watchdog.observe(threadId as ThreadId, report),
      Effect.sync(() => apply(report))
    )
  yield* watchdog.watch(threadId, turnId)
  return { watchdog, session, thread, reported, stops, apply }
})

const progress: ProviderReport = {
  type: "turn-item",
  turnId,
  phase: "updated",
  item: { id: "m1", kind: "agent-message", text: "…" }
}
const retrying: ProviderReport = {
  type: "agent-noticed",
  notice: {
    turnId,
    level: "error",
    source: "codex",
    message: "Reconnecting... waiting for network",
    willRetry: true,
    count: 1
  }
}

describe("the turn watchdog", () => {
  it.effect(
    "a turn quiet for the stall timeout is stalled (notices are not progress), progress clears it, and the interrupt timeout stops it with the reason",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const w = yield* world
          yield* TestClock.adjust("4 minutes")
          yield* w.session(progress)
          yield* TestClock.adjust("4 minutes")
          assert.strictEqual(turnStateOf(w.thread()), "running", "4 minutes quiet is not a stall")
          // Codex retrying an unreachable model keeps talking, but makes no progress.
          yield* w.session(retrying)
          yield* TestClock.adjust("70 seconds")
          assert.strictEqual(turnStateOf(w.thread()), "stalled")
          assert.deepStrictEqual(w.reported.at(-1), {
            type: "turn-stalled",
            turnId,
            since: new Date(4 * 60_000).toISOString()
          })
          yield* w.session(progress)
          assert.strictEqual(turnStateOf(w.thread()), "running", "progress clears it")
          yield* TestClock.adjust("6 minutes")
          assert.strictEqual(turnStateOf(w.thread()), "stalled", "and it can stall again")
          assert.strictEqual(w.stops.length, 0)
          yield* TestClock.adjust("25 minutes")
          assert.strictEqual(w.stops.length, 1)
          assert.match(w.stops[0]!, /^The turn stalled: the agent showed no progress for 30m/)
          assert.include(w.stops[0]!, "The agent last reported: Reconnecting... waiting for network")
          assert.strictEqual(turnStateOf(w.thread()), "interrupted")
          assert.strictEqual(w.thread().latestTurn?.reason, w.stops[0])
          yield* TestClock.adjust("1 hour")
          assert.strictEqual(w.stops.length, 1, "stopped once")
        })
      )
  )

  it.effect("a turn waiting for a person's approval is never stalled; one that ended is forgotten", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const w = yield* world
        yield* w.session({
          type: "approval-requested",
          approval: {
            requestId: "r1",
            turnId,
            kind: "command",
            command: "ls",
            cwd: null,
            reason: null,
            requestedAt: "2026-01-01T00:00:00.000Z"
          }
        })
        yield* TestClock.adjust("2 hours")
        assert.strictEqual(turnStateOf(w.thread()), "running")
        assert.deepStrictEqual(w.stops, [])
        yield* w.session({ type: "turn-ended", turnId, status: "completed", reason: null })
        yield* TestClock.adjust("2 hours")
        assert.deepStrictEqual(
          w.reported.filter((r) => r.type === "turn-stalled"),
          []
        )
        assert.deepStrictEqual(w.stops, [])
      })
    )
  )

  it("a stall's length reads as people say it", () => {
    assert.deepStrictEqual([45_000, 300_000, 330_000, 1_800_000, 5_400_000].map(formatQuiet), [
      "45s",
      "5m",
      "5m 30s",
      "30m",
      "1h 30m"
    ])
  })
})
