// Which host wrote each journal entry: a restart recovers only its own host's interrupted
// bootstraps and worktree removals (another host's worktrees are on another machine). Entries from
// before hosts were recorded have none and belong to whichever host runs.
import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"

export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE bootstrap_operations ADD COLUMN host_id TEXT`
  yield* sql`ALTER TABLE worktree_removals ADD COLUMN host_id TEXT`
})
