// Provider session tokens for MCP: issue one when a provider session starts for a thread, resolve a
// presented token to the session it speaks for, check its capabilities, revoke a session's or a
// thread's tokens. Reading the bearer header, answering 401/403 and limiting what a capability may
// reach (project, spawn depth) are the MCP transport's and the dispatcher's, not this file's.
import { randomBytes } from "node:crypto"
import {
  boundedText,
  type IssuedProviderToken,
  ProjectId,
  ProviderCapability,
  type ProviderTokenInfo,
  SpindleError,
  ThreadId
} from "@spindle/contracts"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Schema from "effect/Schema"
import * as SqlClient from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import { describeIssue } from "../orchestration/decodeCommand.ts"
import { sameHash, sha256 } from "./tokenHash.ts"

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
/** `spn_` + base64url of 32 random bytes (256 bits). */
const TOKEN_PATTERN = /^spn_[A-Za-z0-9_-]{43}$/u
/**
 * `last_used_at` is written at most this often per token, not on every call. The idle timeout
 * counts from the recorded use, so it may end up to this much early; with an idle timeout under two
 * minutes (tests) the resolution shrinks to half of it, so regular use always keeps a token alive.
 */
const LAST_USED_RESOLUTION_MS = 60_000
const HOW_TO_RENEW = "Restart this thread's provider session in Spindle to get a new token"

interface Row {
  readonly id: string
  readonly token_hash: string
  readonly thread_id: string
  readonly project_id: string
  readonly provider_session_id: string
  readonly capabilities: string
  readonly issued_at: string
  readonly expires_at: string
  readonly last_used_at: string | null
  readonly revoked_at: string | null
}

const fromRow = (row: Row): ProviderTokenInfo => ({
  id: row.id,
  threadId: row.thread_id as ThreadId,
  projectId: row.project_id as ProjectId,
  providerSessionId: row.provider_session_id,
  capabilities: JSON.parse(row.capabilities),
  issuedAt: row.issued_at,
  expiresAt: row.expires_at,
  lastUsedAt: row.last_used_at,
  revokedAt: row.revoked_at
})

const millis = (iso: string) => DateTime.toEpochMillis(DateTime.makeUnsafe(iso))

const unauthorized = (message: string) => new SpindleError({ reason: "unauthorized", message })

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
        const lastUsedResolutionMs = Math.min(LAST_USED_RESOLUTION_MS, Math.floor(idleMs / 2))
        const decodeInput = Schema.decodeUnknownEffect(ProviderTokenIssueInput)

        const findByToken = Effect.fn("ProviderTokens.findByToken")(function* (token: string) {
          const computed = sha256(token)
          const rows =
            yield* sql<Row>`SELECT * FROM provider_tokens WHERE token_hash = ${computed.toString("hex")}`
          const row = rows[0]
          return row !== undefined && sameHash(row.token_hash, computed) ? row : undefined
        })

        const newId = Effect.map(
          Effect.all([Random.nextIntBetween(0, 0xffffff), Random.nextIntBetween(0, 0xffffff)]),
          ([high, low]) => `ptk_${high.toString(16).padStart(6, "0")}${low.toString(16).padStart(6, "0")}`
        )

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
          const id = yield* newId
          const token = `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`
          const issuedAt = DateTime.formatIso(now)
          const expiresAt = DateTime.formatIso(DateTime.addDuration(now, lifetime))
          yield* sql`
            INSERT INTO provider_tokens
              (id, token_hash, thread_id, project_id, provider_session_id, capabilities, issued_at, expires_at)
            VALUES (${id}, ${sha256(token).toString("hex")}, ${valid.threadId}, ${valid.projectId},
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
          if (token === undefined || token.trim() === "") {
            return yield* unauthorized(
              "Missing provider session token: send Authorization: Bearer <token> with the token Spindle gave " +
                "this provider session when it started."
            )
          }
          if (!TOKEN_PATTERN.test(token)) {
            return yield* unauthorized(
              "Malformed provider session token: a Spindle provider session token is spn_ followed by 43 " +
                "base64url characters (client tokens, spc_…, do not work here). Send the token Spindle gave " +
                "this provider session when it started."
            )
          }
          const row = yield* findByToken(token)
          if (row === undefined) {
            return yield* unauthorized(
              "Unknown provider session token: this server did not issue it (another --home, or a database " +
                `since reset). ${HOW_TO_RENEW}.`
            )
          }
          if (row.revoked_at !== null) {
            return yield* unauthorized(
              `Provider session token ${row.id} was revoked at ${row.revoked_at}: its provider session stopped. ` +
                `${HOW_TO_RENEW}.`
            )
          }
          const now = yield* DateTime.now
          const nowMs = DateTime.toEpochMillis(now)
          if (nowMs >= millis(row.expires_at)) {
            return yield* unauthorized(
              `Provider session token ${row.id} expired at ${row.expires_at}; these tokens last at most ` +
                `${Duration.format(lifetime)}. ${HOW_TO_RENEW}.`
            )
          }
          const lastUse = row.last_used_at ?? row.issued_at
          if (nowMs - millis(lastUse) >= idleMs) {
            return yield* unauthorized(
              `Provider session token ${row.id} went unused for more than ${Duration.format(idle)} ` +
                `(last used at ${lastUse}) and is no longer accepted. ${HOW_TO_RENEW}.`
            )
          }
          if (row.last_used_at === null || nowMs - millis(row.last_used_at) >= lastUsedResolutionMs) {
            // Bookkeeping only: a failed write must not turn a valid token away.
            yield* sql`UPDATE provider_tokens SET last_used_at = ${DateTime.formatIso(now)} WHERE id = ${row.id}`.pipe(
              Effect.catch((error) =>
                Effect.logWarning("Could not record a provider session token's last use").pipe(
                  Effect.annotateLogs({ tokenId: row.id, error: error.message })
                )
              )
            )
          }
          const principal: ProviderPrincipal = {
            tokenId: row.id,
            threadId: row.thread_id as ThreadId,
            projectId: row.project_id as ProjectId,
            providerSessionId: row.provider_session_id,
            capabilities: JSON.parse(row.capabilities),
            issuedAt: row.issued_at,
            expiresAt: row.expires_at
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

        const revokeWhere = (column: "provider_session_id" | "thread_id", value: string) =>
          Effect.gen(function* () {
            const now = DateTime.formatIso(yield* DateTime.now)
            const revoked = yield* sql<{ readonly id: string }>`
              UPDATE provider_tokens SET revoked_at = ${now}
              WHERE ${sql(column)} = ${value} AND revoked_at IS NULL
              RETURNING id`
            return revoked.length
          })

        const revokeSession = Effect.fn("ProviderTokens.revokeSession")(function* (
          providerSessionId: string
        ) {
          return yield* revokeWhere("provider_session_id", providerSessionId)
        })

        const revokeThread = Effect.fn("ProviderTokens.revokeThread")(function* (threadId: ThreadId) {
          return yield* revokeWhere("thread_id", threadId)
        })

        const list = Effect.fn("ProviderTokens.list")(function* (threadId?: ThreadId) {
          const rows =
            threadId === undefined
              ? yield* sql<Row>`SELECT * FROM provider_tokens ORDER BY issued_at DESC, rowid DESC`
              : yield* sql<Row>`
                  SELECT * FROM provider_tokens WHERE thread_id = ${threadId} ORDER BY issued_at DESC, rowid DESC`
          return rows.map(fromRow)
        })

        return { issue, resolve, require, revokeSession, revokeThread, list }
      })
    )

  /** Default lifetimes: 24 hours absolute, 2 hours idle. */
  static readonly layer = ProviderTokens.layerWith()
}
