import { assert, describe, it } from "@effect/vitest"
import type { ProviderReport, ThreadId, TurnId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as TestClock from "effect/testing/TestClock"
import type { Engine } from "../engine/Engine.ts"
import { coalesce, makeReportRecorder } from "./reportRecorder.ts"

const turn = "u1" as TurnId
const delta = (id: string, text: string): ProviderReport => ({
  type: "turn-item",
  turnId: turn,
  phase: "updated",
  item: { id, kind: "agent-message", text }
})

describe("report coalescing", () => {
  it("merges runs of updates of one item, in order, and keeps everything else as it came", () => {
    const started: ProviderReport = { type: "turn-started", turnId: turn }
    assert.deepStrictEqual(
      coalesce([started, delta("a", "he"), delta("a", "llo"), delta("b", "x"), delta("a", "!")]),
      [started, delta("a", "hello"), delta("b", "x"), delta("a", "!")]
    )
  })

  it("a message or reasoning done in the batch stands alone; a command keeps its start", () => {
    const item = (
      id: string,
      kind: "agent-message" | "reasoning" | "command",
      phase: "started" | "completed"
    ) => ({ type: "turn-item", turnId: turn, phase, item: { id, kind, text: "whole" } }) as ProviderReport
    assert.deepStrictEqual(
      coalesce([
        item("a", "agent-message", "started"),
        delta("a", "he"),
        item("r", "reasoning", "started"),
        item("c", "command", "started"),
        item("r", "reasoning", "completed"),
        item("a", "agent-message", "completed"),
        item("b", "agent-message", "started")
      ]),
      [
        item("c", "command", "started"),
        item("r", "reasoning", "completed"),
        item("a", "agent-message", "completed"),
        item("b", "agent-message", "started")
      ]
    )
  })
})

describe("the report recorder's pause for streaming text", () => {
  /** A recorder whose writes land in `written` (the engine's dispatch, and nothing else of it). */
  const recording = Effect.gen(function* () {
    const written: Array<string> = []
    const engine = {
      dispatchAll: (commands: ReadonlyArray<{ report: ProviderReport }>) =>
        Effect.sync(() =>
          commands.map(({ report }) => {
            written.push(report.type === "turn-item" ? `${report.phase} ${report.item.text}` : report.type)
            return Result.succeed({ sequence: written.length })
          })
        )
    } as unknown as Engine["Service"]
    const recorder = yield* makeReportRecorder(engine, "t1" as ThreadId, () => "s1")
    return { recorder, written }
  })

  it.effect("text waits a moment to gather more; the turn's end does not wait behind it", () =>
    Effect.gen(function* () {
      const { recorder, written } = yield* recording
      yield* recorder.record(delta("a", "he"))
      yield* TestClock.adjust("1 millis")
      // The clock stands still: the text waits for the pause to end…
      assert.deepStrictEqual(written, [])
      yield* recorder.record(delta("a", "llo"))
      yield* TestClock.adjust("1 millis")
      assert.deepStrictEqual(written, [])
      // …and the turn's end ends the pause, recorded after the text that came before it.
      yield* recorder.record({ type: "turn-ended", turnId: turn, status: "completed", reason: null })
      yield* TestClock.adjust("1 millis")
      assert.deepStrictEqual(written, ["updated hello", "turn-ended"])
    })
  )

  it.effect("text alone is recorded once the pause is over, coalesced", () =>
    Effect.gen(function* () {
      const { recorder, written } = yield* recording
      yield* recorder.record(delta("a", "he"))
      yield* TestClock.adjust("1 millis")
      yield* recorder.record(delta("a", "l"))
      yield* recorder.record(delta("a", "lo"))
      yield* TestClock.adjust("100 millis")
      assert.deepStrictEqual(written, [])
      yield* TestClock.adjust("100 millis")
      assert.deepStrictEqual(written, ["updated hello"])
      // The next text waits again.
      yield* recorder.record(delta("a", "!"))
      yield* TestClock.adjust("1 millis")
      assert.deepStrictEqual(written, ["updated hello"])
      yield* TestClock.adjust("200 millis")
      assert.deepStrictEqual(written, ["updated hello", "updated !"])
    })
  )

  it.effect(
    "a short message that ends within the pause is recorded once, done; a command's start at once",
    () =>
      Effect.gen(function* () {
        const { recorder, written } = yield* recording
        yield* recorder.record({
          type: "turn-item",
          turnId: turn,
          phase: "started",
          item: { id: "c", kind: "command" }
        })
        yield* TestClock.adjust("1 millis")
        assert.deepStrictEqual(written, ["started undefined"])
        yield* recorder.record({
          type: "turn-item",
          turnId: turn,
          phase: "started",
          item: { id: "a", kind: "agent-message", text: "" }
        })
        yield* recorder.record(delta("a", "hi"))
        yield* TestClock.adjust("1 millis")
        assert.deepStrictEqual(written, ["started undefined"])
        yield* recorder.record({
          type: "turn-item",
          turnId: turn,
          phase: "completed",
          item: { id: "a", kind: "agent-message", text: "hi there" }
        })
        yield* TestClock.adjust("1 millis")
        assert.deepStrictEqual(written, ["started undefined", "completed hi there"])
      })
  )
})
