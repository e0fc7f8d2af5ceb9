// Client tokens for the app and the CLI: issue, list, revoke, resolve a presented token to a
// principal, check its scope, and decide when `<home>/owner-token` needs a new token. Reading headers and turning errors
// into HTTP statuses is the transport's (ws/), not this file's.
import { randomBytes } from "node:crypto"
import { join } from "node:path"
import {
  type ClientScope,
  ClientTokenCreateInput,
  ClientTokenId,
  type ClientTokenInfo,
  type CreatedClientToken,
  SpindleError
} from "@spindle/contracts"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Random from "effect/Random"
import * as Schema from "effect/Schema"
import * as SqlClient from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import { ServerConfig } from "../config/ServerConfig.ts"
import { describeIssue } from "../orchestration/decodeCommand.ts"
import { readOwnerTokenFile, writeOwnerTokenFile } from "./ownerTokenFile.ts"
import { sameHash, sha256 } from "./tokenHash.ts"

/** Who a resolved token speaks for. Carries the token's id, never the token. */
export interface ClientPrincipal {
  readonly tokenId: string
  readonly scopes: ReadonlyArray<ClientScope>
  readonly owner: boolean
}

export interface OwnerTokenFile {
  readonly path: string
  /** false: the token already in the file was still a valid owner token and was kept. */
  readonly created: boolean
}

export interface CreateOptions {
  /**
   * Make it the owner token, revoking earlier owner tokens in the same transaction. Only
   * `ensureOwnerToken` should pass this: it also writes the token to `<home>/owner-token`.
   */
  readonly owner?: boolean
}

/**
 * Scope rule: a held scope grants itself, and `operate` and `admin` each also grant `read` (whoever
 * may change state or manage tokens may look at it). Nothing else is implied: `admin` does not
 * grant `operate`, so a token-managing admin token runs no commands unless also given `operate`.
 */
const GRANTS: Readonly<Record<ClientScope, ReadonlyArray<ClientScope>>> = {
  read: ["read"],
  operate: ["operate", "read"],
  admin: ["admin", "read"]
}

export const hasScope = (principal: ClientPrincipal, scope: ClientScope): boolean =>
  principal.scopes.some((held) => GRANTS[held].includes(scope))

const OWNER_SCOPES: ReadonlyArray<ClientScope> = ["read", "operate", "admin"]
const TOKEN_PREFIX = "spc_"
/** `spc_` + base64url of 32 random bytes (256 bits). */
const TOKEN_PATTERN = /^spc_[A-Za-z0-9_-]{43}$/u
/** `last_used_at` is written at most this often per token, not on every request. */
const LAST_USED_RESOLUTION_MS = 60_000

interface Row {
  readonly id: string
  readonly name: string
  readonly token_hash: string
  readonly scopes: string
  readonly owner: number
  readonly created_at: string
  readonly expires_at: string | null
  readonly revoked_at: string | null
  readonly last_used_at: string | null
}

const fromRow = (row: Row): ClientTokenInfo => ({
  id: row.id,
  name: row.name,
  scopes: JSON.parse(row.scopes),
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  revokedAt: row.revoked_at,
  lastUsedAt: row.last_used_at,
  owner: row.owner === 1
})

const millis = (iso: string) => DateTime.toEpochMillis(DateTime.makeUnsafe(iso))

const isExpired = (row: Row, nowMs: number) => row.expires_at !== null && nowMs >= millis(row.expires_at)

const unauthorized = (message: string) => new SpindleError({ reason: "unauthorized", message })

export class ClientTokens extends Context.Service<
  ClientTokens,
  {
    /** At start: keep the valid owner token in `<home>/owner-token`, or issue and write a new one. */
    readonly ensureOwnerToken: () => Effect.Effect<OwnerTokenFile, SpindleError | SqlError>
    /** Validates `input` (a `ClientTokenCreateInput`); the answer is the only place the token appears. */
    readonly create: (
      input: unknown,
      options?: CreateOptions
    ) => Effect.Effect<CreatedClientToken, SpindleError | SqlError>
    /** Every token, revoked and expired ones included, newest first. */
    readonly list: () => Effect.Effect<ReadonlyArray<ClientTokenInfo>, SqlError>
    /** Idempotent: revoking twice keeps the first revocation time. */
    readonly revoke: (id: string) => Effect.Effect<ClientTokenInfo, SpindleError | SqlError>
    /** The principal behind a presented token, or `unauthorized` saying what to do (never echoing it). */
    readonly resolve: (token: string | undefined) => Effect.Effect<ClientPrincipal, SpindleError | SqlError>
    /** Succeeds when `principal` holds `scope` (see the scope rule above), else `forbidden`. */
    readonly authorize: (principal: ClientPrincipal, scope: ClientScope) => Effect.Effect<void, SpindleError>
  }
>()("spindle/auth/ClientTokens") {
  static readonly layer = Layer.effect(
    ClientTokens,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const { home } = yield* ServerConfig
      const ownerPath = join(home, "owner-token")
      const howToAuthenticate = `send Authorization: Bearer <token>; the owner token is in ${ownerPath}`
      const decodeInput = Schema.decodeUnknownEffect(ClientTokenCreateInput)
      const isTokenId = (id: string): boolean => Schema.is(ClientTokenId)(id)

      const findByToken = Effect.fn("ClientTokens.findByToken")(function* (token: string) {
        const computed = sha256(token)
        const rows =
          yield* sql<Row>`SELECT * FROM client_tokens WHERE token_hash = ${computed.toString("hex")}`
        const row = rows[0]
        return row !== undefined && sameHash(row.token_hash, computed) ? row : undefined
      })

      const newId = Effect.map(
        Effect.all([Random.nextIntBetween(0, 0xffffff), Random.nextIntBetween(0, 0xffffff)]),
        ([high, low]) => `tok_${high.toString(16).padStart(6, "0")}${low.toString(16).padStart(6, "0")}`
      )

      const create = Effect.fn("ClientTokens.create")(function* (input: unknown, options?: CreateOptions) {
        const valid = yield* decodeInput(input, { onExcessProperty: "error", errors: "first" }).pipe(
          Effect.mapError((error) => {
            const { field, message } = describeIssue(error.issue)
            return new SpindleError({
              reason: "validation",
              message: `Invalid client token request: ${message}`,
              ...(field === "" ? {} : { field })
            })
          })
        )
        const owner = options?.owner === true
        const now = yield* DateTime.now
        const id = yield* newId
        const token = `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`
        const createdAt = DateTime.formatIso(now)
        const expiresAt =
          valid.expiresInSeconds === undefined
            ? null
            : DateTime.formatIso(DateTime.add(now, { seconds: valid.expiresInSeconds }))
        yield* sql.withTransaction(
          Effect.gen(function* () {
            if (owner) {
              yield* sql`UPDATE client_tokens SET revoked_at = ${createdAt} WHERE owner = 1 AND revoked_at IS NULL`
            }
            yield* sql`
              INSERT INTO client_tokens (id, name, token_hash, scopes, owner, created_at, expires_at)
              VALUES (${id}, ${valid.name}, ${sha256(token).toString("hex")}, ${JSON.stringify(valid.scopes)},
                ${owner ? 1 : 0}, ${createdAt}, ${expiresAt})`
          })
        )
        const created: CreatedClientToken = {
          id,
          name: valid.name,
          scopes: valid.scopes,
          createdAt,
          expiresAt,
          revokedAt: null,
          lastUsedAt: null,
          owner,
          token
        }
        return created
      })

      const list = Effect.fn("ClientTokens.list")(function* () {
        const rows = yield* sql<Row>`SELECT * FROM client_tokens ORDER BY created_at DESC, rowid DESC`
        return rows.map(fromRow)
      })

      const revoke = Effect.fn("ClientTokens.revoke")(function* (id: string) {
        // Never echo what was passed unless it is an id: a token pasted by mistake must not leak.
        if (!isTokenId(id)) {
          return yield* new SpindleError({
            reason: "not-found",
            message: id.startsWith(TOKEN_PREFIX)
              ? "That is a token, not a token id: revoke by id (tok_ followed by 12 hex digits), as listed."
              : "Not a client token id: expected tok_ followed by 12 hex digits, as listed."
          })
        }
        const now = DateTime.formatIso(yield* DateTime.now)
        yield* sql`UPDATE client_tokens SET revoked_at = COALESCE(revoked_at, ${now}) WHERE id = ${id}`
        const rows = yield* sql<Row>`SELECT * FROM client_tokens WHERE id = ${id}`
        if (rows[0] === undefined) {
          return yield* new SpindleError({
            reason: "not-found",
            message: `No client token has the id ${id}. List the tokens to find the right id.`
          })
        }
        return fromRow(rows[0])
      })

      const resolve = Effect.fn("ClientTokens.resolve")(function* (token: string | undefined) {
        if (token === undefined || token.trim() === "") {
          return yield* unauthorized(`Missing client token: ${howToAuthenticate}.`)
        }
        if (!TOKEN_PATTERN.test(token)) {
          return yield* unauthorized(
            `Malformed client token: a Spindle client token is spc_ followed by 43 base64url characters; ${howToAuthenticate}.`
          )
        }
        const row = yield* findByToken(token)
        if (row === undefined) {
          return yield* unauthorized(
            "Unknown client token: this server did not issue it (another --home, or a token since deleted). " +
              `Use the owner token in ${ownerPath}, or ask an admin to create a token.`
          )
        }
        if (row.revoked_at !== null) {
          return yield* unauthorized(
            `Client token ${row.id} was revoked at ${row.revoked_at}. Ask an admin for a new token, ` +
              `or use the owner token in ${ownerPath}.`
          )
        }
        const now = yield* DateTime.now
        const nowMs = DateTime.toEpochMillis(now)
        if (isExpired(row, nowMs)) {
          return yield* unauthorized(
            `Client token ${row.id} expired at ${row.expires_at}. Ask an admin for a new token, ` +
              `or use the owner token in ${ownerPath}.`
          )
        }
        if (row.last_used_at === null || nowMs - millis(row.last_used_at) >= LAST_USED_RESOLUTION_MS) {
          // Bookkeeping only: a failed write must not turn a valid token away.
          yield* sql`UPDATE client_tokens SET last_used_at = ${DateTime.formatIso(now)} WHERE id = ${row.id}`.pipe(
            Effect.catch((error) =>
              Effect.logWarning("Could not record a client token's last use").pipe(
                Effect.annotateLogs({ tokenId: row.id, error: error.message })
              )
            )
          )
        }
        const principal: ClientPrincipal = {
          tokenId: row.id,
          scopes: JSON.parse(row.scopes),
          owner: row.owner === 1
        }
        return principal
      })

      const authorize = Effect.fn("ClientTokens.authorize")(function* (
        principal: ClientPrincipal,
        scope: ClientScope
      ) {
        if (hasScope(principal, scope)) return
        return yield* new SpindleError({
          reason: "forbidden",
          message:
            `Client token ${principal.tokenId} lacks the '${scope}' scope (it has: ${principal.scopes.join(", ")}). ` +
            `Ask an admin for a token with the '${scope}' scope.`
        })
      })

      const ensureOwnerToken = Effect.fn("ClientTokens.ensureOwnerToken")(function* () {
        const existing = yield* readOwnerTokenFile(ownerPath)
        if (existing !== undefined && TOKEN_PATTERN.test(existing)) {
          const row = yield* findByToken(existing)
          const nowMs = DateTime.toEpochMillis(yield* DateTime.now)
          if (row !== undefined && row.owner === 1 && row.revoked_at === null && !isExpired(row, nowMs)) {
            const kept: OwnerTokenFile = { path: ownerPath, created: false }
            return kept
          }
        }
        if (existing !== undefined) {
          yield* Effect.logWarning("The owner token file holds no valid owner token; issuing a new one").pipe(
            Effect.annotateLogs({ path: ownerPath })
          )
        }
        const created = yield* create({ name: "owner", scopes: OWNER_SCOPES }, { owner: true })
        yield* writeOwnerTokenFile(ownerPath, created.token)
        yield* Effect.logInfo("Issued a new owner token").pipe(
          Effect.annotateLogs({ path: ownerPath, tokenId: created.id })
        )
        const written: OwnerTokenFile = { path: ownerPath, created: true }
        return written
      })

      return { ensureOwnerToken, create, list, revoke, resolve, authorize }
    })
  )
}
