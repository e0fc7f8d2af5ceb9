// Client tokens for the app and the CLI: issue, list, revoke, resolve a presented token to a
// principal, check its scope, and keep `<home>/owner-token` holding a valid owner token (rotating
// it new-file-first). The shared token mechanics are tokenStore.ts'; reading headers and turning
// errors into HTTP statuses is the transport's (ws/), not this file's.
import { join } from "node:path"
import {
  type ClientScope,
  ClientScope as ClientScopeSchema,
  type ClientTokenCreateInput,
  ClientTokenId,
  type ClientTokenInfo,
  type CreatedClientToken,
  decodeClientTokenCreateInput,
  IsoTimestamp,
  type OwnerTokenRotation,
  SpindleError
} from "@spindle/contracts"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Semaphore from "effect/Semaphore"
import * as SqlClient from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import { CurrentHost } from "../config/HostIdentity.ts"
import { ServerConfig } from "../config/ServerConfig.ts"
import { dialect } from "../persistence/dialect.ts"
import { readOwnerTokenFile, writeOwnerTokenFile } from "./ownerTokenFile.ts"
import { makeTokenStore, STORED_TOKEN_COLUMNS } from "./tokenStore.ts"

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

export interface RevokeOptions {
  /** Revoke the owner token too; without it, revoking the owner token is refused. */
  readonly force?: boolean
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

/** A `client_tokens` row, decoded: JSON scopes parsed, the owner bit a boolean. */
const Row = Schema.Struct({
  id: ClientTokenId,
  name: Schema.String,
  tokenHash: Schema.String,
  scopes: Schema.fromJsonString(Schema.Array(ClientScopeSchema)),
  owner: Schema.BooleanFromBit,
  createdAt: IsoTimestamp,
  expiresAt: Schema.NullOr(IsoTimestamp),
  revokedAt: Schema.NullOr(IsoTimestamp),
  lastUsedAt: Schema.NullOr(IsoTimestamp)
}).pipe(Schema.encodeKeys({ ...STORED_TOKEN_COLUMNS, createdAt: "created_at" }))
type Row = typeof Row.Type

const fromRow = ({ tokenHash: _, ...info }: Row): ClientTokenInfo => info

export class ClientTokens extends Context.Service<
  ClientTokens,
  {
    /**
     * At start: keep the valid owner token in `<home>/owner-token` (revoking any other owner token a
     * crash mid-rotation left live), or rotate to a new one.
     */
    readonly ensureOwnerToken: () => Effect.Effect<OwnerTokenFile, SpindleError | SqlError>
    /**
     * Issues a new owner token, writes it to `<home>/owner-token` (temp file + rename, mode 0600),
     * and only then revokes the previous owner tokens: a failure on the way never leaves the file
     * holding a revoked token.
     */
    readonly rotateOwnerToken: () => Effect.Effect<OwnerTokenRotation, SpindleError | SqlError>
    /** Validates `input` (a `ClientTokenCreateInput`); the answer is the only place the token appears. */
    readonly create: (input: unknown) => Effect.Effect<CreatedClientToken, SpindleError | SqlError>
    /** Every token, revoked and expired ones included, newest first. */
    readonly list: () => Effect.Effect<ReadonlyArray<ClientTokenInfo>, SqlError>
    /** Idempotent: revoking twice keeps the first revocation time. The owner token needs `force`. */
    readonly revoke: (
      id: string,
      options?: RevokeOptions
    ) => Effect.Effect<ClientTokenInfo, SpindleError | SqlError>
    /** The principal behind a presented token, or `unauthorized` saying what to do (never echoing it). */
    readonly resolve: (token: string | undefined) => Effect.Effect<ClientPrincipal, SpindleError | SqlError>
    /**
     * Keeps the tokens named `name` (never the owner's) bounded: past the newest `keep` live ones
     * the older are revoked, and of the dead ones (revoked or expired) only the newest `keep` rows
     * stay listed. Answers the ids it revoked. For tokens the server mints on its own (board sessions).
     */
    readonly trimNamed: (name: string, keep: number) => Effect.Effect<ReadonlyArray<string>, SqlError>
    /** Succeeds when `principal` holds `scope` (see the scope rule above), else `forbidden`. */
    readonly authorize: (principal: ClientPrincipal, scope: ClientScope) => Effect.Effect<void, SpindleError>
  }
>()("spindle/auth/ClientTokens") {
  static readonly layer = Layer.effect(
    ClientTokens,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const { insertionOrder } = dialect(sql)
      const { home } = yield* ServerConfig
      const hostId = (yield* CurrentHost)?.id ?? null
      const ownerPath = join(home, "owner-token")
      const howToAuthenticate = `send Authorization: Bearer <token>; the owner token is in ${ownerPath}`
      // One owner rotation at a time: two interleaved ones could each revoke the other's token.
      const ownerLock = yield* Semaphore.make(1)
      const store = makeTokenStore(sql, {
        table: "client_tokens",
        label: "client token",
        secretPrefix: TOKEN_PREFIX,
        idPrefix: "tok_",
        Row,
        issuedColumn: "created_at",
        issuedAt: (row) => row.createdAt,
        lastUsedResolutionMs: 60_000,
        refuse: {
          missing: `Missing client token: ${howToAuthenticate}.`,
          malformed: `Malformed client token: a Spindle client token is spc_ followed by 43 base64url characters; ${howToAuthenticate}.`,
          unknown:
            "Unknown client token: this server did not issue it (another --home, or a token since deleted). " +
            `Use the owner token in ${ownerPath}, or ask an admin to create a token.`,
          revoked: (row) =>
            `Client token ${row.id} was revoked at ${row.revokedAt}. Ask an admin for a new token, ` +
            `or use the owner token in ${ownerPath}.`,
          expired: (row) =>
            `Client token ${row.id} expired at ${row.expiresAt}. Ask an admin for a new token, ` +
            `or use the owner token in ${ownerPath}.`,
          idle: () => "Client tokens have no idle timeout."
        }
      })

      const insert = Effect.fn("ClientTokens.insert")(function* (
        valid: ClientTokenCreateInput,
        owner: boolean
      ) {
        const now = yield* DateTime.now
        const id = yield* store.newId
        const { token, hash } = store.newSecret()
        const createdAt = DateTime.formatIso(now)
        const expiresAt =
          valid.expiresInSeconds === undefined
            ? null
            : DateTime.formatIso(DateTime.add(now, { seconds: valid.expiresInSeconds }))
        yield* sql`
          INSERT INTO client_tokens (id, name, token_hash, scopes, owner, created_at, expires_at, host_id)
          VALUES (${id}, ${valid.name}, ${hash}, ${JSON.stringify(valid.scopes)},
            ${owner ? 1 : 0}, ${createdAt}, ${expiresAt}, ${owner ? hostId : null})`
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

      const create = Effect.fn("ClientTokens.create")(function* (input: unknown) {
        return yield* insert(yield* decodeClientTokenCreateInput(input), false)
      })

      const list = Effect.fn("ClientTokens.list")(function* () {
        return (yield* store.list()).map(fromRow)
      })

      const revoke = Effect.fn("ClientTokens.revoke")(function* (id: string, options?: RevokeOptions) {
        // Never echo what was passed unless it is an id: a token pasted by mistake must not leak.
        if (!store.isId(id)) {
          return yield* new SpindleError({
            reason: "not-found",
            message: id.startsWith(TOKEN_PREFIX)
              ? "That is a token, not a token id: revoke by id (tok_ followed by 12 hex digits), as listed."
              : "Not a client token id: expected tok_ followed by 12 hex digits, as listed."
          })
        }
        const existing = yield* store.findById(id)
        if (existing?.owner === true && existing.revokedAt === null && options?.force !== true) {
          return yield* new SpindleError({
            reason: "conflict",
            message:
              `${id} is the owner token (kept in ${ownerPath}); revoking it locks out every client that uses ` +
              "that file. To replace it safely, run 'spindle token rotate-owner' (writes a new owner token, " +
              "then revokes this one). To revoke it anyway, pass --force (force: true); restarting the " +
              "server then writes a new owner token."
          })
        }
        const revoked = yield* store.revokeById(id)
        if (revoked === undefined) {
          return yield* new SpindleError({
            reason: "not-found",
            message: `No client token has the id ${id}. List the tokens to find the right id.`
          })
        }
        return fromRow(revoked)
      })

      const resolve = Effect.fn("ClientTokens.resolve")(function* (token: string | undefined) {
        const row = yield* store.resolve(token)
        const principal: ClientPrincipal = { tokenId: row.id, scopes: row.scopes, owner: row.owner }
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

      const trimNamed = Effect.fn("ClientTokens.trimNamed")(function* (name: string, keep: number) {
        const now = DateTime.formatIso(yield* DateTime.now)
        const live = sql`owner = 0 AND name = ${name} AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ${now})`
        const revoked = yield* sql<{ readonly id: string }>`
          UPDATE client_tokens SET revoked_at = ${now}
          WHERE ${live} AND id NOT IN (
            SELECT id FROM client_tokens WHERE ${live} ORDER BY created_at DESC, ${insertionOrder} DESC LIMIT ${keep})
          RETURNING id`
        const dead = sql`owner = 0 AND name = ${name} AND (revoked_at IS NOT NULL OR expires_at <= ${now})`
        yield* sql`
          DELETE FROM client_tokens
          WHERE ${dead} AND id NOT IN (
            SELECT id FROM client_tokens WHERE ${dead} ORDER BY created_at DESC, ${insertionOrder} DESC LIMIT ${keep})`
        return revoked.map((row) => row.id)
      })

      /**
       * Revokes every live owner token of this host but `keep` (another host's owner token is its
       * own, kept in its home); answers the revoked ids.
       */
      const revokeOtherOwners = (keep: string) =>
        Effect.gen(function* () {
          const now = DateTime.formatIso(yield* DateTime.now)
          const mine = hostId === null ? sql`1 = 1` : sql`(host_id IS NULL OR host_id = ${hostId})`
          const rows = yield* sql<{ readonly id: string }>`
            UPDATE client_tokens SET revoked_at = ${now}
            WHERE owner = 1 AND revoked_at IS NULL AND id != ${keep} AND ${mine}
            RETURNING id`
          return rows.map((row) => row.id)
        })

      const rotate = Effect.fn("ClientTokens.rotateOwnerToken")(function* () {
        const created = yield* insert({ name: "owner", scopes: OWNER_SCOPES }, true)
        yield* writeOwnerTokenFile(ownerPath, created.token).pipe(
          // The new secret is lost with the failed write: retire it; the old owner token stays valid.
          Effect.tapError(() =>
            Effect.ignore(store.revokeById(created.id), {
              log: "Warn",
              message: "Could not revoke a token whose creation failed"
            })
          )
        )
        const revoked = yield* revokeOtherOwners(created.id)
        yield* Effect.logInfo("Issued a new owner token").pipe(
          Effect.annotateLogs({ path: ownerPath, tokenId: created.id, revoked: revoked.join(",") })
        )
        const { token: _, ...info } = created
        const rotation: OwnerTokenRotation = { path: ownerPath, token: info, revoked }
        return rotation
      })

      const rotateOwnerToken = () => ownerLock.withPermit(rotate())

      const ensureOwnerToken = Effect.fn("ClientTokens.ensureOwnerToken")(
        function* () {
          const existing = yield* readOwnerTokenFile(ownerPath)
          if (existing !== undefined && store.isSecretShaped(existing)) {
            const row = yield* store.findByToken(existing)
            const nowMs = DateTime.toEpochMillis(yield* DateTime.now)
            if (row?.owner === true && store.isLive(row, nowMs)) {
              const stale = yield* revokeOtherOwners(row.id)
              if (stale.length > 0) {
                yield* Effect.logWarning(
                  "Revoked owner tokens other than the one in the owner token file"
                ).pipe(Effect.annotateLogs({ path: ownerPath, revoked: stale.join(",") }))
              }
              const kept: OwnerTokenFile = { path: ownerPath, created: false }
              return kept
            }
          }
          if (existing !== undefined) {
            yield* Effect.logWarning(
              "The owner token file holds no valid owner token; issuing a new one"
            ).pipe(Effect.annotateLogs({ path: ownerPath }))
          }
          yield* rotate()
          const written: OwnerTokenFile = { path: ownerPath, created: true }
          return written
        },
        (effect) => ownerLock.withPermit(effect)
      )

      return { ensureOwnerToken, rotateOwnerToken, create, list, revoke, resolve, authorize, trimNamed }
    })
  )
}
