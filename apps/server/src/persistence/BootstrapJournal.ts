// The bootstrap journal: what each bootstrap was about to do or had done, written before every
// side-effecting step. It records; deciding what to do with an interrupted entry is Recovery's.
import type { BootstrapResult } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as SqlClient from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"

/** Where a bootstrap stands. Every stage but the last three means "in flight". */
export type JournalStage =
  | "creating-thread"
  | "creating-worktree"
  | "workspace-ready"
  | "running-setup"
  | "requesting-turn"
  | "done"
  | "failed"

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
}

interface Row {
  readonly command_id: string
  readonly payload_hash: string
  readonly thread_id: string
  readonly project_id: string
  readonly repo: string
  readonly mode: string
  readonly stage: JournalStage
  readonly branch: string | null
  readonly worktree_path: string | null
  readonly prompt: string
  readonly turn_id: string
  readonly created_by_us: number
  readonly result: string | null
  readonly error: string | null
}

const fromRow = (row: Row): JournalEntry => ({
  commandId: row.command_id,
  payloadHash: row.payload_hash,
  threadId: row.thread_id,
  projectId: row.project_id,
  repo: row.repo,
  mode: row.mode,
  stage: row.stage,
  branch: row.branch,
  worktreePath: row.worktree_path,
  prompt: row.prompt,
  turnId: row.turn_id,
  createdByUs: row.created_by_us === 1,
  result: row.result === null ? null : JSON.parse(row.result),
  error: row.error === null ? null : JSON.parse(row.error)
})

export type JournalPatch = Partial<
  Pick<JournalEntry, "stage" | "branch" | "worktreePath" | "createdByUs" | "result" | "error">
>

export class BootstrapJournal extends Context.Service<
  BootstrapJournal,
  {
    readonly get: (commandId: string) => Effect.Effect<JournalEntry | undefined, SqlError>
    readonly begin: (entry: JournalEntry, at: string) => Effect.Effect<void, SqlError>
    readonly update: (commandId: string, patch: JournalPatch, at: string) => Effect.Effect<void, SqlError>
    /** Forgets a bootstrap that was refused before it made anything (still `creating-thread`). */
    readonly discard: (commandId: string) => Effect.Effect<void, SqlError>
    /** Entries not done or failed: what a crash interrupted. */
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

      const get = Effect.fn("BootstrapJournal.get")(function* (commandId: string) {
        const rows = yield* sql<Row>`SELECT * FROM bootstrap_operations WHERE command_id = ${commandId}`
        return rows[0] === undefined ? undefined : fromRow(rows[0])
      })

      const begin = Effect.fn("BootstrapJournal.begin")(function* (entry: JournalEntry, at: string) {
        yield* sql`
          INSERT INTO bootstrap_operations (command_id, payload_hash, thread_id, project_id, repo, mode, stage,
            branch, worktree_path, prompt, turn_id, created_by_us, result, error, updated_at)
          VALUES (${entry.commandId}, ${entry.payloadHash}, ${entry.threadId}, ${entry.projectId}, ${entry.repo},
            ${entry.mode}, ${entry.stage}, ${entry.branch}, ${entry.worktreePath}, ${entry.prompt}, ${entry.turnId},
            ${entry.createdByUs ? 1 : 0},
            ${entry.result === null ? null : JSON.stringify(entry.result)},
            ${entry.error === null ? null : JSON.stringify(entry.error)}, ${at})`
      })

      const update = Effect.fn("BootstrapJournal.update")(function* (
        commandId: string,
        patch: JournalPatch,
        at: string
      ) {
        const current = yield* get(commandId)
        if (current === undefined) return
        const next = { ...current, ...patch }
        yield* sql`
          UPDATE bootstrap_operations SET stage = ${next.stage}, branch = ${next.branch},
            worktree_path = ${next.worktreePath}, created_by_us = ${next.createdByUs ? 1 : 0},
            result = ${next.result === null ? null : JSON.stringify(next.result)},
            error = ${next.error === null ? null : JSON.stringify(next.error)}, updated_at = ${at}
          WHERE command_id = ${commandId}`
      })

      const discard = Effect.fn("BootstrapJournal.discard")(function* (commandId: string) {
        yield* sql`DELETE FROM bootstrap_operations WHERE command_id = ${commandId} AND stage = 'creating-thread'`
      })

      const inFlight = Effect.map(
        sql<Row>`SELECT * FROM bootstrap_operations WHERE stage NOT IN ('done', 'failed') ORDER BY updated_at`,
        (rows) => rows.map(fromRow)
      )

      const createdBranches = sql<{ readonly repo: string; readonly branch: string }>`
        SELECT repo, branch FROM bootstrap_operations WHERE created_by_us = 1 AND branch IS NOT NULL`

      return { get, begin, update, discard, inFlight, createdBranches }
    })
  )
}
