import { assert, describe, it } from "@effect/vitest"
import type { ProviderReport, ThreadId, TurnId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
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
})

describe("the report recorder's pause for streaming text", () => {
  /** A recorder whose writes land in `written` (the engine's dispatch, and nothing else of it). */
  const recording = Effect.gen(function* () {
    const written: Array<string> = []
    const engine = {
      dispatch: (command: { report: ProviderReport }) =>
        Effect.sync(() => {
          const report = command.report
          written.push(report.type === "turn-item" ? `${report.phase} ${report.item.text}` : report.type)
        })
    } as unknown as Engine["Service"]
    const recorder = yield* makeReportRecorder(engine, "t1" as ThreadId, () => "s1")
    return { recorder, written }
  })

  it.effect("text waits a moment to gather more; the turn's end does not wait behind it", () =>
    Effect.gen(function* () {
      const { recorder, written } = yield* recording
      yield* recorder.record(delta("a", "he"))
      yield* TestClock.adjust("1 millis")
      assert.deepStrictEqual(written, ["updated he"])
      // The clock stands still: more text waits for the pause to end…
      yield* recorder.record(delta("a", "llo"))
      yield* TestClock.adjust("1 millis")
      assert.deepStrictEqual(written, ["updated he"])
      // …and the turn's end ends the pause, recorded after the text that came before it.
      yield* recorder.record({ type: "turn-ended", turnId: turn, status: "completed", reason: null })
      yield* TestClock.adjust("1 millis")
      assert.deepStrictEqual(written, ["updated he", "updated llo", "turn-ended"])
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
      assert.deepStrictEqual(written, ["updated he"])
      yield* TestClock.adjust("100 millis")
      assert.deepStrictEqual(written, ["updated he", "updated llo"])
    })
  )
})
