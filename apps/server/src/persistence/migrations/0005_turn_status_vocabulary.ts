// Bootstrap results recorded before the one turn vocabulary said `turn.status: "started"` for what
// is now `requested`; rewrite them so a repeated commandId answers in today's words.
import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"

export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    UPDATE bootstrap_operations
    SET result = replace(result, '"turn":{"status":"started"}', '"turn":{"status":"requested"}')
    WHERE result LIKE '%"turn":{"status":"started"}%'`
})
