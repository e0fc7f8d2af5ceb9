// Rows written by the stores come back as they went in (booleans, JSON columns, errors), and a
// row damaged outside Spindle (written here with node:sqlite into the real database file) is a
// `CorruptRow` naming its table and row, or a projection rebuild, never a silently wrong value.
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { assert, describe, it } from "@effect/vitest"
import { type BootstrapResult, SpindleError, type SpindleEvent } from "@spindle/contracts"
import { emptyReadModel } from "@spindle/read-model"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Result from "effect/Result"
import * as SqlClient from "effect/sql/SqlClient"
import { ids, tempDir } from "../testing/fixtures.ts"
import { BootstrapJournal, type JournalEntry } from "./BootstrapJournal.ts"
import { CommandReceipts } from "./CommandReceipts.ts"
import { CorruptRow } from "./corruptRow.ts"
import * as Database from "./Database.ts"
import { EventStore } from "./EventStore.ts"
import { ProjectionStore } from "./ProjectionStore.ts"

const AT = "2026-01-01T00:00:00.000Z"

/** A migrated database file in a scoped temp dir, its stores, and a raw writer for damage. */
const database = Effect.gen(function* () {
  const file = join(yield* tempDir(), "spindle.db")
  const context = yield* Layer.build(Database.layer(file))
  const damage = (statement: string, ...params: Array<string | number | null>) =>
    Effect.sync(() => {
      const db = new DatabaseSync(file)
      try {
        db.prepare(statement).run(...params)
      } finally {
        db.close()
      }
    })
  return {
    journal: Context.get(context, BootstrapJournal),
    receipts: Context.get(context, CommandReceipts),
    events: Context.get(context, EventStore),
    projections: Context.get(context, ProjectionStore),
    sql: Context.get(context, SqlClient.SqlClient),
    damage
  }
})

/** The `CorruptRow` an effect died with; fails the test if it ended any other way. */
const corruptRow = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.map(Effect.exit(effect), (exit) => {
    assert.isTrue(Exit.isFailure(exit), "expected the read to fail")
    const defect = Exit.isFailure(exit) ? Cause.findDefect(exit.cause) : undefined
    assert.isTrue(defect !== undefined && Result.isSuccess(defect), `expected a defect, got ${exit}`)
    const error = Result.isSuccess(defect!) ? defect.success : undefined
    assert.instanceOf(error, CorruptRow)
    return error as CorruptRow
  })

const result: BootstrapResult = {
  threadId: ids.thread("t1"),
  projectId: ids.project("p1"),
  parentThreadId: null,
  sequence: 3,
  mode: "new_worktree",
  branch: "spindle/t1",
  worktreePath: "/repos/r1/worktrees/t1",
  baseBranch: "main",
  setup: { status: "succeeded" },
  turn: { status: "requested" },
  warnings: ["one"],
  durationMs: 12
}

const entry: JournalEntry = {
  commandId: "c1",
  payloadHash: "h1",
  threadId: "t1",
  projectId: "p1",
  repo: "/repos/r1",
  mode: "new_worktree",
  stage: "creating-thread",
  branch: "spindle/t1",
  worktreePath: null,
  prompt: "go",
  turnId: "turn-1",
  createdByUs: false,
  result: null,
  error: null,
  gitGroup: null
}

describe("rows decoded by schema", () => {
  it.effect("the journal keeps booleans and JSON as written, and refuses a damaged result or bit", () =>
    Effect.gen(function* () {
      const { journal, damage } = yield* database
      yield* journal.begin(entry, AT)
      assert.deepStrictEqual(yield* journal.get("c1"), entry)
      yield* journal.update("c1", { stage: "done", createdByUs: true, result }, AT)
      assert.deepStrictEqual(yield* journal.get("c1"), { ...entry, stage: "done", createdByUs: true, result })
      assert.deepStrictEqual(yield* journal.createdBranches, [{ repo: "/repos/r1", branch: "spindle/t1" }])
      const gitGroup = { pgid: 4242, startTime: "99" }
      yield* journal.update("c1", { gitGroup }, AT)
      assert.deepStrictEqual((yield* journal.get("c1"))?.gitGroup, gitGroup)
      assert.isUndefined(yield* journal.get("missing"))

      // A result that is JSON but not a BootstrapResult (a relative worktree path).
      yield* damage(
        "UPDATE bootstrap_operations SET result = ? WHERE command_id = 'c1'",
        JSON.stringify({ ...result, worktreePath: "relative/path" })
      )
      const badResult = yield* corruptRow(journal.get("c1"))
      assert.strictEqual(badResult.table, "bootstrap_operations")
      assert.strictEqual(badResult.row, "command_id = c1")
      assert.include(badResult.message, "worktreePath")

      // A result that is not JSON at all, seen by the crash-recovery scan.
      yield* damage(
        "UPDATE bootstrap_operations SET stage = 'running-setup', result = '{not json' WHERE command_id = 'c1'"
      )
      assert.include((yield* corruptRow(journal.inFlight)).message, "result")

      // created_by_us is a 0/1 bit: 2 is not "true".
      yield* damage(
        "UPDATE bootstrap_operations SET result = NULL, created_by_us = 2 WHERE command_id = 'c1'"
      )
      assert.include((yield* corruptRow(journal.get("c1"))).message, "created_by_us")
      // An update reads the row first, so it refuses rather than overwrite it from a wrong value.
      yield* corruptRow(journal.update("c1", { stage: "failed" }, AT))
    })
  )

  it.effect("a receipt keeps its refusal as a SpindleError, and a damaged one is refused", () =>
    Effect.gen(function* () {
      const { receipts, damage } = yield* database
      const refusal = new SpindleError({
        reason: "conflict",
        message: "already there",
        threadId: ids.thread("t1")
      })
      yield* receipts.recordMany([
        {
          commandId: "c1",
          receipt: { status: "rejected", commandType: "thread.create", payloadHash: "h1", error: refusal },
          recordedAt: AT
        },
        {
          commandId: "c2",
          receipt: { status: "accepted", commandType: "project.create", payloadHash: "h2", sequence: 7 },
          recordedAt: AT
        }
      ])
      const rejected = yield* receipts.get("c1")
      assert.strictEqual(rejected?.status, "rejected")
      assert.instanceOf(rejected?.status === "rejected" ? rejected.error : undefined, SpindleError)
      assert.deepStrictEqual(rejected, {
        status: "rejected",
        commandType: "thread.create",
        payloadHash: "h1",
        error: refusal
      })
      assert.deepStrictEqual(yield* receipts.get("c2"), {
        status: "accepted",
        commandType: "project.create",
        payloadHash: "h2",
        sequence: 7
      })

      // Read together, the same receipts; a command without one is absent.
      const many = yield* receipts.getMany(["c1", "c2", "missing"])
      assert.deepStrictEqual([...many.keys()].sort(), ["c1", "c2"])
      assert.deepStrictEqual(many.get("c1"), rejected)
      assert.deepStrictEqual(many.get("c2"), yield* receipts.get("c2"))

      yield* damage("UPDATE command_receipts SET error = ? WHERE command_id = 'c1'", '{"reason":"conflict"')
      const notJson = yield* corruptRow(receipts.get("c1"))
      assert.strictEqual(notJson.table, "command_receipts")
      assert.strictEqual(notJson.row, "command_id = c1")
      yield* damage(
        "UPDATE command_receipts SET error = ? WHERE command_id = 'c1'",
        JSON.stringify({ _tag: "SpindleError", reason: "made-up", message: "x" })
      )
      assert.include((yield* corruptRow(receipts.get("c1"))).message, '["error"]["reason"]')
      // An accepted receipt without its sequence used to read as sequence 0.
      yield* damage("UPDATE command_receipts SET result_sequence = NULL WHERE command_id = 'c2'")
      assert.include((yield* corruptRow(receipts.get("c2"))).message, "result_sequence")
    })
  )

  it.effect("an append the store numbers otherwise than the writer expects dies, writing nothing", () =>
    Effect.gen(function* () {
      const { events, sql } = yield* database
      const event = (sequence: number, eventId: string) =>
        ({
          sequence,
          eventId,
          type: "project.deleted",
          commandId: `c${sequence}`,
          actor: { kind: "server" },
          occurredAt: AT,
          payload: { projectId: "p1" }
        }) as unknown as SpindleEvent
      yield* sql.withTransaction(events.append([event(1, "e1"), event(2, "e2")]))
      assert.deepStrictEqual(
        (yield* events.readAfter(0, 10)).map((e) => [e.sequence, e.eventId]),
        [
          [1, "e1"],
          [2, "e2"]
        ]
      )
      // Written behind the writer's back, the log's next number is not the one it expects.
      const wrong = yield* corruptRow(sql.withTransaction(events.append([event(2, "e3")])))
      assert.strictEqual(wrong.table, "events")
      assert.include(wrong.message, "numbered")
      assert.strictEqual(yield* events.latestSequence, 2)
    })
  )

  it.effect(
    "an event that is not a SpindleEvent stops the read; a damaged projection asks for a rebuild",
    () =>
      Effect.gen(function* () {
        const { events, projections, damage } = yield* database
        assert.strictEqual(yield* events.latestSequence, 0)
        yield* damage(
          `INSERT INTO events (event_id, type, aggregate_kind, aggregate_id, command_id, actor, occurred_at, payload)
         VALUES ('e1', 'project.deleted', 'project', 'p1', 'c1', '{"kind":"server"}', ?, '{"projectId":"p1"}'),
                ('e2', 'project.deleted', 'project', 'p1', 'c2', '{"kind":"server"}', ?, '{"project":"p1"}')`,
          AT,
          AT
        )
        assert.strictEqual(yield* events.latestSequence, 2)
        const [first] = yield* events.readAfter(0, 1)
        assert.deepStrictEqual(first, {
          sequence: 1,
          eventId: "e1",
          type: "project.deleted",
          commandId: "c1",
          actor: { kind: "server" },
          occurredAt: AT,
          payload: { projectId: "p1" }
        } as never)
        const bad = yield* corruptRow(events.readAfter(1, 10))
        assert.strictEqual(bad.table, "events")
        assert.include(bad.message, "projectId")

        yield* projections.save({ ...emptyReadModel, sequence: 2 }, [])
        assert.strictEqual((yield* projections.load)?.sequence, 2)
        yield* damage(
          "INSERT INTO projection_threads (id, project_id, data, sequence) VALUES ('t1', 'p1', ?, 2)",
          JSON.stringify({ id: "t1", projectId: "p1" })
        )
        assert.isUndefined(yield* projections.load)
      })
  )
})
