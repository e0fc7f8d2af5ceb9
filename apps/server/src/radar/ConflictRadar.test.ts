// The conflict radar on a real server core, real repositories and real file-system events:
// overlaps appear from writes in two worktrees and disappear when one side reverts, untracked and
// committed changes count, an archived thread stops being watched and its overlaps go, and a
// parent's children come back in a suggested merge order that a trial merge backs.
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { SpindleEvent } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { bootstrapWorld, threadId } from "../testing/bootstrap.ts"
import { commitFile, serverActor } from "../testing/fixtures.ts"
import { ConflictRadar } from "./ConflictRadar.ts"

type OverlapEvent = Extract<SpindleEvent, { type: "project.overlap-changed" }>

const lines = (n: number, label = "line") => Array.from({ length: n }, (_, i) => `${label} ${i + 1}`)
const text = (rows: ReadonlyArray<string>) => `${rows.join("\n")}\n`
const edit = (rows: ReadonlyArray<string>, at: number, value: string) =>
  rows.map((row, i) => (i === at - 1 ? value : row))

/** The next project.overlap-changed after `after` that `match` accepts, waited for (bounded). */
const nextOverlap = (
  engine: { events: (after: number) => Stream.Stream<SpindleEvent, unknown> },
  after: number,
  match: (event: OverlapEvent) => boolean = () => true
) =>
  engine.events(after).pipe(
    Stream.filter((e): e is OverlapEvent => e.type === "project.overlap-changed" && match(e)),
    Stream.runHead,
    Effect.flatMap((o) => (o._tag === "Some" ? Effect.succeed(o.value) : Effect.die("no overlap event"))),
    Effect.timeout("20 seconds"),
    Effect.orDie
  )

const setUp = Effect.gen(function* () {
  const w = yield* bootstrapWorld()
  const radar = Context.getUnsafe(w.context, ConflictRadar)
  const settle = Effect.flatMap(w.engine.readModel, (m) => radar.caughtUp(m.sequence))
  return { w, radar, settle }
})

describe("ConflictRadar", () => {
  it.live("an overlap appears from writes on disk in two worktrees and disappears when one reverts", () =>
    Effect.gen(function* () {
      const { w, radar, settle } = yield* setUp
      const base = lines(30)
      commitFile(w.repo, "src/app.ts", text(base))
      const one = (yield* w.bootstrap("t1")).worktreePath as string
      const two = (yield* w.bootstrap("t2")).worktreePath as string
      yield* settle
      assert.deepStrictEqual<ReadonlyArray<string>>([...(yield* radar.watching)].sort(), ["t1", "t2"])

      const start = (yield* w.engine.readModel).sequence
      writeFileSync(join(one, "src/app.ts"), text(edit(base, 10, "one's line 10")))
      writeFileSync(join(two, "src/app.ts"), text(edit(base, 11, "two's line 11")))
      const appeared = yield* nextOverlap(w.engine, start)
      assert.strictEqual(appeared.payload.change, "appeared")
      assert.deepStrictEqual<ReadonlyArray<string>>(appeared.payload.threadIds, ["t1", "t2"])
      assert.deepStrictEqual(appeared.payload.files, [
        { path: "src/app.ts", ranges: { t1: [{ start: 10, end: 10 }], t2: [{ start: 11, end: 11 }] } }
      ])
      const project = yield* w.engine.getProject("p1" as never)
      assert.deepStrictEqual<ReadonlyArray<string> | undefined>(project?.overlaps?.[0]?.threadIds, [
        "t1",
        "t2"
      ])
      const [live] = yield* radar.overlaps("p1" as never)
      assert.strictEqual(live?.overlaps[0]?.since, appeared.occurredAt)

      // Each thread's count of its changes, for cards and lists.
      yield* settle
      assert.deepStrictEqual((yield* w.engine.getThread("t1" as never))?.changes, {
        files: 1,
        insertions: 1,
        deletions: 1
      })

      writeFileSync(join(two, "src/app.ts"), text(base))
      const gone = yield* nextOverlap(w.engine, appeared.sequence)
      assert.strictEqual(gone.payload.change, "disappeared")
      assert.deepStrictEqual(gone.payload.files, [])
      assert.isUndefined((yield* w.engine.getProject("p1" as never))?.overlaps)
      yield* settle
      assert.deepStrictEqual((yield* w.engine.getThread("t2" as never))?.changes, {
        files: 0,
        insertions: 0,
        deletions: 0
      })
      const counted = yield* w.engine.events(start).pipe(
        Stream.takeUntil((e) => e.sequence >= gone.sequence),
        Stream.filter((e) => e.type === "thread.changes-updated" && e.payload.threadId === "t2"),
        Stream.runCollect
      )
      const counts = Array.from(counted, (e) =>
        e.type === "thread.changes-updated" ? JSON.stringify(e.payload.changes) : ""
      )
      assert.isAtLeast(counts.length, 2, "counted when changed, and again when reverted")
      assert.isTrue(
        counts.every((count, i) => i === 0 || count !== counts[i - 1]),
        `a count is an event only when it changes: ${counts.join(" ")}`
      )
    })
  )

  it.live("a commit and an untracked file count; archiving stops the watch and ends the overlap", () =>
    Effect.gen(function* () {
      const { w, radar, settle } = yield* setUp
      const one = (yield* w.bootstrap("t1")).worktreePath as string
      const two = (yield* w.bootstrap("t2")).worktreePath as string
      yield* settle
      const start = (yield* w.engine.readModel).sequence
      // The same new file, committed in t1 and untracked in t2: each adds it whole.
      commitFile(one, "docs/new.md", "from one\n")
      mkdirSync(join(two, "docs"))
      writeFileSync(join(two, "docs", "new.md"), "from two\n")
      const appeared = yield* nextOverlap(w.engine, start)
      assert.deepStrictEqual(appeared.payload.files, [
        { path: "docs/new.md", ranges: { t1: [{ start: 1, end: 0 }], t2: [{ start: 1, end: 0 }] } }
      ])
      assert.deepStrictEqual(
        [...((yield* radar.footprint(threadId("t1")))?.files.keys() ?? [])],
        ["docs/new.md"]
      )

      yield* w.commands.dispatch(
        { type: "thread.archive", commandId: "archive-t2", threadId: "t2" },
        serverActor
      )
      const gone = yield* nextOverlap(w.engine, appeared.sequence)
      assert.strictEqual(gone.payload.change, "disappeared")
      yield* settle
      assert.deepStrictEqual<ReadonlyArray<string>>(yield* radar.watching, ["t1"])
      assert.isUndefined(yield* radar.footprint(threadId("t2")))
    })
  )

  it.live("a parent's children: the one overlapping nobody first, then the conflicting pair in order", () =>
    Effect.gen(function* () {
      const { w, radar, settle } = yield* setUp
      const base = lines(10)
      commitFile(w.repo, "shared.txt", text(base))
      yield* w.bootstrap("p")
      const parent = { threadId: threadId("p"), worktreePath: null }
      const child = (id: string) =>
        Effect.map(w.bootstrap(id, { dispatch: { parent } }), (r) => r.worktreePath as string)
      const c1 = yield* child("c1")
      const c2 = yield* child("c2")
      const c3 = yield* child("c3")
      commitFile(c1, "shared.txt", text(edit(base, 5, "c1")))
      commitFile(c2, "shared.txt", text(edit(base, 5, "c2")))
      commitFile(c3, "other.txt", "c3\n")
      yield* nextOverlap(w.engine, 0, (e) => e.payload.threadIds.join() === "c1,c2")
      yield* settle

      const p = (yield* w.engine.getThread(threadId("p")))!
      const children = yield* radar.children(p)
      assert.deepStrictEqual<unknown>(
        children.children.map((c) => [c.thread.id, c.diff?.filesChanged]),
        [
          ["c1", 1],
          ["c2", 1],
          ["c3", 1]
        ]
      )
      assert.deepStrictEqual<unknown>(
        children.mergeOrder.map((e) => [e.threadId, e.conflictsWith]),
        [
          ["c3", []],
          ["c1", ["c2"]],
          ["c2", ["c1"]]
        ]
      )
      assert.include(children.mergeOrder[2]?.note ?? "", "conflicts with c1")
      assert.deepStrictEqual<unknown>(
        children.overlaps.map((o) => o.threadIds),
        [["c1", "c2"]]
      )
    })
  )
})
