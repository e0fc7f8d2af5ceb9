import { assert, describe, it } from "@effect/vitest"
import type { ProviderReport, TurnId } from "@spindle/contracts"
import { coalesce } from "./reportRecorder.ts"

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
