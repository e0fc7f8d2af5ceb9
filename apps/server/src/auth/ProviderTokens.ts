// Provider session tokens for MCP: issue one when a provider session starts for a thread, resolve a
// presented token to the session it speaks for, check its capabilities, revoke a token, a session's
// or a thread's tokens. The shared token mechanics are tokenStore.ts'. Reading the bearer header,
// answering 401/403 and limiting what a capability may reach (project, spawn depth) are the MCP
// transport's and the dispatcher's; revoking when a thread ends is ThreadProviderTokens'.
import {
  boundedText,
  type IssuedProviderToken,
  ProjectId,
  ProviderCapability,
  ProviderTokenInfo,
  SpindleError,
  ThreadId
} from "@spindle/contracts"
import { describeIssue } from "@spindle/shared/schemaIssue"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as SqlClient from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import { makeTokenStore, STORED_TOKEN_COLUMNS } from "./tokenStore.ts"

/** Who a resolved token speaks for. Carries the token's id, never the token. */
export interface ProviderPrincipal {
  readonly tokenId: string
  readonly threadId: ThreadId
  readonly projectId: ProjectId
  readonly providerSessionId: string
  readonly capabilities: ReadonlyArray<ProviderCapability>
  readonly issuedAt: string
  readonly expiresAt: string
}

/** What the server knows when it starts a provider session; validated again on issue. */
export const ProviderTokenIssueInput = Schema.Struct({
  threadId: ThreadId,
  projectId: ProjectId,
  providerSessionId: boundedText(200),
  capabilities: Schema.Array(ProviderCapability).check(
    Schema.isMinLength(1, { message: "must list at least one capability" }),
    Schema.isUnique({ message: "must not repeat a capability" })
  )
})
export type ProviderTokenIssueInput = typeof ProviderTokenIssueInput.Type

export interface ProviderTokensOptions {
  /** A token stops working this long after it was issued, however it is used. Default 24 hours. */
  readonly absoluteLifetime?: Duration.Input
  /** A token stops working when it was not used for this long (counted from issue). Default 2 hours. */
  readonly idleTimeout?: Duration.Input
}

export const DEFAULT_PROVIDER_TOKEN_LIFETIME: Duration.Input = "24 hours"
export const DEFAULT_PROVIDER_TOKEN_IDLE_TIMEOUT: Duration.Input = "2 hours"

const TOKEN_PREFIX = "spn_"
/**
 * `last_used_at` is written at most this often per token, not on every call. The idle timeout
 * counts from the recorded use, so it may end up to this much early; with an idle timeout under two
 * minutes (tests) the resolution shrinks to half of it, so regular use always keeps a token alive.
 */
const LAST_USED_RESOLUTION_MS = 60_000
const HOW_TO_RENEW = "Restart this thread's provider session in Spindle to get a new token"

/** A `provider_tokens` row, decoded: JSON capabilities parsed. */
const Row = Schema.Struct({
  ...ProviderTokenInfo.fields,
  tokenHash: Schema.String,
  capabilities: Schema.fromJsonString(Schema.Array(ProviderCapability))
}).pipe(
  Schema.encodeKeys({
    ...STORED_TOKEN_COLUMNS,
    threadId: "thread_id",
    projectId: "project_id",
    providerSessionId: "provider_session_id",
    issuedAt: "issued_at"
  })
)
type Row = typeof Row.Type

const fromRow = ({ tokenHash: _, ...info }: Row): ProviderTokenInfo => info

/** A positive, finite duration, or a defect: a bad lifetime is a wiring mistake, not user input. */
const positiveDuration = (name: string, input: Duration.Input) =>
  Option.match(Duration.fromInput(input), {
    onNone: () => Effect.die(new Error(`ProviderTokens: ${name} is not a duration`)),
    onSome: (duration) =>
      Duration.isFinite(duration) && Duration.isPositive(duration)
        ? Effect.succeed(duration)
        : Effect.die(new Error(`ProviderTokens: ${name} must be positive and finite`))
  })

export class ProviderTokens extends Context.Service<
  ProviderTokens,
  {
    /** Validates `input`; the answer is the only place the token appears. */
    readonly issue: (
      input: ProviderTokenIssueInput
    ) => Effect.Effect<IssuedProviderToken, SpindleError | SqlError>
    /** The session behind a presented token, or `unauthorized` saying what to do (never echoing it). */
    readonly resolve: (token: string | undefined) => Effect.Effect<ProviderPrincipal, SpindleError | SqlError>
    /** Succeeds when `principal` holds `capability` (neither implies the other), else `forbidden`. */
    readonly require: (
      principal: ProviderPrincipal,
      capability: ProviderCapability
    ) => Effect.Effect<void, SpindleError>
    /** Revokes one token by its id (ptk_…); idempotent, keeping the first revocation time. */
    readonly revoke: (id: string) => Effect.Effect<ProviderTokenInfo, SpindleError | SqlError>
    /** Revokes the session's live tokens; answers how many. Idempotent. */
    readonly revokeSession: (providerSessionId: string) => Effect.Effect<number, SqlError>
    /** Revokes every live token of the thread's sessions; answers how many. Idempotent. */
    readonly revokeThread: (threadId: ThreadId) => Effect.Effect<number, SqlError>
    /** Tokens (of one thread, or all), revoked and expired ones included, newest first. */
    readonly list: (threadId?: ThreadId) => Effect.Effect<ReadonlyArray<ProviderTokenInfo>, SqlError>
  }
>()("spindle/auth/ProviderTokens") {
  static readonly layerWith = (options: ProviderTokensOptions = {}) =>
    Layer.effect(
      ProviderTokens,
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const lifetime = yield* positiveDuration(
          "absoluteLifetime",
          options.absoluteLifetime ?? DEFAULT_PROVIDER_TOKEN_LIFETIME
        )
        const idle = yield* positiveDuration(
          "idleTimeout",
          options.idleTimeout ?? DEFAULT_PROVIDER_TOKEN_IDLE_TIMEOUT
        )
        const idleMs = Duration.toMillis(idle)
        const decodeInput = Schema.decodeUnknownEffect(ProviderTokenIssueInput)
        const store = makeTokenStore(sql, {
          table: "provider_tokens",
          label: "provider session token",
          secretPrefix: TOKEN_PREFIX,
          idPrefix: "ptk_",
          Row,
          issuedColumn: "issued_at",
          issuedAt: (row) => row.issuedAt,
          idleTimeoutMs: idleMs,
          lastUsedResolutionMs: Math.min(LAST_USED_RESOLUTION_MS, Math.floor(idleMs / 2)),
          refuse: {
            missing:
              "Missing provider session token: send Authorization: Bearer <token> with the token Spindle gave " +
              "this provider session when it started.",
            malformed:
              "Malformed provider session token: a Spindle provider session token is spn_ followed by 43 " +
              "base64url characters (client tokens, spc_…, do not work here). Send the token Spindle gave " +
              "this provider session when it started.",
            unknown:
              "Unknown provider session token: this server did not issue it (another --home, or a database " +
              `since reset). ${HOW_TO_RENEW}.`,
            revoked: (row) =>
              `Provider session token ${row.id} was revoked at ${row.revokedAt}: its provider session stopped ` +
              `or its thread ended. ${HOW_TO_RENEW}.`,
            expired: (row) =>
              `Provider session token ${row.id} expired at ${row.expiresAt}; these tokens last at most ` +
              `${Duration.format(lifetime)}. ${HOW_TO_RENEW}.`,
            idle: (row, lastUse) =>
              `Provider session token ${row.id} went unused for more than ${Duration.format(idle)} ` +
              `(last used at ${lastUse}) and is no longer accepted. ${HOW_TO_RENEW}.`
          }
        })

        const issue = Effect.fn("ProviderTokens.issue")(function* (input: ProviderTokenIssueInput) {
          const valid = yield* decodeInput(input, { onExcessProperty: "error", errors: "first" }).pipe(
            Effect.mapError((error) => {
              const { field, message } = describeIssue(error.issue)
              return new SpindleError({
                reason: "validation",
                message: `Invalid provider token request: ${message}`,
                ...(field === "" ? {} : { field })
              })
            })
          )
          const now = yield* DateTime.now
          const id = yield* store.newId
          const { token, hash } = store.newSecret()
          const issuedAt = DateTime.formatIso(now)
          const expiresAt = DateTime.formatIso(DateTime.addDuration(now, lifetime))
          yield* sql`
            INSERT INTO provider_tokens
              (id, token_hash, thread_id, project_id, provider_session_id, capabilities, issued_at, expires_at)
            VALUES (${id}, ${hash}, ${valid.threadId}, ${valid.projectId},
              ${valid.providerSessionId}, ${JSON.stringify(valid.capabilities)}, ${issuedAt}, ${expiresAt})`
          const issued: IssuedProviderToken = {
            id,
            threadId: valid.threadId,
            projectId: valid.projectId,
            providerSessionId: valid.providerSessionId,
            capabilities: valid.capabilities,
            issuedAt,
            expiresAt,
            lastUsedAt: null,
            revokedAt: null,
            token
          }
          return issued
        })

        const resolve = Effect.fn("ProviderTokens.resolve")(function* (token: string | undefined) {
          const row = yield* store.resolve(token)
          const principal: ProviderPrincipal = {
            tokenId: row.id,
            threadId: row.threadId,
            projectId: row.projectId,
            providerSessionId: row.providerSessionId,
            capabilities: row.capabilities,
            issuedAt: row.issuedAt,
            expiresAt: row.expiresAt
          }
          return principal
        })

        const require = Effect.fn("ProviderTokens.require")(function* (
          principal: ProviderPrincipal,
          capability: ProviderCapability
        ) {
          if (principal.capabilities.includes(capability)) return
          const held = principal.capabilities.length === 0 ? "none" : principal.capabilities.join(", ")
          return yield* new SpindleError({
            reason: "forbidden",
            threadId: principal.threadId,
            message:
              `This session's token lacks the ${capability} capability (it has: ${held}). Spindle grants ` +
              "capabilities when it starts the session and tool input cannot add them; tell the user this " +
              "session cannot do that."
          })
        })

        const revoke = Effect.fn("ProviderTokens.revoke")(function* (id: string) {
          // Never echo what was passed unless it is an id: a token pasted by mistake must not leak.
          if (!store.isId(id)) {
            return yield* new SpindleError({
              reason: "not-found",
              message: id.startsWith(TOKEN_PREFIX)
                ? "That is a token, not a token id: revoke by id (ptk_ followed by 12 hex digits), as listed."
                : "Not a provider token id: expected ptk_ followed by 12 hex digits, as listed."
            })
          }
          const revoked = yield* store.revokeById(id)
          if (revoked === undefined) {
            return yield* new SpindleError({
              reason: "not-found",
              message: `No provider token has the id ${id}. List the tokens to find the right id.`
            })
          }
          return fromRow(revoked)
        })

        const revokeSession = Effect.fn("ProviderTokens.revokeSession")(function* (
          providerSessionId: string
        ) {
          return (yield* store.revokeWhere("provider_session_id", providerSessionId)).length
        })

        const revokeThread = Effect.fn("ProviderTokens.revokeThread")(function* (threadId: ThreadId) {
          return (yield* store.revokeWhere("thread_id", threadId)).length
        })

        const list = Effect.fn("ProviderTokens.list")(function* (threadId?: ThreadId) {
          const rows = yield* store.list(
            threadId === undefined ? undefined : { column: "thread_id", value: threadId }
          )
          return rows.map(fromRow)
        })

        return { issue, resolve, require, revoke, revokeSession, revokeThread, list }
      })
    )

  /** Default lifetimes: 24 hours absolute, 2 hours idle. */
  static readonly layer = ProviderTokens.layerWith()
}
