// The bootstrap journal: one row per bootstrap, written before each side-effecting step, so a
// restart can finish or roll back what a crash interrupted.
import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"
import { dialect } from "../dialect.ts"

export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const d = dialect(sql)
  yield* sql`
    CREATE TABLE bootstrap_operations (
      command_id TEXT PRIMARY KEY,
      payload_hash TEXT NOT NULL,
      thread_id TEXT NOT NULL,
      project_id TEXT NOT NULL,
      repo TEXT NOT NULL,
      mode TEXT NOT NULL,
      stage TEXT NOT NULL,
      branch TEXT,
      worktree_path TEXT,
      prompt TEXT NOT NULL,
      turn_id TEXT NOT NULL,
      created_by_us INTEGER NOT NULL DEFAULT 0,
      result TEXT,
      error TEXT,
      updated_at TEXT NOT NULL
    ) ${d.strictKeyed}`
  yield* sql`CREATE INDEX bootstrap_operations_by_stage ON bootstrap_operations (stage)`
})
