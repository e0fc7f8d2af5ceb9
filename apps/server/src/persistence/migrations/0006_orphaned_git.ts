// Git processes a crash can orphan: the bootstrap journal records the process group of the
// `git worktree add` it runs, and a journal of worktree removals (archive, retention, `spindle
// worktrees --apply`) records each removal in flight with the outcome it is about to record, so a
// restart can wait for or end the git that was left running and then record what really happened.
import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"
import { dialect } from "../dialect.ts"

export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const d = dialect(sql)
  yield* sql`ALTER TABLE bootstrap_operations ADD COLUMN git_group TEXT`
  yield* sql`
    CREATE TABLE worktree_removals (
      command_id TEXT PRIMARY KEY,
      thread_id TEXT NOT NULL,
      repo TEXT NOT NULL,
      worktree_path TEXT NOT NULL,
      branch TEXT,
      planned TEXT NOT NULL,
      git_group TEXT,
      updated_at TEXT NOT NULL
    ) ${d.strictKeyed}`
})
