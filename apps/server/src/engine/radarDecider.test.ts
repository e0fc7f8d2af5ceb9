// The radar's decision and its fold: a pair's overlap is recorded when it appears, when its files
// change and when it disappears, never when only its ranges move (no flood of the log); an
// overlap names two live threads of the project, in id order; an unknown project is not-found.
import { assert, describe, it } from "@effect/vitest"
import type { Command, OverlapFile } from "@spindle/contracts"
import { emptyReadModel, type ReadModel } from "@spindle/read-model"
import * as Result from "effect/Result"
import { DEFAULT_LIMITS } from "../config/ServerConfig.ts"
import { applyCommand, NOW, refusalOf } from "../testing/decide.ts"
import { ids } from "../testing/fixtures.ts"
import { decide } from "./decider.ts"

const commands: ReadonlyArray<Command> = [
  {
    type: "project.create",
    commandId: ids.command("c1"),
    projectId: ids.project("p1"),
    workspaceRoot: "/r/a"
  },
  {
    type: "project.create",
    commandId: ids.command("c2"),
    projectId: ids.project("p2"),
    workspaceRoot: "/r/b"
  },
  ...["t1", "t2"].map(
    (id): Command => ({
      type: "thread.create",
      commandId: ids.command(`c-${id}`),
      threadId: ids.thread(id),
      projectId: ids.project("p1"),
      title: id
    })
  ),
  {
    type: "thread.create",
    commandId: ids.command("c-x"),
    threadId: ids.thread("x"),
    projectId: ids.project("p2"),
    title: "x"
  }
]
const model = commands.reduce((m: ReadModel, c) => applyCommand(m, c), emptyReadModel)

const file = (path: string, start = 1): OverlapFile => ({
  path,
  ranges: { t1: [{ start, end: start }], t2: [{ start, end: start }] }
})
const record = (files: ReadonlyArray<OverlapFile>, threadIds = ["t1", "t2"], projectId = "p1"): Command => ({
  type: "project.overlap.record",
  commandId: ids.command(`r-${files.length}`),
  projectId: ids.project(projectId),
  threadIds: threadIds.map(ids.thread),
  files,
  filesTruncated: 0
})
const eventsOf = (m: ReadModel, command: Command) => {
  const decision = decide(command, m, { now: NOW, limits: DEFAULT_LIMITS })
  if (Result.isFailure(decision)) throw new Error(decision.failure.message)
  return decision.success
}
const overlapsOf = (m: ReadModel) => m.projects.pipe((p) => [...p].find(([id]) => id === "p1")?.[1].overlaps)

describe("project.overlap.record", () => {
  it("appears, changes with its files, not with its ranges, and disappears", () => {
    const appeared = eventsOf(model, record([file("a.ts")]))
    assert.deepStrictEqual(
      appeared.map((e) => e.type === "project.overlap-changed" && e.payload.change),
      ["appeared"]
    )
    const one = applyCommand(model, record([file("a.ts")]))
    assert.strictEqual(overlapsOf(one)?.[0]?.since, NOW)
    assert.deepStrictEqual(eventsOf(one, record([file("a.ts", 7)])), [], "only the ranges moved")
    const changed = eventsOf(one, record([file("a.ts"), file("b.ts")]))
    assert.strictEqual(changed[0]?.type === "project.overlap-changed" && changed[0].payload.change, "changed")
    const gone = eventsOf(one, record([]))
    assert.strictEqual(gone[0]?.type === "project.overlap-changed" && gone[0].payload.change, "disappeared")
    assert.isUndefined(overlapsOf(applyCommand(one, record([]))))
    assert.deepStrictEqual(eventsOf(model, record([])), [], "nothing to end")
  })

  it("refuses an unknown project, threads out of order, and a thread of another project", () => {
    assert.strictEqual(refusalOf(model, record([file("a.ts")], ["t1", "t2"], "nope")).reason, "not-found")
    const order = refusalOf(model, record([file("a.ts")], ["t2", "t1"]))
    assert.strictEqual(order.reason, "validation")
    assert.strictEqual(order.field, "threadIds")
    const foreign = refusalOf(model, record([file("a.ts")], ["t1", "x"]))
    assert.strictEqual(foreign.reason, "conflict")
    assert.include(foreign.message, "not a live thread of project p1")
  })
})

describe("thread.changes.record", () => {
  const count = (files: number, insertions: number, deletions: number, n = 1): Command => ({
    type: "thread.changes.record",
    commandId: ids.command(`ch-${n}`),
    threadId: ids.thread("t1"),
    changes: { files, insertions, deletions }
  })
  const changesOf = (m: ReadModel) => m.threads.pipe((t) => [...t].find(([id]) => id === "t1")?.[1].changes)

  it("is an event the first time and when the count changes, folded into the thread; not when it stayed", () => {
    assert.isNull(changesOf(model) ?? null)
    assert.deepStrictEqual(
      eventsOf(model, count(0, 0, 0)).map((e) => e.type),
      ["thread.changes-updated"]
    )
    const one = applyCommand(model, count(2, 5, 1))
    assert.deepStrictEqual(changesOf(one), { files: 2, insertions: 5, deletions: 1 })
    assert.deepStrictEqual(eventsOf(one, count(2, 5, 1, 2)), [], "the same count")
    assert.deepStrictEqual(
      eventsOf(one, count(2, 6, 1, 3)).map((e) => e.type),
      ["thread.changes-updated"]
    )
  })

  it("refuses an unknown thread", () => {
    assert.strictEqual(
      refusalOf(model, { ...count(1, 1, 1), threadId: ids.thread("nope") } as Command).reason,
      "not-found"
    )
  })
})
