import { assert, describe, it } from "@effect/vitest"
import type { SpindleEvent } from "@spindle/contracts"
import { emptyReadModel } from "@spindle/read-model"
import { applyCommand } from "../testing/decide.ts"
import { ids } from "../testing/fixtures.ts"
import { describeEvent } from "./follow.ts"
import { formatThread, threadState } from "./threadView.ts"

/** Thread t1 of project p1 after `more` commands. */
const projected = (...more: ReadonlyArray<Record<string, unknown>>) => {
  const model = [
    {
      type: "project.create",
      commandId: ids.command("c1"),
      projectId: ids.project("p1"),
      workspaceRoot: "/r"
    },
    {
      type: "thread.create",
      commandId: ids.command("c2"),
      threadId: ids.thread("t1"),
      projectId: ids.project("p1"),
      title: "T"
    },
    ...more
  ].reduce((m, command) => applyCommand(m, command as never), emptyReadModel)
  return [...model.threads][0]![1]
}

describe("thread list's state word", () => {
  it("a bootstrap that failed before any setup ran is bootstrap-failed, not setup-failed", () => {
    const thread = projected()
    const failedAt = (stage: "workspace" | "setup", setup: typeof thread.setup.status) => ({
      ...thread,
      bootstrap: { status: "failed" as const, stage, error: { reason: "git" as const, message: "no space" } },
      setup: { ...thread.setup, status: setup }
    })
    assert.strictEqual(threadState(failedAt("workspace", "not-requested")), "bootstrap-failed")
    assert.strictEqual(threadState(failedAt("workspace", "pending")), "bootstrap-failed")
    assert.strictEqual(threadState(failedAt("setup", "failed")), "setup-failed")
    assert.strictEqual(threadState(failedAt("setup", "timed-out")), "setup-failed")
  })
})

describe("thread show", () => {
  it("shows what Spindle refused to do with the thread, and why", () => {
    const warning = "Spindle runs no git in /w: /w's .git points at /w/.fake/.git"
    const thread = projected({
      type: "thread.warn",
      commandId: ids.command("c3"),
      threadId: ids.thread("t1"),
      warning
    })
    assert.include(formatThread(thread), `\n  ! ${warning}`)
  })

  it("says what the thread changed once the radar counted it", () => {
    assert.notInclude(formatThread(projected()), "changes")
    const thread = projected({
      type: "thread.changes.record",
      commandId: ids.command("c3"),
      threadId: ids.thread("t1"),
      changes: { files: 1, insertions: 12, deletions: 3 }
    })
    assert.include(formatThread(thread), "\n  changes 1 file +12 -3 against its fork point")
  })

  it("says a merge conflicted, where, and what to do", () => {
    const thread = projected({
      type: "thread.merge-conflict.record",
      commandId: ids.command("c3"),
      threadId: ids.thread("t1"),
      conflict: { target: "main", files: ["a.ts"], at: "2026-12-05T00:00:00.000Z" }
    })
    assert.include(
      formatThread(thread),
      "\n  ! merge into main conflicts in a.ts: ask the agent to merge main"
    )
  })
})

describe("a session Spindle stopped on its own", () => {
  const reason = "idle for 15m (session idle timeout 15m); the next prompt resumes its conversation"

  it("thread show says the session stopped and why, not that it failed", () => {
    const thread = projected()
    const stopped = { ...thread, session: { ...thread.session, status: "stopped" as const, reason } }
    const shown = formatThread(stopped)
    assert.include(shown, `session stopped: ${reason}`)
    assert.notInclude(shown, "error")
  })

  it("thread follow prints the stop with its reason", () => {
    const event = {
      type: "thread.session-changed",
      payload: {
        threadId: ids.thread("t1"),
        status: "stopped",
        providerSessionId: "s1",
        resumeCursor: null,
        error: null,
        reason
      }
    } as unknown as SpindleEvent
    assert.strictEqual(describeEvent(event, 0, 1000), `● agent session stopped: ${reason}`)
  })
})

describe("a queued thread in words", () => {
  it("is queued on thread list, and thread show says its place and how to cancel it", () => {
    const thread = {
      ...projected(),
      status: "queued" as const,
      queue: {
        sequence: 7,
        position: 3,
        waitsFor: { kind: "running-turns" as const, limit: 2 },
        queuedAt: "2026-01-01T00:00:00.000Z"
      }
    }
    assert.strictEqual(threadState(thread), "queued")
    const shown = formatThread(thread)
    assert.include(shown, "queued: position 3, waiting for running-turns (limit 2)")
    assert.include(shown, "spindle thread stop t1")
    assert.strictEqual(threadState({ ...thread, status: "archived", queue: null }), "archived")
  })
})
