// Provider session tokens: one row per token with only its SHA-256 hash, never the token itself.
// Owns the table; issuing, resolving and revoking tokens is auth/ProviderTokens'.
import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"
import { dialect } from "../dialect.ts"

export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const d = dialect(sql)
  yield* sql`
    CREATE TABLE provider_tokens (
      id TEXT PRIMARY KEY,
      token_hash TEXT NOT NULL UNIQUE,
      thread_id TEXT NOT NULL,
      project_id TEXT NOT NULL,
      provider_session_id TEXT NOT NULL,
      capabilities TEXT NOT NULL, -- JSON array of capability names
      issued_at TEXT NOT NULL,
      expires_at TEXT NOT NULL,
      last_used_at TEXT,
      revoked_at TEXT${d.insertionColumn}
    ) ${d.strict}`
  yield* sql`CREATE INDEX provider_tokens_thread_id ON provider_tokens (thread_id)`
  yield* sql`CREATE INDEX provider_tokens_provider_session_id ON provider_tokens (provider_session_id)`
})
