// The journal of worktree removals (archive, retention, `spindle worktrees --apply`): written
// before `git worktree remove` runs, with the outcome about to be recorded on the thread and then
// the process group of that git, and forgotten once the outcome is recorded. A row left behind is a
// removal a crash interrupted; what to do with it is the archive recovery's.
import { WorktreeCleanup } from "@spindle/contracts"
import type { ProcessGroup } from "@spindle/shared/processGroup"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as SqlClient from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import * as SqlSchema from "effect/sql/SqlSchema"
import { GitGroupColumn } from "./BootstrapJournal.ts"
import { dieOnCorruptRow } from "./corruptRow.ts"
import { hostEntries } from "./hostEntries.ts"

export interface RemovalEntry {
  /** The command id the outcome is recorded with (thread.worktree.record). */
  readonly commandId: string
  readonly threadId: string
  readonly repo: string
  readonly worktreePath: string
  readonly branch: string | null
  /** The `removed` outcome as it was about to be recorded (head, what a forced removal loses). */
  readonly planned: WorktreeCleanup
  readonly gitGroup: ProcessGroup | null
}

const Row: Schema.Codec<RemovalEntry, Record<string, unknown>> = Schema.Struct({
  commandId: Schema.String,
  threadId: Schema.String,
  repo: Schema.String,
  worktreePath: Schema.String,
  branch: Schema.NullOr(Schema.String),
  planned: Schema.fromJsonString(WorktreeCleanup),
  gitGroup: GitGroupColumn
}).pipe(
  Schema.encodeKeys({
    commandId: "command_id",
    threadId: "thread_id",
    worktreePath: "worktree_path",
    gitGroup: "git_group"
  })
)

const Write = Schema.Struct({ entry: Row, at: Schema.String })
const SetGroup = Schema.Struct({ commandId: Schema.String, gitGroup: GitGroupColumn, at: Schema.String })

export class WorktreeRemovals extends Context.Service<
  WorktreeRemovals,
  {
    readonly begin: (entry: RemovalEntry, at: string) => Effect.Effect<void, SqlError>
    readonly recordGroup: (
      commandId: string,
      group: ProcessGroup,
      at: string
    ) => Effect.Effect<void, SqlError>
    /** The outcome is recorded on the thread: nothing is left to recover. */
    readonly finish: (commandId: string) => Effect.Effect<void, SqlError>
    /** Removals a crash interrupted. */
    readonly inFlight: Effect.Effect<ReadonlyArray<RemovalEntry>, SqlError>
  }
>()("spindle/persistence/WorktreeRemovals") {
  static readonly layer = Layer.effect(
    WorktreeRemovals,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const { hostId, ours } = yield* hostEntries
      const table = "worktree_removals"

      const insert = SqlSchema.void({
        Request: Write,
        // A removal retried under the same command id starts over.
        execute: ({ entry, at }) =>
          sql`INSERT INTO worktree_removals ${sql.insert({ ...entry, updated_at: at, host_id: hostId })}
            ON CONFLICT (command_id) DO UPDATE SET thread_id = excluded.thread_id, repo = excluded.repo,
              worktree_path = excluded.worktree_path, branch = excluded.branch, planned = excluded.planned,
              git_group = excluded.git_group, updated_at = excluded.updated_at, host_id = excluded.host_id`
      })
      const setGroup = SqlSchema.void({
        Request: SetGroup,
        execute: ({ commandId, gitGroup, at }) =>
          sql`UPDATE worktree_removals SET ${sql.update({ git_group: gitGroup, updated_at: at })} WHERE command_id = ${commandId}`
      })
      const findAll = SqlSchema.findAll({
        Request: Schema.Void,
        Result: Row,
        execute: () => sql`SELECT * FROM worktree_removals WHERE ${ours} ORDER BY updated_at`
      })

      const begin = Effect.fn("WorktreeRemovals.begin")(function* (entry: RemovalEntry, at: string) {
        yield* insert({ entry, at }).pipe(dieOnCorruptRow(table, `new command_id = ${entry.commandId}`))
      })
      const recordGroup = Effect.fn("WorktreeRemovals.recordGroup")(function* (
        commandId: string,
        gitGroup: ProcessGroup,
        at: string
      ) {
        yield* setGroup({ commandId, gitGroup, at }).pipe(dieOnCorruptRow(table, `command_id = ${commandId}`))
      })
      const finish = Effect.fn("WorktreeRemovals.finish")(function* (commandId: string) {
        yield* sql`DELETE FROM worktree_removals WHERE command_id = ${commandId}`
      })
      const inFlight = findAll(undefined).pipe(
        dieOnCorruptRow(table, "in flight"),
        Effect.withSpan("WorktreeRemovals.inFlight")
      )
      return { begin, recordGroup, finish, inFlight }
    })
  )
}
