// The board's pure parts (no browser needed): event lines, columns, rows, who did what.
import type { SpindleEvent, Thread, ThreadId } from "@spindle/contracts"
import { assert, describe, it } from "vitest"
import {
  actorLabel,
  columnOf,
  columnRows,
  describeEvent,
  hostChoices,
  lastMessageLine,
  needsYou
} from "../src/model.ts"

const sessionChanged = (payload: Record<string, unknown>) =>
  ({
    type: "thread.session-changed",
    payload: { threadId: "t1", providerSessionId: "s1", resumeCursor: null, error: null, ...payload }
  }) as unknown as SpindleEvent

describe("the board's event lines", () => {
  it("a session Spindle stopped at the idle timeout says why; a failed one says its error", () => {
    const reason = "idle for 15m (session idle timeout 15m); the next prompt resumes its conversation"
    assert.strictEqual(
      describeEvent(sessionChanged({ status: "stopped", reason })),
      `session stopped: ${reason}`
    )
    assert.strictEqual(describeEvent(sessionChanged({ status: "stopped" })), "session stopped")
    assert.strictEqual(
      describeEvent(sessionChanged({ status: "error", error: "exited with code 1" })),
      "session error: exited with code 1"
    )
  })
})

describe("the board's columns and rows", () => {
  const base = {
    status: "active",
    parentThreadId: null,
    pendingApprovals: [],
    bootstrap: { status: "completed" },
    setup: { status: "succeeded", exitCode: 0 },
    session: { status: "running" },
    latestTurn: { status: "completed", stalledSince: null },
    changes: null,
    mergeConflict: null
  }
  const thread = (id: string, extra: Record<string, unknown> = {}) =>
    ({ ...base, id, title: `title ${id}`, ...extra }) as unknown as Thread

  it("each rule puts a thread in the column that answers what needs the user", () => {
    assert.strictEqual(columnOf(thread("a", { pendingApprovals: [{}] })), "needs-you")
    assert.strictEqual(
      columnOf(thread("b", { latestTurn: { status: "failed", stalledSince: null } })),
      "needs-you"
    )
    assert.strictEqual(
      columnOf(thread("c", { latestTurn: { status: "running", stalledSince: "2026-01-01T00:00:00Z" } })),
      "needs-you",
      "stalled"
    )
    assert.strictEqual(columnOf(thread("d", { setup: { status: "failed", exitCode: 3 } })), "needs-you")
    assert.strictEqual(
      needsYou(thread("d", { setup: { status: "failed", exitCode: 3 } })),
      "setup failed (exit 3)"
    )
    assert.strictEqual(
      columnOf(thread("e", { latestTurn: { status: "running", stalledSince: null } })),
      "working"
    )
    assert.strictEqual(columnOf(thread("f", { status: "queued" })), "working")
    assert.strictEqual(
      columnOf(thread("g", { changes: { files: 2, insertions: 3, deletions: 1 } })),
      "review"
    )
    assert.strictEqual(columnOf(thread("h", { changes: { files: 0, insertions: 0, deletions: 0 } })), "done")
    assert.strictEqual(columnOf(thread("i")), "done")
    assert.strictEqual(columnOf(thread("j", { status: "archived", pendingApprovals: [{}] })), "archived")
    const conflicted = thread("k", {
      changes: { files: 1, insertions: 1, deletions: 1 },
      mergeConflict: { target: "main", files: ["a.ts", "b.ts"], at: "2026-01-01T00:00:00Z" }
    })
    assert.strictEqual(columnOf(conflicted), "needs-you")
    assert.strictEqual(needsYou(conflicted), "merge into main conflicts: a.ts, b.ts")
  })

  it("children of the same column group under their parent when it is expanded; one elsewhere says whose it is", () => {
    const parent = thread("p")
    const kid = thread("k", { parentThreadId: "p" })
    const grandkid = thread("g", { parentThreadId: "k" })
    const stray = thread("s", { parentThreadId: "elsewhere" })
    const titles = new Map([["elsewhere", "the other parent"]]) as Map<ThreadId, string>
    const rows = (expanded: Array<string>) =>
      columnRows([parent, kid, grandkid, stray], titles, new Set(expanded) as Set<ThreadId>).map(
        (r) => `${r.thread.id}:${r.depth}:${r.children}:${r.childOf ?? ""}`
      )
    assert.deepStrictEqual(rows([]), ["p:0:1:", "s:0:0:the other parent"])
    assert.deepStrictEqual(rows(["p"]), ["p:0:1:", "k:1:1:", "s:0:0:the other parent"])
    assert.deepStrictEqual(rows(["p", "k"]), ["p:0:1:", "k:1:1:", "g:2:0:", "s:0:0:the other parent"])
  })

  it("says who did something in words: you, the agent of a thread, Spindle", () => {
    const event = (actor: Record<string, unknown>) => ({ actor }) as unknown as SpindleEvent
    const sessions = new Map([["s1", "fix the docs"]])
    assert.strictEqual(actorLabel(event({ kind: "client", tokenId: "tok_1" }), sessions), "you")
    assert.strictEqual(
      actorLabel(event({ kind: "provider-session", sessionId: "s1" }), sessions),
      "agent of fix the docs"
    )
    assert.strictEqual(actorLabel(event({ kind: "provider-session", sessionId: "s9" }), sessions), "an agent")
    assert.strictEqual(actorLabel(event({ kind: "server" }), sessions), "Spindle")
  })
})

describe("a card's last message", () => {
  const said = (lastMessage: string | null) =>
    lastMessageLine({ latestTurn: { lastMessage } } as unknown as Thread)

  it("is the first line that says something, as text: no Markdown marks, a link's words only", () => {
    assert.strictEqual(
      said("Wrote **notes.ts**: see [the docs](https://example.invalid/docs) and `code`.\nmore"),
      "Wrote notes.ts: see the docs and code."
    )
    assert.strictEqual(said("\n\n## Done *now*\n"), "Done now")
    assert.strictEqual(said("```ts\nconst a = 1\n```"), "const a = 1")
    assert.strictEqual(said("- fixed snake_case_name and 2 * 3"), "fixed snake_case_name and 2 * 3")
    assert.isUndefined(said("  \n "))
    assert.isUndefined(said(null))
  })
})

describe("the start form's hosts", () => {
  it("offers a choice only for a project checked out on several hosts", () => {
    assert.deepStrictEqual(hostChoices(undefined), [])
    assert.deepStrictEqual(hostChoices({ checkouts: [{ host: "host_a", workspaceRoot: "/a" }] }), [])
    assert.deepStrictEqual(
      hostChoices({
        checkouts: [
          { host: "host_a", workspaceRoot: "/a" },
          { host: "host_b", workspaceRoot: "/b" }
        ]
      }).map((c) => c.value),
      ["", "host_a", "host_b"]
    )
  })
})
