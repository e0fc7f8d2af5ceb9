// The agent's trouble in the read model, decided and folded without the engine: notices (repeats
// counted, the list bounded) and a stalled turn (set by the watchdog's report, cleared by progress).
import { assert, describe, it } from "@effect/vitest"
import {
  type AgentNoticeReport,
  type Command,
  MAX_AGENT_NOTICES,
  type ProviderReport,
  type Thread
} from "@spindle/contracts"
import { emptyReadModel, type ReadModel, turnStateOf } from "@spindle/read-model"
import * as HashMap from "effect/HashMap"
import { threadState } from "../cli/threadView.ts"
import { applyCommand, NOW, refusalOf } from "../testing/decide.ts"
import { ids } from "../testing/fixtures.ts"

const threadId = ids.thread("t1")
let n = 0
const cmd = () => ids.command(`c${++n}`)
const turn = ids.turn

const base = (): ReadModel =>
  [
    { type: "project.create", commandId: cmd(), projectId: ids.project("p1"), workspaceRoot: "/repos/alpha" },
    { type: "thread.create", commandId: cmd(), threadId, projectId: ids.project("p1"), title: "T" }
  ].reduce((m, c) => applyCommand(m, c as Command), emptyReadModel)

const thread = (model: ReadModel): Thread =>
  HashMap.get(model.threads, threadId).pipe((o) => (o as { value: Thread }).value)
const recordCommand = (r: ProviderReport): Command => ({
  type: "thread.provider.record",
  commandId: cmd(),
  threadId,
  report: r
})
const report = (model: ReadModel, r: ProviderReport) => applyCommand(model, recordCommand(r))

/** A thread whose turn u1 is running. */
const running = () => {
  const requested = applyCommand(base(), {
    type: "thread.turn.start",
    commandId: cmd(),
    threadId,
    prompt: "go",
    turnId: turn("u1")
  })
  return report(requested, { type: "turn-started", turnId: turn("u1") })
}

const notice = (fields: Partial<AgentNoticeReport> = {}): ProviderReport => ({
  type: "agent-noticed",
  notice: {
    turnId: turn("u1"),
    level: "error",
    source: "codex",
    message: "Reconnecting... waiting for network",
    willRetry: true,
    count: 1,
    ...fields
  }
})

describe("agent notices on the thread", () => {
  it("repeats of one notice are one entry with their counts summed (numbers aside); others are their own", () => {
    let model = report(running(), notice())
    model = report(model, notice({ count: 3 }))
    model = report(
      model,
      notice({
        turnId: null,
        level: "warning",
        source: "mcp:docs",
        message: "MCP server 'docs' failed to start.",
        count: 1
      })
    )
    model = report(model, notice({ message: "Reconnecting... 2/5", count: 1 }))
    model = report(model, notice({ message: "Reconnecting... 3/5", count: 2 }))
    const notices = thread(model).agentNotices
    assert.deepStrictEqual(
      notices.map((n) => [n.source, n.message, n.count]),
      [
        ["codex", "Reconnecting... waiting for network", 4],
        ["mcp:docs", "MCP server 'docs' failed to start.", 1],
        ["codex", "Reconnecting... 3/5", 3]
      ]
    )
    assert.strictEqual(notices[0]?.willRetry, true)
    assert.strictEqual(notices[0]?.firstAt, NOW)
    assert.strictEqual(notices[1]?.turnId, null)
  })

  it("the thread keeps only the latest notices, the most recently repeated last", () => {
    let model = running()
    for (let i = 0; i < MAX_AGENT_NOTICES + 5; i++)
      model = report(model, notice({ message: `warning ${"x".repeat(i)}` }))
    model = report(model, notice({ message: `warning ${"x".repeat(10)}` }))
    const notices = thread(model).agentNotices
    assert.strictEqual(notices.length, MAX_AGENT_NOTICES)
    assert.strictEqual(notices.at(-1)?.message, `warning ${"x".repeat(10)}`)
    assert.strictEqual(notices.at(-1)?.count, 2)
    assert.isFalse(
      notices.some((n) => n.message === "warning "),
      "the oldest went"
    )
  })

  it("a session notice is always kept; a turn's only while that turn is the latest", () => {
    const model = running()
    const session = report(model, notice({ turnId: null }))
    assert.strictEqual(thread(session).agentNotices.length, 1)
    const stale = refusalOf(model, recordCommand(notice({ turnId: turn("old") })))
    assert.strictEqual(stale.reason, "conflict")
  })
})

describe("a stalled turn", () => {
  const stalled = (model: ReadModel) =>
    report(model, { type: "turn-stalled", turnId: turn("u1"), since: "2026-01-01T00:00:00.000Z" })

  it("is shown stalled (thread list state too) until the agent makes progress", () => {
    const model = stalled(running())
    assert.strictEqual(thread(model).latestTurn?.stalledSince, "2026-01-01T00:00:00.000Z")
    assert.strictEqual(thread(model).latestTurn?.status, "running", "still running: it can be interrupted")
    assert.strictEqual(turnStateOf(thread(model)), "stalled")
    assert.strictEqual(threadState(thread(model)), "stalled")
    // A notice (Codex retrying) is not progress.
    const retried = report(model, notice())
    assert.strictEqual(turnStateOf(thread(retried)), "stalled")
    const progressed = report(retried, {
      type: "turn-item",
      turnId: turn("u1"),
      phase: "updated",
      item: { id: "m1", kind: "agent-message", text: "back" }
    })
    assert.strictEqual(thread(progressed).latestTurn?.stalledSince, null)
    assert.strictEqual(turnStateOf(thread(progressed)), "running")
  })

  it("token usage, an approval request and the turn's end clear it too", () => {
    const usage = {
      inputTokens: 1,
      cachedInputTokens: 0,
      outputTokens: 1,
      reasoningOutputTokens: 0,
      totalTokens: 2
    }
    const afterUsage = report(stalled(running()), { type: "turn-usage", turnId: turn("u1"), usage })
    assert.strictEqual(turnStateOf(thread(afterUsage)), "running")
    const afterApproval = report(stalled(running()), {
      type: "approval-requested",
      approval: {
        requestId: "r1",
        turnId: turn("u1"),
        kind: "command",
        command: "ls",
        cwd: null,
        reason: null,
        requestedAt: NOW
      }
    })
    assert.strictEqual(turnStateOf(thread(afterApproval)), "running")
    const ended = report(stalled(running()), {
      type: "turn-ended",
      turnId: turn("u1"),
      status: "interrupted",
      reason: "The turn stalled"
    })
    assert.strictEqual(thread(ended).latestTurn?.stalledSince, null)
    assert.strictEqual(turnStateOf(thread(ended)), "interrupted")
  })

  it("is refused for a turn already stalled, not running, or not the latest", () => {
    const once = stalled(running())
    assert.strictEqual(
      refusalOf(once, recordCommand({ type: "turn-stalled", turnId: turn("u1"), since: NOW })).reason,
      "conflict"
    )
    assert.strictEqual(
      refusalOf(running(), recordCommand({ type: "turn-stalled", turnId: turn("other"), since: NOW })).reason,
      "conflict"
    )
    assert.strictEqual(
      refusalOf(base(), recordCommand({ type: "turn-stalled", turnId: turn("u1"), since: NOW })).reason,
      "conflict"
    )
  })
})
