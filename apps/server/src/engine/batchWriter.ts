// How the writer's batch reaches the store: decided in memory (batchDecision.ts), then written in
// one transaction, the same rows either way. Through effect/sql on any store: one transaction from
// the log's lock (on a shared log, with what the other hosts appended read under it first) to the
// last write. On the embedded store, where this server is the only writer: the receipts read, the
// batch decided and its writes made in one synchronous transaction (persistence/sqliteBatch.ts),
// without effect/sql's work per statement, which was most of a command's time there.
import type { Actor, Command, SpindleEvent } from "@spindle/contracts"
import { project, type ReadModel } from "@spindle/read-model"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as SqlClient from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import { CurrentHost } from "../config/HostIdentity.ts"
import { AdmissionLimits } from "../config/ServerConfig.ts"
import { CommandReceipts } from "../persistence/CommandReceipts.ts"
import { dialect } from "../persistence/dialect.ts"
import { EventStore } from "../persistence/EventStore.ts"
import { LogSignals } from "../persistence/LogSignals.ts"
import { NotifySecrets } from "../persistence/NotifySecrets.ts"
import { ProjectionStore } from "../persistence/ProjectionStore.ts"
import { SqliteDirect } from "../persistence/SqliteDirect.ts"
import { readReceipts, writeBatch } from "../persistence/sqliteBatch.ts"
import { batchClock, type Decided, decideBatch, makeApply, receiptIds } from "./batchDecision.ts"

const PAGE_SIZE = 500

type Batch = ReadonlyArray<{ readonly command: Command; readonly actor: Actor }>

export const makeBatchWriter = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const eventStore = yield* EventStore
  const receipts = yield* CommandReceipts
  const projections = yield* ProjectionStore
  const secrets = yield* NotifySecrets
  const signals = yield* LogSignals
  const direct = yield* Effect.serviceOption(SqliteDirect)
  const { lockLog, together } = dialect(sql)
  const apply = makeApply({ limits: yield* AdmissionLimits, host: yield* CurrentHost })

  /**
   * What other writers of a shared log appended after `current`, folded in: read under the log's
   * lock inside a batch, so a decision sees every event before its own (and by the engine between
   * its own writes). Only on a shared log (Postgres); SQLite has no other writer.
   */
  const foldForeign = (current: ReadModel) =>
    Effect.gen(function* () {
      const foreign: Array<SpindleEvent> = []
      let next = current
      while (true) {
        const page: ReadonlyArray<SpindleEvent> = yield* eventStore.readAfter(next.sequence, PAGE_SIZE)
        for (const event of page) next = project(next, event)
        foreign.push(...page)
        if (page.length < PAGE_SIZE) break
      }
      return { model: next, events: foreign }
    })

  const throughSql = (batch: Batch, current: ReadModel) =>
    sql.withTransaction(
      Effect.gen(function* () {
        if (signals.shared) yield* lockLog
        const [folded, found] = yield* Effect.all(
          [
            signals.shared ? foldForeign(current) : Effect.succeed(undefined),
            receipts.getMany(receiptIds(batch))
          ],
          { concurrency: together }
        )
        const decided = decideBatch(apply, batch, folded?.model ?? current, new Map(found), yield* batchClock)
        const { writes } = decided
        yield* Effect.all(
          [
            eventStore.append(writes.events),
            receipts.recordMany(writes.receipts),
            secrets.write(writes.secrets),
            writes.changed.size > 0 ? projections.save(decided.model, writes.changed.values()) : Effect.void
          ],
          { concurrency: together, discard: true }
        )
        return { ...decided, foreign: folded?.events ?? [] }
      })
    )

  const inOneStep = (sqlite: SqliteDirect["Service"]) => (batch: Batch, current: ReadModel) =>
    Effect.flatMap(batchClock, (clock) =>
      sqlite.transaction((session) => {
        const known = readReceipts(session, receiptIds(batch))
        const decided = decideBatch(apply, batch, current, known, clock)
        writeBatch(session, { ...decided.writes, model: decided.model })
        return { ...decided, foreign: [] }
      })
    )

  const decideAndWrite: (
    batch: Batch,
    current: ReadModel
  ) => Effect.Effect<Decided & { readonly foreign: ReadonlyArray<SpindleEvent> }, SqlError> =
    Option.isSome(direct) && !signals.shared ? inOneStep(direct.value) : throughSql

  return {
    foldForeign,
    /**
     * Decides the batch against `current` (after what other hosts appended, on a shared log) and
     * writes it in one transaction; answers the outcomes, the model after, and the foreign events.
     */
    decideAndWrite
  }
})
