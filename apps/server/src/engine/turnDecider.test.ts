import { assert, describe, it } from "@effect/vitest"
import type { Command, ProviderReport, Thread } from "@spindle/contracts"
import { emptyReadModel, type ReadModel, turnStateOf } from "@spindle/read-model"
import * as HashMap from "effect/HashMap"
import * as Result from "effect/Result"
import { DEFAULT_LIMITS } from "../config/ServerConfig.ts"
import { applyCommand, NOW, refusalOf } from "../testing/decide.ts"
import { ids } from "../testing/fixtures.ts"
import { decideWake } from "./turnDecider.ts"

const threadId = ids.thread("t1")
let n = 0
const cmd = () => ids.command(`c${++n}`)

const base = (provider: "codex" | "command"): ReadModel =>
  [
    {
      type: "project.create",
      commandId: cmd(),
      projectId: ids.project("p1"),
      workspaceRoot: "/repos/alpha"
    },
    { type: "thread.create", commandId: cmd(), threadId, projectId: ids.project("p1"), title: "T", provider }
  ].reduce((m, c) => applyCommand(m, c as Command), emptyReadModel)

const thread = (model: ReadModel): Thread =>
  HashMap.get(model.threads, threadId).pipe((o) => (o as { value: Thread }).value)
const report = (model: ReadModel, r: ProviderReport) =>
  applyCommand(model, { type: "thread.provider.record", commandId: cmd(), threadId, report: r })
const start = (_model: ReadModel, prompt = "go", turnId?: string): Command => ({
  type: "thread.turn.start",
  commandId: cmd(),
  threadId,
  prompt,
  ...(turnId === undefined ? {} : { turnId: ids.turn(turnId) })
})
const turn = ids.turn

/** A thread whose turn u1 is running. */
const running = (provider: "codex" | "command") => {
  const requested = applyCommand(base(provider), start(base(provider), "first", "u1"))
  return report(requested, { type: "turn-started", turnId: turn("u1") })
}

describe("turn decisions", () => {
  it("a provider's warning is recorded on the thread once, however many sessions report it", () => {
    let model = base("codex")
    for (let session = 0; session < 3; session++) {
      model = report(model, { type: "warning", warning: "no plan mode here" })
    }
    assert.deepStrictEqual(thread(model).warnings, ["no plan mode here"])
  })

  it("a turn moves requested -> running -> completed, keeping the last agent message and usage", () => {
    const requested = applyCommand(base("codex"), start(base("codex"), "first", "u1"))
    assert.strictEqual(turnStateOf(thread(requested)), "requested")
    let model = report(requested, { type: "turn-started", turnId: turn("u1") })
    assert.strictEqual(turnStateOf(thread(model)), "running")
    model = report(model, {
      type: "turn-item",
      turnId: turn("u1"),
      phase: "completed",
      item: { id: "i1", kind: "agent-message", text: "all done" }
    })
    const usage = {
      inputTokens: 10,
      cachedInputTokens: 0,
      outputTokens: 5,
      reasoningOutputTokens: 0,
      totalTokens: 15
    }
    model = report(model, { type: "turn-usage", turnId: turn("u1"), usage })
    model = report(model, { type: "turn-ended", turnId: turn("u1"), status: "completed", reason: null })
    const t = thread(model)
    assert.strictEqual(t.latestTurn?.status, "completed")
    assert.strictEqual(t.latestTurn?.lastMessage, "all done")
    assert.deepStrictEqual(t.latestTurn?.usage, usage)
    assert.strictEqual(t.latestTurn?.completedAt, NOW)
  })

  it("a follow-up while a codex turn runs steers it; a command-provider thread refuses it", () => {
    const codex = running("codex")
    const steer = applyCommand(codex, start(codex, "also this"))
    assert.strictEqual(thread(steer).latestTurn?.turnId, turn("u1"), "the running turn stays the latest")
    assert.strictEqual(steer.sequence, codex.sequence + 1)
    const refused = refusalOf(running("command"), start(running("command"), "more"))
    assert.strictEqual(refused.reason, "conflict")
    assert.include(refused.message, "interrupt")
  })

  it("reports for another turn, or after the turn ended, change nothing", () => {
    const model = running("codex")
    assert.strictEqual(
      refusalOf(model, {
        type: "thread.provider.record",
        commandId: cmd(),
        threadId,
        report: {
          type: "turn-usage",
          turnId: turn("old"),
          usage: {
            inputTokens: 1,
            cachedInputTokens: 0,
            outputTokens: 1,
            reasoningOutputTokens: 0,
            totalTokens: 2
          }
        }
      }).reason,
      "conflict"
    )
    const ended = report(model, { type: "turn-ended", turnId: turn("u1"), status: "failed", reason: "boom" })
    assert.strictEqual(thread(ended).latestTurn?.reason, "boom")
    assert.strictEqual(
      refusalOf(ended, {
        type: "thread.provider.record",
        commandId: cmd(),
        threadId,
        report: { type: "turn-ended", turnId: turn("u1"), status: "completed", reason: null }
      }).reason,
      "conflict"
    )
  })

  it("interrupt needs a live turn", () => {
    const idle = base("codex")
    assert.strictEqual(
      refusalOf(idle, { type: "thread.turn.interrupt", commandId: cmd(), threadId }).reason,
      "conflict"
    )
    const model = running("codex")
    const interrupted = applyCommand(model, { type: "thread.turn.interrupt", commandId: cmd(), threadId })
    assert.strictEqual(interrupted.sequence, model.sequence + 1)
  })

  it("approvals: requested, answered once; a turn that ends expires the rest", () => {
    let model = running("codex")
    const approval = (requestId: string) => ({
      requestId,
      turnId: turn("u1"),
      kind: "command" as const,
      command: "rm -rf build",
      cwd: "/w",
      reason: null,
      requestedAt: NOW
    })
    model = report(model, { type: "approval-requested", approval: approval("a1") })
    model = report(model, { type: "approval-requested", approval: approval("a2") })
    assert.deepStrictEqual(
      thread(model).pendingApprovals.map((a) => a.requestId),
      ["a1", "a2"]
    )
    const respond = (requestId: string): Command => ({
      type: "thread.approval.respond",
      commandId: cmd(),
      threadId,
      requestId,
      decision: "accept"
    })
    model = applyCommand(model, respond("a1"))
    assert.deepStrictEqual(
      thread(model).pendingApprovals.map((a) => a.requestId),
      ["a2"]
    )
    const again = refusalOf(model, respond("a1"))
    assert.strictEqual(again.reason, "not-found")
    assert.include(again.message, "a2")
    model = report(model, {
      type: "turn-ended",
      turnId: turn("u1"),
      status: "interrupted",
      reason: "stopped"
    })
    assert.deepStrictEqual(thread(model).pendingApprovals, [])
  })

  it("a stopped session keeps the conversation to resume", () => {
    let model = report(base("codex"), {
      type: "session-changed",
      status: "running",
      providerSessionId: "ps_1",
      resumeCursor: "codex-thread-1",
      error: null
    })
    model = report(model, {
      type: "session-changed",
      status: "error",
      providerSessionId: "ps_1",
      resumeCursor: null,
      error: "exited"
    })
    assert.deepStrictEqual(thread(model).session, {
      status: "error",
      providerSessionId: "ps_1",
      resumeCursor: "codex-thread-1",
      error: "exited",
      reason: null
    })
  })

  describe("a wake for a parent's children", () => {
    const notice = {
      noticeId: "n-1",
      childThreadId: "c1",
      kind: "turn-completed" as const,
      text: "done",
      at: NOW
    }
    const wake = (noticeIds: Array<string>): Extract<Command, { type: "thread.wake" }> => ({
      type: "thread.wake",
      commandId: cmd(),
      threadId,
      turnId: turn("w1"),
      prompt: "your children reported back",
      noticeIds
    })
    const context = (wakesPerHour = 20) => ({ now: NOW, limits: { ...DEFAULT_LIMITS, wakesPerHour } })
    const idleParent = { ...thread(base("codex")), childNotices: [notice] }

    it("starts a turn for the pending notices and records the wake", () => {
      const decision = decideWake(idleParent, wake(["n-1", "n-gone"]), context())
      assert.deepStrictEqual(
        Result.getOrThrow(decision).map((e) => e.type),
        ["thread.turn-start-requested", "thread.woken"]
      )
      const woken = Result.getOrThrow(decision)[1]
      assert.deepStrictEqual(woken?.type === "thread.woken" ? woken.payload.noticeIds : [], ["n-1"])
    })

    it("does nothing for a busy parent or notices already given", () => {
      const busy = { ...thread(running("codex")), childNotices: [notice] }
      assert.deepStrictEqual(Result.getOrThrow(decideWake(busy, wake(["n-1"]), context())), [])
      assert.deepStrictEqual(Result.getOrThrow(decideWake(idleParent, wake(["n-2"]), context())), [])
    })

    it("past the wakes per hour, warns once instead of starting a turn; older wakes do not count", () => {
      const hour = 60 * 60 * 1000
      const recent = Array.from({ length: 3 }, (_, i) => new Date(Date.parse(NOW) - i * 1000).toISOString())
      const capped = { ...idleParent, wokenAt: recent }
      const refused = Result.getOrThrow(decideWake(capped, wake(["n-1"]), context(3)))
      assert.deepStrictEqual(
        refused.map((e) => e.type),
        ["thread.warned"]
      )
      const warning = refused[0]?.type === "thread.warned" ? refused[0].payload.warning : ""
      assert.include(warning, "wakesPerHour")
      assert.deepStrictEqual(
        Result.getOrThrow(decideWake({ ...capped, warnings: [warning] }, wake(["n-1"]), context(3))),
        []
      )
      const old = {
        ...idleParent,
        wokenAt: recent.map((at) => new Date(Date.parse(at) - hour).toISOString())
      }
      assert.strictEqual(Result.getOrThrow(decideWake(old, wake(["n-1"]), context(3))).length, 2)
    })
  })
})
