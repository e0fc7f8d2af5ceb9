// The queue as the decider and projector keep it, without I/O: a start past a limit is queued
// (when the caller allows it) with its place and what it waits for; it leaves the queue only in
// order, a newcomer never takes a slot a queued thread ahead could take; archive and a failed
// start take a thread out and move the others up.
import { assert, describe, it } from "@effect/vitest"
import type { Command, QueuedStart } from "@spindle/contracts"
import { emptyReadModel, type ReadModel } from "@spindle/read-model"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import { DEFAULT_LIMITS, type Limits } from "../config/ServerConfig.ts"
import { applyCommand, NOW, refusalOf } from "../testing/decide.ts"
import { ids } from "../testing/fixtures.ts"
import { nextStartable, queueMessage, startableQueued, turnSlotsInUse } from "./admission.ts"
import { decide } from "./decider.ts"

const limits: Limits = { ...DEFAULT_LIMITS, runningTurns: 2, childrenPerThread: 8 }
const apply = (model: ReadModel, command: Command) => applyCommand(model, command, limits)

const request = (id: string): QueuedStart => ({
  command: {
    type: "thread.turn.start",
    commandId: ids.command(`start-${id}`),
    threadId: ids.thread(id),
    prompt: `work on ${id}`,
    bootstrap: { createThread: { projectId: ids.project("p1") }, workspace: { mode: "new_worktree" } }
  } as QueuedStart["command"],
  parent: null
})

const begin = (id: string, o: { queue?: boolean; fromQueue?: boolean } = {}): Command => ({
  type: "thread.bootstrap.begin",
  commandId: ids.command(`${o.fromQueue ? "dequeue" : "begin"}-${id}`),
  threadId: ids.thread(id),
  projectId: ids.project("p1"),
  parentThreadId: null,
  title: id,
  tags: [],
  provider: "codex",
  model: null,
  runtimeMode: "full-access",
  interactionMode: "default",
  workspaceMode: "new_worktree",
  worktreePath: null,
  runSetupScript: false,
  ...(o.queue === false ? {} : { queue: request(id) }),
  ...(o.fromQueue ? { fromQueue: true } : {})
})

/** The queue as plain ids. */
const queueOf = (model: ReadModel): Array<string> => [...model.queue]

const thread = (model: ReadModel, id: string) => Option.getOrThrow(HashMap.get(model.threads, ids.thread(id)))

/** The bootstrap ends having requested its turn: it keeps its slot until the turn ends. */
const turnRequested = (model: ReadModel, id: string) =>
  [
    {
      type: "thread.turn.request",
      commandId: ids.command(`turn-${id}`),
      threadId: ids.thread(id),
      turnId: ids.turn(`turn-${id}`),
      prompt: "go"
    },
    { type: "thread.bootstrap.complete", commandId: ids.command(`complete-${id}`), threadId: ids.thread(id) }
  ].reduce((m, c) => apply(m, c as Command), model)

const turnEnded = (model: ReadModel, id: string) =>
  apply(model, {
    type: "thread.provider.record",
    commandId: ids.command(`ended-${id}`),
    threadId: ids.thread(id),
    report: { type: "turn-ended", turnId: ids.turn(`turn-${id}`), status: "completed", reason: null }
  } as Command)

const base = apply(emptyReadModel, {
  type: "project.create",
  commandId: ids.command("p1"),
  projectId: ids.project("p1"),
  workspaceRoot: "/r/a"
} as Command)

/** Two threads holding both running-turn slots (their turns requested), and `queued` queued behind. */
const full = (...queued: ReadonlyArray<string>) =>
  queued.reduce(
    (m, id) => apply(m, begin(id)),
    turnRequested(turnRequested(apply(apply(base, begin("a")), begin("b")), "a"), "b")
  )

describe("the start queue (decided in the writer)", () => {
  it("queues a start past the running-turn limit, with its place and what it waits for", () => {
    const model = full("q1", "q2", "q3")
    assert.strictEqual(turnSlotsInUse(model), 2)
    assert.deepStrictEqual(queueOf(model), ["q1", "q2", "q3"])
    const q3 = thread(model, "q3")
    assert.strictEqual(q3.status, "queued")
    assert.deepStrictEqual(q3.queue?.waitsFor, { kind: "running-turns", limit: 2 })
    assert.strictEqual(q3.queue?.position, 3)
    assert.isNull(q3.workspace.worktreePath)
    assert.strictEqual(
      queueMessage(model, q3),
      "queued: 3rd, waiting for a running-turn slot (2 of 2 in use)"
    )
    // Nothing may start while both slots are held.
    assert.deepStrictEqual([...startableQueued(model, limits)], [])
  })

  it("refuses instead with queue: false, changing nothing", () => {
    const model = full()
    const error = refusalOf(model, begin("q1", { queue: false }), limits)
    assert.strictEqual(error.reason, "capacity")
    assert.include(error.message, "--max-running-turns")
    assert.isTrue(Option.isNone(HashMap.get(model.threads, ids.thread("q1"))))
  })

  it("lets the queue go first: a slot that frees is the head's, and a newcomer queues behind", () => {
    const freed = turnEnded(full("q1", "q2"), "a")
    assert.deepStrictEqual([...startableQueued(freed, limits)], ["q1"])
    // A newcomer would fit the free slot, but q1 is ahead of it: queued, third.
    const late = apply(freed, begin("late"))
    assert.strictEqual(thread(late, "late").status, "queued")
    assert.strictEqual(thread(late, "late").queue?.position, 3)
    // q2 may not leave before q1 either: refused (it stays queued).
    const jumped = decide(begin("q2", { fromQueue: true }), late, { now: NOW, limits })
    assert.isTrue(Result.isFailure(jumped))
    if (Result.isFailure(jumped)) assert.strictEqual(jumped.failure.reason, "capacity")
    // q1 leaves: its bootstrap begins, the others move up.
    const started = apply(late, begin("q1", { fromQueue: true }))
    assert.strictEqual(thread(started, "q1").status, "active")
    assert.strictEqual(thread(started, "q1").bootstrap.status, "running")
    assert.isNull(thread(started, "q1").queue)
    assert.deepStrictEqual(queueOf(started), ["q2", "late"])
    assert.strictEqual(thread(started, "q2").queue?.position, 1)
    assert.strictEqual(thread(started, "late").queue?.position, 2)
    assert.strictEqual(turnSlotsInUse(started), 2)
  })

  it("a host that finds the head taken by another looks at the next that may start; the head keeps its slot", () => {
    const one = turnEnded(full("q1", "q2", "q3"), "a")
    assert.strictEqual(
      nextStartable(one, limits, null, () => false),
      "q1"
    )
    // One slot free: it is q1's, wherever q1 starts, so nothing behind it may take it.
    assert.isUndefined(nextStartable(one, limits, null, (id) => id === "q1"))
    const two = turnEnded(one, "b")
    assert.strictEqual(
      nextStartable(two, limits, null, (id) => id === "q1"),
      "q2"
    )
    assert.isUndefined(nextStartable(two, limits, null, (id) => id === "q1" || id === "q2"))
    assert.deepStrictEqual([...startableQueued(two, limits)], ["q1", "q2"])
  })

  it("archive takes a thread out of the queue; a queued thread takes no turn; it cannot be unarchived", () => {
    const model = full("q1", "q2")
    const turn = refusalOf(
      model,
      { type: "thread.turn.start", commandId: ids.command("t"), threadId: ids.thread("q1"), prompt: "hi" },
      limits
    )
    assert.strictEqual(turn.reason, "conflict")
    assert.include(turn.message, "spindle thread stop q1")
    const archived = apply(model, {
      type: "thread.archive",
      commandId: ids.command("arch"),
      threadId: ids.thread("q1")
    } as Command)
    assert.strictEqual(thread(archived, "q1").status, "archived")
    assert.deepStrictEqual(queueOf(archived), ["q2"])
    assert.strictEqual(thread(archived, "q2").queue?.position, 1)
    const back = refusalOf(
      archived,
      { type: "thread.unarchive", commandId: ids.command("un"), threadId: ids.thread("q1") },
      limits
    )
    assert.include(back.message, "never started")
  })

  it("a queued start that can no longer begin fails where it waits, and leaves the queue", () => {
    const failed = apply(full("q1", "q2"), {
      type: "thread.bootstrap.fail",
      commandId: ids.command("fail-q1"),
      threadId: ids.thread("q1"),
      stage: "validate",
      error: { reason: "conflict", message: "Branch x already exists." }
    } as Command)
    assert.strictEqual(thread(failed, "q1").status, "active")
    assert.strictEqual(thread(failed, "q1").bootstrap.status, "failed")
    assert.deepStrictEqual(queueOf(failed), ["q2"])
  })
})
