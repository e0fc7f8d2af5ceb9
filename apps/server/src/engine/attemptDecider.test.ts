// A variant's check in the writer: recorded once per turn (a second run of the same turn's check,
// after a restart, records nothing), a later turn's replaces it; and the start command's attempt
// as the contracts check it.
import { assert, describe, it } from "@effect/vitest"
import { type Command, ThreadTurnStart } from "@spindle/contracts"
import { emptyReadModel } from "@spindle/read-model"
import * as Schema from "effect/Schema"
import { applyCommand } from "../testing/decide.ts"
import { ids } from "../testing/fixtures.ts"

const model = [
  {
    type: "project.create",
    commandId: ids.command("c1"),
    projectId: ids.project("p1"),
    workspaceRoot: "/repos/alpha"
  },
  {
    type: "thread.create",
    commandId: ids.command("c2"),
    threadId: ids.thread("t1"),
    projectId: ids.project("p1"),
    title: "v"
  }
].reduce((m, command) => applyCommand(m, command as Command), emptyReadModel)

const check = (turn: string, exitCode: number): Command => ({
  type: "thread.check.record",
  commandId: ids.command(`check-${turn}-${exitCode}`),
  threadId: ids.thread("t1"),
  check: {
    turnId: turn as never,
    command: "test -f ok.txt",
    status: exitCode === 0 ? "passed" : "failed",
    exitCode,
    durationMs: 12,
    outputTail: "",
    error: null,
    at: "2026-01-01T00:00:00.000Z"
  }
})

describe("attempts in the writer", () => {
  it("records a check once per turn, and a later turn's in its place", () => {
    const first = applyCommand(model, check("turn-1", 1))
    assert.strictEqual([...first.threads][0]![1].check?.exitCode, 1)
    const again = applyCommand(first, check("turn-1", 0))
    assert.strictEqual(again.sequence, first.sequence)
    assert.strictEqual([...again.threads][0]![1].check?.exitCode, 1)
    const next = applyCommand(again, check("turn-2", 0))
    assert.strictEqual([...next.threads][0]![1].check?.turnId, "turn-2")
  })

  it("the start command's attempt: an index past `of`, `of` outside 2..8, or a malformed id is refused", () => {
    const start = (attempt: unknown) => ({
      type: "thread.turn.start",
      commandId: "s1",
      threadId: "t-1",
      prompt: "go",
      bootstrap: { createThread: { projectId: "p1", attempt }, workspace: { mode: "new_worktree" } }
    })
    const decodes = (attempt: unknown) =>
      Schema.decodeUnknownResult(ThreadTurnStart)(start(attempt))._tag === "Success"
    assert.isTrue(decodes({ id: "a-0123ab", index: 2, of: 3, check: "npm test" }))
    assert.isFalse(decodes({ id: "a-0123ab", index: 3, of: 3, check: null }))
    assert.isFalse(decodes({ id: "a-0123ab", index: 0, of: 9, check: null }))
    assert.isFalse(decodes({ id: "a-0123ab", index: 0, of: 1, check: null }))
    assert.isFalse(decodes({ id: "attempt-1", index: 0, of: 2, check: null }))
  })
})
