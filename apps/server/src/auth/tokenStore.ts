// What both token kinds share over their table: the secret and its SHA-256 (only the hash is
// stored), ids, finding a row by a presented token in constant time, the revoked / expired / idle
// checks, last-use bookkeeping, revoking and listing, with rows decoded by SqlSchema. Each kind
// (ClientTokens, ProviderTokens) brings its row schema, its insert and its wording.
import { randomBytes } from "node:crypto"
import { SpindleError } from "@spindle/contracts"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Schema from "effect/Schema"
import type * as SqlClient from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import * as SqlSchema from "effect/sql/SqlSchema"
import { dialect } from "../persistence/dialect.ts"
import { sameHash, sha256 } from "./tokenHash.ts"

/** The columns every token table has, as decoded. */
export interface StoredToken {
  readonly id: string
  readonly tokenHash: string
  readonly expiresAt: string | null
  readonly revokedAt: string | null
  readonly lastUsedAt: string | null
}

/** How the shared columns are spelled in SQL, for `encodeKeys` in each kind's row schema. */
export const STORED_TOKEN_COLUMNS = {
  tokenHash: "token_hash",
  expiresAt: "expires_at",
  revokedAt: "revoked_at",
  lastUsedAt: "last_used_at"
} as const

/** What a presented token is refused with; each kind says what to do in its own words. */
export interface RefusalMessages<Row> {
  readonly missing: string
  readonly malformed: string
  readonly unknown: string
  readonly revoked: (row: Row) => string
  readonly expired: (row: Row) => string
  readonly idle: (row: Row, lastUse: string) => string
}

export interface TokenKind<Row extends StoredToken> {
  readonly table: "client_tokens" | "provider_tokens"
  /** For log lines, e.g. "client token". */
  readonly label: string
  /** The secret is this prefix and base64url of 32 random bytes (256 bits). */
  readonly secretPrefix: string
  /** The public id is this prefix and 12 lowercase hex digits. */
  readonly idPrefix: string
  readonly Row: Schema.ConstraintDecoder<Row>
  /** When the token was issued: the column that orders listings, and its decoded value. */
  readonly issuedColumn: "created_at" | "issued_at"
  readonly issuedAt: (row: Row) => string
  /** Refuse a token unused this long (counted from issue); undefined: no idle timeout. */
  readonly idleTimeoutMs?: number
  /** `last_used_at` is written at most this often per token, not on every request. */
  readonly lastUsedResolutionMs: number
  readonly refuse: RefusalMessages<Row>
}

const millis = (iso: string) => DateTime.toEpochMillis(DateTime.makeUnsafe(iso))

const unauthorized = (message: string) => new SpindleError({ reason: "unauthorized", message })

/** A stored row that does not decode is a broken database, not a caller's mistake. */
const rowsOrDie = <A, E, R>(effect: Effect.Effect<A, E | Schema.SchemaError, R>) =>
  Effect.catchTag(effect as Effect.Effect<A, Schema.SchemaError, R>, "SchemaError", (error) =>
    Effect.die(error)
  ) as Effect.Effect<A, Exclude<E, Schema.SchemaError>, R>

const Revoked = Schema.Struct({ id: Schema.String })

export const makeTokenStore = <Row extends StoredToken>(sql: SqlClient.SqlClient, kind: TokenKind<Row>) => {
  const table = sql(kind.table)
  const issuedColumn = sql(kind.issuedColumn)
  const { insertionOrder } = dialect(sql)
  const secretPattern = new RegExp(`^${kind.secretPrefix}[A-Za-z0-9_-]{43}$`, "u")
  const idPattern = new RegExp(`^${kind.idPrefix}[0-9a-f]{12}$`, "u")

  const findByHash = SqlSchema.findOneOption({
    Request: Schema.String,
    Result: kind.Row,
    execute: (hash) => sql`SELECT * FROM ${table} WHERE token_hash = ${hash}`
  })
  const findById = SqlSchema.findOneOption({
    Request: Schema.String,
    Result: kind.Row,
    execute: (id) => sql`SELECT * FROM ${table} WHERE id = ${id}`
  })
  const listAll = SqlSchema.findAll({
    Request: Schema.Void,
    Result: kind.Row,
    execute: () => sql`SELECT * FROM ${table} ORDER BY ${issuedColumn} DESC, ${insertionOrder} DESC`
  })
  const listWhere = SqlSchema.findAll({
    Request: Schema.Struct({ column: Schema.String, value: Schema.String }),
    Result: kind.Row,
    execute: ({ column, value }) =>
      sql`SELECT * FROM ${table} WHERE ${sql(column)} = ${value} ORDER BY ${issuedColumn} DESC, ${insertionOrder} DESC`
  })
  const revokeLiveWhere = SqlSchema.findAll({
    Request: Schema.Struct({ column: Schema.String, value: Schema.String, now: Schema.String }),
    Result: Revoked,
    execute: ({ column, value, now }) =>
      sql`UPDATE ${table} SET revoked_at = ${now} WHERE ${sql(column)} = ${value} AND revoked_at IS NULL RETURNING id`
  })

  /** A new secret and the hex hash to store in its place. */
  const newSecret = () => {
    const token = `${kind.secretPrefix}${randomBytes(32).toString("base64url")}`
    return { token, hash: sha256(token).toString("hex") }
  }

  const newId = Effect.map(
    Effect.all([Random.nextIntBetween(0, 0xffffff), Random.nextIntBetween(0, 0xffffff)]),
    ([high, low]) =>
      `${kind.idPrefix}${high.toString(16).padStart(6, "0")}${low.toString(16).padStart(6, "0")}`
  )

  const isSecretShaped = (token: string) => secretPattern.test(token)
  const isId = (id: string) => idPattern.test(id)

  /** The row whose hash matches, compared in constant time (the SQL lookup alone is not). */
  const findByToken = (token: string): Effect.Effect<Row | undefined, SqlError> => {
    const computed = sha256(token)
    return rowsOrDie(findByHash(computed.toString("hex"))).pipe(
      Effect.map((found) =>
        Option.match(found, {
          onNone: () => undefined,
          onSome: (row) => (sameHash(row.tokenHash, computed) ? row : undefined)
        })
      )
    )
  }

  /** Why a row no longer authenticates at `nowMs`, or undefined while it still does. */
  const refusal = (row: Row, nowMs: number): string | undefined => {
    if (row.revokedAt !== null) return kind.refuse.revoked(row)
    if (row.expiresAt !== null && nowMs >= millis(row.expiresAt)) return kind.refuse.expired(row)
    if (kind.idleTimeoutMs !== undefined) {
      const lastUse = row.lastUsedAt ?? kind.issuedAt(row)
      if (nowMs - millis(lastUse) >= kind.idleTimeoutMs) return kind.refuse.idle(row, lastUse)
    }
    return undefined
  }

  const isLive = (row: Row, nowMs: number) => refusal(row, nowMs) === undefined

  /** The row behind a presented token, or `unauthorized` saying what to do (never echoing it). */
  const resolve = Effect.fn("tokenStore.resolve")(function* (token: string | undefined) {
    if (token === undefined || token.trim() === "") return yield* unauthorized(kind.refuse.missing)
    if (!isSecretShaped(token)) return yield* unauthorized(kind.refuse.malformed)
    const row = yield* findByToken(token)
    if (row === undefined) return yield* unauthorized(kind.refuse.unknown)
    const now = yield* DateTime.now
    const nowMs = DateTime.toEpochMillis(now)
    const refused = refusal(row, nowMs)
    if (refused !== undefined) return yield* unauthorized(refused)
    if (row.lastUsedAt === null || nowMs - millis(row.lastUsedAt) >= kind.lastUsedResolutionMs) {
      // Bookkeeping only: a failed write must not turn a valid token away.
      yield* sql`UPDATE ${table} SET last_used_at = ${DateTime.formatIso(now)} WHERE id = ${row.id}`.pipe(
        Effect.catch((error) =>
          Effect.logWarning(`Could not record a ${kind.label}'s last use`).pipe(
            Effect.annotateLogs({ tokenId: row.id, error: error.message })
          )
        )
      )
    }
    return row
  })

  /** Revokes one token by id (keeping the first revocation time); undefined when there is none. */
  const revokeById = Effect.fn("tokenStore.revokeById")(function* (id: string) {
    const now = DateTime.formatIso(yield* DateTime.now)
    yield* sql`UPDATE ${table} SET revoked_at = COALESCE(revoked_at, ${now}) WHERE id = ${id}`
    return Option.getOrUndefined(yield* rowsOrDie(findById(id)))
  })

  /** Revokes every live token whose `column` equals `value`; answers the revoked ids. */
  const revokeWhere = Effect.fn("tokenStore.revokeWhere")(function* (column: string, value: string) {
    const now = DateTime.formatIso(yield* DateTime.now)
    const revoked = yield* rowsOrDie(revokeLiveWhere({ column, value, now }))
    return revoked.map((row) => row.id)
  })

  /** Every row (or those whose `column` equals `value`), newest first. */
  const list = (where?: { readonly column: string; readonly value: string }) =>
    rowsOrDie(where === undefined ? listAll(undefined) : listWhere(where))

  return {
    newSecret,
    newId,
    isId,
    isSecretShaped,
    findByToken,
    findById: (id: string) => Effect.map(rowsOrDie(findById(id)), Option.getOrUndefined),
    isLive,
    resolve,
    revokeById,
    revokeWhere,
    list
  }
}

export type TokenStore<Row extends StoredToken> = ReturnType<typeof makeTokenStore<Row>>
