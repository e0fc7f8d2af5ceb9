// The persisted read model (projects, threads) and the last sequence folded into it. Written in
// the same transaction as the events, so after a crash it is never ahead of or behind the log
// except where catch-up says so. Rows are decoded by schema; one that does not decode makes
// `load` answer undefined (logged), so the engine rebuilds the projection from the log.
import { Project, Thread } from "@spindle/contracts"
import { type AggregateRef, emptyReadModel, queueOf, type ReadModel } from "@spindle/read-model"
import * as Arr from "effect/Array"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as SqlClient from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import * as SqlSchema from "effect/sql/SqlSchema"
import { dialect } from "./dialect.ts"

const State = Schema.Struct({ lastSequence: Schema.Int }).pipe(
  Schema.encodeKeys({ lastSequence: "last_sequence" })
)
const ProjectRow = Schema.Struct({ data: Schema.fromJsonString(Project) })
const ThreadRow = Schema.Struct({ data: Schema.fromJsonString(Thread) })

/** Rows per upsert: four parameters each, well under SQLite's limit on a statement's parameters. */
export const SAVE_CHUNK = 500

/** One projection table's writes: rows to upsert (id, its one extra column, data, sequence) and ids to delete. */
export interface TableWrites {
  readonly name: string
  /** The table's one column besides id, data and sequence (what the reads filter on). */
  readonly column: string
  readonly rows: Array<Record<string, string | number>>
  readonly gone: Array<string>
}

/** The projection rows to write for the `changed` aggregates as they are in `model`, by table. */
export const projectionRows = (
  model: ReadModel,
  changed: Iterable<AggregateRef>
): ReadonlyArray<TableWrites> => {
  const projects: TableWrites = { name: "projection_projects", column: "workspace_root", rows: [], gone: [] }
  const threads: TableWrites = { name: "projection_threads", column: "project_id", rows: [], gone: [] }
  const keep = (table: TableWrites, id: string, data: unknown, extra: string) =>
    data === undefined
      ? table.gone.push(id)
      : table.rows.push({ id, [table.column]: extra, data: JSON.stringify(data), sequence: model.sequence })
  for (const ref of changed) {
    if (ref.kind === "project") {
      const project = Option.getOrUndefined(HashMap.get(model.projects, ref.id))
      keep(projects, ref.id, project, project?.workspaceRoot ?? "")
    } else {
      const thread = Option.getOrUndefined(HashMap.get(model.threads, ref.id))
      keep(threads, ref.id, thread, thread?.projectId ?? "")
    }
  }
  return [projects, threads]
}

/** The name of the read model's row in projection_state. */
export const PROJECTION = "read-model"

export class ProjectionStore extends Context.Service<
  ProjectionStore,
  {
    /** The stored read model, or `undefined` when a row no longer decodes (rebuild from the log). */
    readonly load: Effect.Effect<ReadModel | undefined, SqlError>
    /** Writes the given aggregates as they are in `model`, and `model.sequence`; inside a transaction. */
    readonly save: (model: ReadModel, changed: Iterable<AggregateRef>) => Effect.Effect<void, SqlError>
    /** Empties the projection so it can be rebuilt from sequence 0. */
    readonly reset: Effect.Effect<void, SqlError>
  }
>()("spindle/persistence/ProjectionStore") {
  static readonly layer = Layer.effect(
    ProjectionStore,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const { together } = dialect(sql)

      const findState = SqlSchema.findOneOption({
        Request: Schema.Void,
        Result: State,
        execute: () => sql`SELECT last_sequence FROM projection_state WHERE name = ${PROJECTION}`
      })
      const findProjects = SqlSchema.findAll({
        Request: Schema.Void,
        Result: ProjectRow,
        execute: () => sql`SELECT data FROM projection_projects`
      })
      const findThreads = SqlSchema.findAll({
        Request: Schema.Void,
        Result: ThreadRow,
        execute: () => sql`SELECT data FROM projection_threads`
      })

      const load = Effect.gen(function* () {
        const state = yield* findState(undefined)
        const projects = yield* findProjects(undefined)
        const threads = yield* findThreads(undefined)
        const byId = HashMap.fromIterable(threads.map(({ data }) => [data.id, data] as const))
        const model: ReadModel = {
          ...emptyReadModel,
          sequence: Option.match(state, { onNone: () => 0, onSome: (row) => row.lastSequence }),
          projects: HashMap.fromIterable(projects.map(({ data }) => [data.id, data] as const)),
          threads: byId,
          queue: queueOf(byId)
        }
        return model
      }).pipe(
        Effect.catchTag("SchemaError", (error) =>
          Effect.as(
            Effect.logWarning("A stored projection row does not decode").pipe(
              Effect.annotateLogs({ issue: error.message })
            ),
            undefined
          )
        ),
        Effect.withSpan("ProjectionStore.load")
      )

      // Writes store the model's JSON as it is: the projector's output is trusted here, and
      // `load` checks it on the way back. One upsert per table for the rows still there, one delete
      // for those gone: a batch writes the same few statements however many it changed.
      const save = Effect.fn("ProjectionStore.save")(function* (
        model: ReadModel,
        changed: Iterable<AggregateRef>
      ) {
        const tables = projectionRows(model, changed)
        const statements: Array<Effect.Effect<unknown, SqlError>> = []
        for (const { name, column, rows, gone } of tables) {
          for (const chunk of Arr.chunksOf(rows, SAVE_CHUNK))
            statements.push(sql`INSERT INTO ${sql(name)} ${sql.insert(chunk)}
                ON CONFLICT (id) DO UPDATE SET ${sql(column)} = ${sql.literal(`excluded.${column}`)},
                  data = excluded.data, sequence = excluded.sequence`)
          if (gone.length > 0) statements.push(sql`DELETE FROM ${sql(name)} WHERE ${sql.in("id", gone)}`)
        }
        statements.push(sql`INSERT INTO projection_state (name, last_sequence) VALUES (${PROJECTION}, ${model.sequence})
          ON CONFLICT (name) DO UPDATE SET last_sequence = excluded.last_sequence`)
        yield* Effect.all(statements, { concurrency: together, discard: true })
      })

      const reset = Effect.gen(function* () {
        yield* sql`DELETE FROM projection_projects`
        yield* sql`DELETE FROM projection_threads`
        yield* sql`DELETE FROM projection_state WHERE name = ${PROJECTION}`
      })

      return { load, save, reset }
    })
  )
}
