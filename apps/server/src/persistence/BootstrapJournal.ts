// The bootstrap journal: what each bootstrap was about to do or had done, written before every
// side-effecting step. It records; deciding what to do with an interrupted entry is Recovery's.
// Rows go in and out through one schema (`created_by_us` a 0/1 bit, `result` and `error` JSON);
// a row that does not decode dies as a `CorruptRow`.
import { BootstrapResult } from "@spindle/contracts"
import type { ProcessGroup } from "@spindle/shared/processGroup"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as SqlClient from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import * as SqlSchema from "effect/sql/SqlSchema"
import { dieOnCorruptRow } from "./corruptRow.ts"
import { hostEntries } from "./hostEntries.ts"

/**
 * Where a bootstrap stands. `queued`: its thread waits in the queue and nothing was made yet (not
 * in flight). Every other stage but the last two means "in flight".
 */
export const JournalStage = Schema.Literals([
  "queued",
  "creating-thread",
  "creating-worktree",
  "workspace-ready",
  "running-setup",
  "requesting-turn",
  "done",
  "failed"
])
export type JournalStage = typeof JournalStage.Type

export interface JournalEntry {
  readonly commandId: string
  readonly payloadHash: string
  readonly threadId: string
  readonly projectId: string
  readonly repo: string
  readonly mode: string
  readonly stage: JournalStage
  /** The branch this bootstrap creates (new_worktree), known before git runs. */
  readonly branch: string | null
  readonly worktreePath: string | null
  /** The first prompt and its turn id, so recovery can still request the turn. */
  readonly prompt: string
  readonly turnId: string
  readonly createdByUs: boolean
  readonly result: BootstrapResult | null
  readonly error: { readonly reason: string; readonly message: string } | null
  /** The process group of the `git worktree add` this bootstrap ran, recorded before git started. */
  readonly gitGroup: ProcessGroup | null
}

/** A process group as the journals store it (JSON in a TEXT column). */
export const GitGroupColumn = Schema.NullOr(
  Schema.fromJsonString(Schema.Struct({ pgid: Schema.Number, startTime: Schema.NullOr(Schema.String) }))
)

/** A `bootstrap_operations` row (without `updated_at`) as a `JournalEntry`. */
const Row: Schema.Codec<JournalEntry, Record<string, unknown>> = Schema.Struct({
  commandId: Schema.String,
  payloadHash: Schema.String,
  threadId: Schema.String,
  projectId: Schema.String,
  repo: Schema.String,
  mode: Schema.String,
  stage: JournalStage,
  branch: Schema.NullOr(Schema.String),
  worktreePath: Schema.NullOr(Schema.String),
  prompt: Schema.String,
  turnId: Schema.String,
  createdByUs: Schema.BooleanFromBit,
  result: Schema.NullOr(Schema.fromJsonString(BootstrapResult)),
  error: Schema.NullOr(
    Schema.fromJsonString(Schema.Struct({ reason: Schema.String, message: Schema.String }))
  ),
  gitGroup: GitGroupColumn
}).pipe(
  Schema.encodeKeys({
    commandId: "command_id",
    payloadHash: "payload_hash",
    threadId: "thread_id",
    projectId: "project_id",
    worktreePath: "worktree_path",
    turnId: "turn_id",
    createdByUs: "created_by_us",
    gitGroup: "git_group"
  })
)

const Write = Schema.Struct({ entry: Row, at: Schema.String })

const CreatedBranch = Schema.Struct({ repo: Schema.String, branch: Schema.String })

/** The columns `update` may change, besides `updated_at`. */
const MUTABLE = [
  "stage",
  "repo",
  "branch",
  "worktree_path",
  "created_by_us",
  "result",
  "error",
  "git_group"
] as const

export type JournalPatch = Partial<
  Pick<
    JournalEntry,
    "stage" | "repo" | "branch" | "worktreePath" | "createdByUs" | "result" | "error" | "gitGroup"
  >
>

export class BootstrapJournal extends Context.Service<
  BootstrapJournal,
  {
    readonly get: (commandId: string) => Effect.Effect<JournalEntry | undefined, SqlError>
    /** The thread's first bootstrap (its first prompt), if a bootstrap made it. */
    readonly firstOf: (threadId: string) => Effect.Effect<JournalEntry | undefined, SqlError>
    readonly begin: (entry: JournalEntry, at: string) => Effect.Effect<void, SqlError>
    readonly update: (commandId: string, patch: JournalPatch, at: string) => Effect.Effect<void, SqlError>
    /**
     * Takes a queued entry for this host, moving it to `creating-thread` with its checkout and
     * branch here: true when it was still queued, false when another host took it first (one
     * statement, so two hosts cannot both take it).
     */
    readonly claimQueued: (
      commandId: string,
      patch: { readonly repo: string; readonly branch: string | null },
      at: string
    ) => Effect.Effect<boolean, SqlError>
    /** Forgets a bootstrap that was refused before it made anything (still `creating-thread`). */
    readonly discard: (commandId: string) => Effect.Effect<void, SqlError>
    /** Entries not done, failed or queued: what a crash interrupted. */
    readonly inFlight: Effect.Effect<ReadonlyArray<JournalEntry>, SqlError>
    /** Every branch a bootstrap created, with its repository (to recognise our own worktrees). */
    readonly createdBranches: Effect.Effect<
      ReadonlyArray<{ readonly repo: string; readonly branch: string }>,
      SqlError
    >
  }
>()("spindle/persistence/BootstrapJournal") {
  static readonly layer = Layer.effect(
    BootstrapJournal,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const { hostId, ours } = yield* hostEntries
      const table = "bootstrap_operations"

      const findOne = SqlSchema.findOneOption({
        Request: Schema.String,
        Result: Row,
        execute: (commandId) => sql`SELECT * FROM bootstrap_operations WHERE command_id = ${commandId}`
      })
      const findFirstOf = SqlSchema.findOneOption({
        Request: Schema.String,
        Result: Row,
        execute: (threadId) =>
          sql`SELECT * FROM bootstrap_operations WHERE thread_id = ${threadId} ORDER BY updated_at LIMIT 1`
      })
      const findInFlight = SqlSchema.findAll({
        Request: Schema.Void,
        Result: Row,
        execute: () =>
          sql`SELECT * FROM bootstrap_operations WHERE stage NOT IN ('done', 'failed', 'queued') AND ${ours} ORDER BY updated_at`
      })
      const findCreatedBranches = SqlSchema.findAll({
        Request: Schema.Void,
        Result: CreatedBranch,
        execute: () =>
          sql`SELECT repo, branch FROM bootstrap_operations WHERE created_by_us = 1 AND branch IS NOT NULL`
      })
      const insert = SqlSchema.void({
        Request: Write,
        execute: ({ entry, at }) =>
          sql`INSERT INTO bootstrap_operations ${sql.insert({ ...entry, updated_at: at, host_id: hostId })}`
      })
      const write = SqlSchema.void({
        Request: Write,
        execute: ({ entry, at }) => {
          // The host that goes on with an entry owns it now (a queued start another host took).
          const changed: Record<string, unknown> =
            hostId === null ? { updated_at: at } : { updated_at: at, host_id: hostId }
          for (const column of MUTABLE) changed[column] = entry[column]
          return sql`UPDATE bootstrap_operations SET ${sql.update(changed)} WHERE command_id = ${entry.command_id}`
        }
      })

      const get = Effect.fn("BootstrapJournal.get")(function* (commandId: string) {
        const found = yield* findOne(commandId).pipe(dieOnCorruptRow(table, `command_id = ${commandId}`))
        return Option.getOrUndefined(found)
      })

      const firstOf = Effect.fn("BootstrapJournal.firstOf")(function* (threadId: string) {
        const found = yield* findFirstOf(threadId).pipe(dieOnCorruptRow(table, `thread_id = ${threadId}`))
        return Option.getOrUndefined(found)
      })

      const begin = Effect.fn("BootstrapJournal.begin")(function* (entry: JournalEntry, at: string) {
        yield* insert({ entry, at }).pipe(dieOnCorruptRow(table, `new command_id = ${entry.commandId}`))
      })

      const update = Effect.fn("BootstrapJournal.update")(function* (
        commandId: string,
        patch: JournalPatch,
        at: string
      ) {
        const current = yield* get(commandId)
        if (current === undefined) return
        yield* write({ entry: { ...current, ...patch }, at }).pipe(
          dieOnCorruptRow(table, `command_id = ${commandId}`)
        )
      })

      const claimQueued = Effect.fn("BootstrapJournal.claimQueued")(function* (
        commandId: string,
        patch: { readonly repo: string; readonly branch: string | null },
        at: string
      ) {
        const rows = yield* sql<{ readonly command_id: string }>`
          UPDATE bootstrap_operations
          SET stage = 'creating-thread', repo = ${patch.repo}, branch = ${patch.branch},
            worktree_path = NULL, updated_at = ${at}, host_id = ${hostId}
          WHERE command_id = ${commandId} AND stage = 'queued'
          RETURNING command_id`
        return rows.length > 0
      })

      const discard = Effect.fn("BootstrapJournal.discard")(function* (commandId: string) {
        yield* sql`DELETE FROM bootstrap_operations WHERE command_id = ${commandId} AND stage = 'creating-thread'`
      })

      const inFlight = findInFlight(undefined).pipe(
        dieOnCorruptRow(table, "in flight"),
        Effect.withSpan("BootstrapJournal.inFlight")
      )

      const createdBranches = findCreatedBranches(undefined).pipe(
        dieOnCorruptRow(table, "created branches"),
        Effect.withSpan("BootstrapJournal.createdBranches")
      )

      return { get, firstOf, begin, update, claimQueued, discard, inFlight, createdBranches }
    })
  )
}
