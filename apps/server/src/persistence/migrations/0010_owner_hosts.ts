// Which host issued each owner token: on a store several hosts share, each host keeps its own
// owner token (in its home), and issuing a new one revokes only that host's earlier ones. Tokens
// from before hosts were recorded have none and belong to whichever host runs.
import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"

export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE client_tokens ADD COLUMN host_id TEXT`
})
