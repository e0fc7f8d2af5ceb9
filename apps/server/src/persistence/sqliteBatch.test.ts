// The engine's batch on the embedded store (sqliteBatch.ts, over SqliteDirect) writes the very rows
// the stores write through effect/sql, all of them or none, and never inside another fiber's
// transaction on the shared connection. Real database files, the real migrations.
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { assert, describe, it } from "@effect/vitest"
import { type Command, SpindleError, type SpindleEvent } from "@spindle/contracts"
import { type AggregateRef, aggregateOf, emptyReadModel, project, type ReadModel } from "@spindle/read-model"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as SqlClient from "effect/sql/SqlClient"
import { eventsOf } from "../testing/decide.ts"
import { ids, tempDir } from "../testing/fixtures.ts"
import { CommandReceipts } from "./CommandReceipts.ts"
import { CorruptRow } from "./corruptRow.ts"
import * as Database from "./Database.ts"
import { EventStore } from "./EventStore.ts"
import { NotifySecrets } from "./NotifySecrets.ts"
import { ProjectionStore } from "./ProjectionStore.ts"
import { SqliteDirect } from "./SqliteDirect.ts"
import { type LogBatch, readReceipts, writeBatch } from "./sqliteBatch.ts"

const AT = "2026-01-01T00:00:00.000Z"

const database = Effect.gen(function* () {
  const file = join(yield* tempDir(), "spindle.db")
  const context = yield* Layer.build(Database.layer(file))
  const sql = Context.get(context, SqlClient.SqlClient)
  const stores = {
    events: Context.get(context, EventStore),
    receipts: Context.get(context, CommandReceipts),
    projections: Context.get(context, ProjectionStore),
    secrets: Context.get(context, NotifySecrets)
  }
  /** Every row of the tables a batch writes, in key order. */
  const dump = Effect.gen(function* () {
    const tables: Record<string, ReadonlyArray<unknown>> = {}
    for (const table of [
      "events",
      "command_receipts",
      "notify_secrets",
      "projection_projects",
      "projection_threads",
      "projection_state"
    ])
      tables[table] = yield* sql.unsafe(`SELECT * FROM ${table} ORDER BY 1`)
    return tables
  })
  /** Writes `batch` the way the stores do on any store: effect/sql, one transaction. */
  const throughStores = (batch: LogBatch) =>
    sql.withTransaction(
      Effect.all(
        [
          stores.events.append(batch.events),
          stores.receipts.recordMany(batch.receipts),
          stores.secrets.write(batch.secrets),
          stores.projections.save(batch.model, batch.changed.values())
        ],
        { discard: true }
      )
    )
  const damage = (statement: string) =>
    Effect.sync(() => {
      const db = new DatabaseSync(file)
      try {
        db.exec(statement)
      } finally {
        db.close()
      }
    })
  // The embedded store's client gives the engine its direct connection too.
  const direct = yield* Effect.provide(Effect.serviceOption(SqliteDirect), context)
  assert.isTrue(Option.isSome(direct), "the SQLite store provides SqliteDirect")
  return { sql, direct: Option.getOrThrow(direct), dump, throughStores, damage, ...stores }
})

const commands: ReadonlyArray<Command> = [
  ...[1, 2].map(
    (n): Command => ({
      type: "project.create",
      commandId: ids.command(`c${n}`),
      projectId: ids.project(`p${n}`),
      workspaceRoot: `/r/${n}`
    })
  ),
  {
    type: "thread.create",
    commandId: ids.command("c3"),
    threadId: ids.thread("t1"),
    projectId: ids.project("p1"),
    title: "First"
  },
  {
    type: "thread.create",
    commandId: ids.command("c4"),
    threadId: ids.thread("t2"),
    projectId: ids.project("p2"),
    title: "Second"
  }
]

/** Events after `from` (the model's sequence), decided for real; the projection rows they change. */
const batchOf = (from: ReadModel, cmds: ReadonlyArray<Command>): LogBatch => {
  let model = from
  const events: Array<SpindleEvent> = []
  const changed = new Map<string, AggregateRef>()
  for (const command of cmds) {
    const made = eventsOf(model, command)
    model = made.reduce(project, model)
    events.push(...made)
    for (const event of made) {
      const ref = aggregateOf(event)
      changed.set(`${ref.kind}:${ref.id}`, ref)
    }
  }
  // A thread no longer in the model: its row goes.
  changed.set("thread:gone", { kind: "thread", id: ids.thread("gone") })
  return {
    events,
    receipts: [
      ...cmds.map((command, i) => ({
        commandId: command.commandId,
        receipt: {
          status: "accepted" as const,
          commandType: command.type,
          payloadHash: `h${i}`,
          sequence: from.sequence + i + 1
        },
        recordedAt: AT
      })),
      {
        commandId: `refused-${from.sequence}`,
        receipt: {
          status: "rejected" as const,
          commandType: "thread.create",
          payloadHash: "hr",
          error: new SpindleError({
            reason: "conflict",
            message: "already there",
            threadId: ids.thread("t1")
          })
        },
        recordedAt: AT
      }
    ],
    secrets: [
      { projectId: "p1", secret: "first-secret", at: AT },
      { projectId: "p2", secret: "second-secret", at: AT },
      { projectId: "p2", secret: null, at: AT }
    ],
    model,
    changed
  }
}

const GONE_ROW =
  "INSERT INTO projection_threads (id, project_id, data, sequence) VALUES ('gone', 'p1', '{}', 0)"

/** What an effect failed with or died of. */
const failureOf = <A, E>(exit: Exit.Exit<A, E>) => {
  assert.isTrue(Exit.isFailure(exit), "expected a failure")
  if (!Exit.isFailure(exit)) return undefined
  const error = Cause.findError(exit.cause)
  if (Result.isSuccess(error)) return error.success as unknown
  const defect = Cause.findDefect(exit.cause)
  return Result.isSuccess(defect) ? defect.success : undefined
}

describe("sqliteBatch", () => {
  it.effect("writes the same rows as the stores do through effect/sql, and reads its receipts back", () =>
    Effect.gen(function* () {
      const direct = yield* database
      const stores = yield* database
      yield* direct.damage(GONE_ROW)
      yield* stores.damage(GONE_ROW)
      const batch = batchOf(emptyReadModel, commands)
      assert.strictEqual(batch.events.length, 4)

      yield* direct.direct.transaction((session) => writeBatch(session, batch))
      yield* stores.throughStores(batch)
      const written = yield* direct.dump
      assert.deepStrictEqual(written, yield* stores.dump)
      assert.strictEqual(written.events?.length, 4)
      assert.strictEqual(written.command_receipts?.length, 5)
      assert.deepStrictEqual(
        written.notify_secrets?.map((row) => (row as { project_id: string }).project_id),
        ["p1"]
      )
      assert.deepStrictEqual(
        written.projection_threads?.map((row) => (row as { id: string }).id),
        ["t1", "t2"]
      )

      // What the stores read back: the events, the model, the secret.
      assert.deepStrictEqual(yield* direct.events.readAfter(0, 10), batch.events)
      const loaded = yield* direct.projections.load
      assert.strictEqual(loaded?.sequence, 4)
      assert.deepStrictEqual([...HashMap.keys(loaded?.threads ?? HashMap.empty())].sort(), ["t1", "t2"])
      assert.strictEqual(yield* direct.secrets.get("p1"), "first-secret")
      assert.isUndefined(yield* direct.secrets.get("p2"))

      // Receipts read in one step, as the effect/sql reads decode them.
      const found = yield* direct.direct.transaction((session) =>
        readReceipts(session, ["c1", "refused-0", "missing"])
      )
      assert.deepStrictEqual([...found.keys()].sort(), ["c1", "refused-0"])
      assert.deepStrictEqual(found.get("c1"), yield* direct.receipts.get("c1"))
      const refused = found.get("refused-0")
      assert.instanceOf(refused?.status === "rejected" ? refused.error : undefined, SpindleError)
      assert.deepStrictEqual(refused, yield* direct.receipts.get("refused-0"))
      assert.strictEqual((yield* direct.direct.transaction((session) => readReceipts(session, []))).size, 0)

      // A damaged receipt is a CorruptRow naming it, never a wrong answer.
      yield* direct.damage("UPDATE command_receipts SET result_sequence = NULL WHERE command_id = 'c2'")
      const damaged = failureOf(
        yield* Effect.exit(direct.direct.transaction((session) => readReceipts(session, ["c1", "c2"])))
      )
      assert.instanceOf(damaged, CorruptRow)
      assert.strictEqual((damaged as CorruptRow).row, "command_id = c2")
    })
  )

  it.effect("writes all of a batch or nothing, and the connection goes on after a failed one", () =>
    Effect.gen(function* () {
      const db = yield* database
      const first = batchOf(emptyReadModel, commands.slice(0, 1))
      yield* db.direct.transaction((session) => writeBatch(session, first))
      const before = yield* db.dump

      // A receipt for a commandId already recorded: SQLite refuses the INSERT, after the events went in.
      const next = batchOf(first.model, commands.slice(1, 3))
      const repeated: LogBatch = { ...next, receipts: [...next.receipts, first.receipts[0]!] }
      const refused = failureOf(
        yield* Effect.exit(db.direct.transaction((session) => writeBatch(session, repeated)))
      )
      assert.strictEqual((refused as { _tag?: string })._tag, "SqlError")
      assert.deepStrictEqual(yield* db.dump, before)

      // Events numbered otherwise than the log's next ones: a CorruptRow, nothing written.
      const skipped: LogBatch = {
        ...next,
        events: next.events.map((event) => ({ ...event, sequence: event.sequence + 5 }) as SpindleEvent)
      }
      const misnumbered = failureOf(
        yield* Effect.exit(db.direct.transaction((session) => writeBatch(session, skipped)))
      )
      assert.instanceOf(misnumbered, CorruptRow)
      assert.include((misnumbered as CorruptRow).message, "numbered")
      assert.deepStrictEqual(yield* db.dump, before)

      // No transaction was left open: the next batch and an effect/sql transaction both commit.
      yield* db.direct.transaction((session) => writeBatch(session, next))
      yield* db.sql.withTransaction(db.secrets.write([{ projectId: "p2", secret: "later", at: AT }]))
      assert.strictEqual(yield* db.events.latestSequence, 3)
      assert.strictEqual(yield* db.secrets.get("p2"), "later")
    })
  )

  it.live("waits for another fiber's transaction on the connection instead of running inside it", () =>
    Effect.gen(function* () {
      const db = yield* database
      const holding = yield* Effect.forkChild(
        db.sql.withTransaction(
          Effect.gen(function* () {
            yield* db.secrets.write([{ projectId: "p1", secret: "inside", at: AT }])
            yield* Effect.sleep("100 millis")
            yield* db.secrets.write([{ projectId: "p2", secret: "inside-too", at: AT }])
          })
        )
      )
      yield* Effect.sleep("20 millis")
      const batch = batchOf(emptyReadModel, commands.slice(0, 2))
      yield* db.direct.transaction((session) => writeBatch(session, batch))
      // The batch waited for that transaction's end (its secrets were written after that
      // transaction's), and both committed whole.
      assert.isTrue(Exit.isSuccess(yield* Fiber.await(holding)))
      assert.strictEqual(yield* db.secrets.get("p1"), "first-secret")
      assert.isUndefined(yield* db.secrets.get("p2"))
      assert.strictEqual(yield* db.events.latestSequence, 2)
    })
  )
})
