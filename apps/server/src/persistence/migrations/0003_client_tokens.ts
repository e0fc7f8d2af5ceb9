// Client tokens: one row per token with only its SHA-256 hash, never the token itself. Owns the
// table; issuing, resolving and revoking tokens is auth/ClientTokens'.
import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"
import { dialect } from "../dialect.ts"

export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const d = dialect(sql)
  yield* sql`
    CREATE TABLE client_tokens (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      token_hash TEXT NOT NULL UNIQUE,
      scopes TEXT NOT NULL, -- JSON array of scope names
      owner INTEGER NOT NULL DEFAULT 0,
      created_at TEXT NOT NULL,
      expires_at TEXT,
      revoked_at TEXT,
      last_used_at TEXT${d.insertionColumn}
    ) ${d.strict}`
})
