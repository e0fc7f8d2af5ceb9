// ProviderTokens over a real SQLite file: issuing, resolving, lifetimes, capabilities and
// revocation. The MCP transport (bearer header, 401/403) is tested with the transport.
import { createHash } from "node:crypto"
import { assert, describe, it } from "@effect/vitest"
import type { ProviderCapability } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/testing/TestClock"
import { ids, tempHome } from "../testing/fixtures.ts"
import { providerTokenRows, withProviderTokens } from "../testing/providerTokens.ts"
import { assertNoSecret, failure } from "../testing/tokens.ts"
import type { ProviderTokens } from "./ProviderTokens.ts"

const thread = ids.thread("thread-parent")
const project = ids.project("project-1")

const issueFor = (
  tokens: ProviderTokens["Service"],
  providerSessionId: string,
  options: { threadId?: string; capabilities?: ReadonlyArray<ProviderCapability> } = {}
) =>
  tokens.issue({
    threadId: ids.thread(options.threadId ?? thread),
    projectId: project,
    providerSessionId,
    capabilities: options.capabilities ?? ["thread-management", "thread-read"]
  })

describe("ProviderTokens issuing", () => {
  it.effect("issues a token that resolves to its thread, project, session and capabilities", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      yield* withProviderTokens(home, (tokens) =>
        Effect.gen(function* () {
          const issued = yield* issueFor(tokens, "codex-session-1", { capabilities: ["thread-read"] })
          assert.match(issued.id, /^ptk_[0-9a-f]{12}$/)
          assert.match(issued.token, /^spn_[A-Za-z0-9_-]{43}$/)
          assert.strictEqual(issued.issuedAt, "1970-01-01T00:00:00.000Z")
          assert.strictEqual(issued.expiresAt, "1970-01-02T00:00:00.000Z")
          const other = yield* issueFor(tokens, "codex-session-2", { threadId: "thread-other" })
          assert.notStrictEqual(other.token, issued.token)
          assert.notStrictEqual(other.id, issued.id)

          yield* TestClock.adjust("5 minutes")
          assert.deepStrictEqual(yield* tokens.resolve(issued.token), {
            tokenId: issued.id,
            threadId: thread,
            projectId: project,
            providerSessionId: "codex-session-1",
            capabilities: ["thread-read"],
            issuedAt: issued.issuedAt,
            expiresAt: issued.expiresAt
          })
          assert.strictEqual((yield* tokens.resolve(other.token)).threadId, ids.thread("thread-other"))

          const listed = yield* tokens.list(thread)
          assert.deepStrictEqual(listed, [
            {
              id: issued.id,
              threadId: thread,
              projectId: project,
              providerSessionId: "codex-session-1",
              capabilities: ["thread-read"],
              issuedAt: issued.issuedAt,
              expiresAt: issued.expiresAt,
              lastUsedAt: "1970-01-01T00:05:00.000Z",
              revokedAt: null
            }
          ])
          assert.deepStrictEqual(
            (yield* tokens.list()).map((info) => info.id),
            [other.id, issued.id]
          )
          for (const info of yield* tokens.list()) assert.notProperty(info, "token")
        })
      )
    })
  )

  it.effect("stores only the SHA-256 hash, never the token", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      yield* withProviderTokens(home, (tokens) =>
        Effect.gen(function* () {
          const secrets = [
            (yield* issueFor(tokens, "s1")).token,
            (yield* issueFor(tokens, "s2", { threadId: "thread-2" })).token
          ]
          const rows = yield* providerTokenRows
          assert.strictEqual(rows.length, 2)
          const hashes = rows.map((row) => row.token_hash)
          for (const secret of secrets) {
            assert.include(hashes, createHash("sha256").update(secret).digest("hex"))
            for (const row of rows) assertNoSecret(JSON.stringify(row), secret)
          }
        })
      )
    })
  )

  it.effect("rejects bad issue requests with a validation error naming the field, writing nothing", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      yield* withProviderTokens(home, (tokens) =>
        Effect.gen(function* () {
          const base = {
            threadId: thread,
            projectId: project,
            providerSessionId: "s",
            capabilities: ["thread-read"]
          }
          const cases: Array<[Record<string, unknown>, string]> = [
            [{ ...base, capabilities: [] }, "capabilities"],
            [{ ...base, capabilities: ["thread-read", "admin"] }, "capabilities.1"],
            [{ ...base, capabilities: ["thread-read", "thread-read"] }, "capabilities"],
            [{ ...base, threadId: "../escape" }, "threadId"],
            [{ ...base, projectId: "" }, "projectId"],
            [{ ...base, providerSessionId: "  " }, "providerSessionId"],
            [{ ...base, token: "spn_chosen" }, "token"]
          ]
          for (const [input, field] of cases) {
            const error = yield* failure(tokens.issue(input as never))
            assert.strictEqual(error.reason, "validation", JSON.stringify(input))
            assert.strictEqual(error.field, field, error.message)
          }
          assert.strictEqual((yield* providerTokenRows).length, 0)
        })
      )
    })
  )
})

describe("ProviderTokens resolving", () => {
  it.effect("answers each bad token with its own unauthorized message that never echoes a token", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      yield* withProviderTokens(home, (tokens) =>
        Effect.gen(function* () {
          const valid = yield* issueFor(tokens, "s-valid")
          const bySession = yield* issueFor(tokens, "s-stopped")
          const byThread = yield* issueFor(tokens, "s-thread", { threadId: "thread-archived" })
          const idle = yield* issueFor(tokens, "s-idle")
          const busy = yield* issueFor(tokens, "s-busy")
          const secrets = [valid, bySession, byThread, idle, busy].map((issued) => issued.token)
          assert.strictEqual((yield* tokens.resolve(valid.token)).tokenId, valid.id)
          assert.strictEqual(yield* tokens.revokeSession("s-stopped"), 1)
          assert.strictEqual(yield* tokens.revokeThread(ids.thread("thread-archived")), 1)

          const messages = new Set<string>()
          const rejected = (token: string | undefined, expected: string) =>
            Effect.gen(function* () {
              const error = yield* failure(tokens.resolve(token))
              assert.strictEqual(error.reason, "unauthorized", error.message)
              assert.include(error.message, expected)
              for (const secret of secrets) assertNoSecret(error.message, secret)
              if (token !== undefined && token.length > 16) assertNoSecret(error.message, token)
              messages.add(error.message.replace(/ptk_[0-9a-f]{12}/g, "").replace(/\d{4}-\S+Z/g, ""))
            })

          yield* rejected(undefined, "Missing")
          yield* rejected("", "Missing")
          yield* rejected(`spn_${"A".repeat(20)}!secret`, "Malformed")
          yield* rejected(`spc_${"A".repeat(43)}`, "Malformed")
          yield* rejected(valid.token.slice(0, -1), "Malformed")
          yield* rejected(`spn_${"A".repeat(43)}`, "Unknown")
          yield* rejected(`${valid.token.slice(0, -1)}${valid.token.endsWith("A") ? "B" : "A"}`, "Unknown")
          yield* rejected(bySession.token, "revoked")
          yield* rejected(byThread.token, "revoked")

          // Two hours without use: the never-used token goes idle; the busy one stays alive.
          yield* TestClock.adjust("1 hour")
          yield* tokens.resolve(busy.token)
          yield* TestClock.adjust("1 hour")
          yield* rejected(idle.token, "went unused for more than 2h")
          // Used every hour, it still ends 24 hours after it was issued.
          for (let hour = 2; hour < 24; hour++) {
            assert.strictEqual((yield* tokens.resolve(busy.token)).tokenId, busy.id, `hour ${hour}`)
            yield* TestClock.adjust("1 hour")
          }
          yield* rejected(busy.token, "expired at 1970-01-02T00:00:00.000Z")

          // missing, malformed, unknown, revoked, idle, expired: six distinct explanations
          assert.strictEqual(messages.size, 6, [...messages].join("\n"))
        })
      )
    })
  )

  it.effect("counts the idle timeout from the last use, recorded at most once a minute", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      yield* withProviderTokens(home, (tokens) =>
        Effect.gen(function* () {
          const active = yield* issueFor(tokens, "s-active")
          const lastUsed = Effect.map(tokens.list(), (list) => list[0]!.lastUsedAt)
          assert.isNull(yield* lastUsed)
          yield* TestClock.adjust("1 hour")
          yield* tokens.resolve(active.token)
          assert.strictEqual(yield* lastUsed, "1970-01-01T01:00:00.000Z")
          yield* TestClock.adjust("59 seconds")
          yield* tokens.resolve(active.token)
          assert.strictEqual(yield* lastUsed, "1970-01-01T01:00:00.000Z")
          yield* TestClock.adjust("1 second")
          yield* tokens.resolve(active.token)
          assert.strictEqual(yield* lastUsed, "1970-01-01T01:01:00.000Z")

          // 3 h 00 min after issue, 1 h 59 min after the last use: still alive.
          yield* TestClock.adjust("119 minutes")
          assert.strictEqual((yield* tokens.resolve(active.token)).tokenId, active.id)
          assert.strictEqual(yield* lastUsed, "1970-01-01T03:00:00.000Z")
          // Two hours of silence end it, and a failed resolve does not count as a use.
          yield* TestClock.adjust("2 hours")
          const error = yield* failure(tokens.resolve(active.token))
          assert.strictEqual(error.reason, "unauthorized")
          assert.include(error.message, "last used at 1970-01-01T03:00:00.000Z")
          assert.strictEqual(yield* lastUsed, "1970-01-01T03:00:00.000Z")
        })
      )
    })
  )

  it.effect("takes both lifetimes from layerWith", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      yield* withProviderTokens(
        home,
        (tokens) =>
          Effect.gen(function* () {
            const short = yield* issueFor(tokens, "s-short")
            const unused = yield* issueFor(tokens, "s-unused")
            assert.strictEqual(short.expiresAt, "1970-01-01T00:10:00.000Z")
            for (let minute = 0; minute < 10; minute += 2) {
              assert.strictEqual((yield* tokens.resolve(short.token)).tokenId, short.id, `minute ${minute}`)
              if (minute === 4) {
                // Three minutes after issue without a use: idle, though far from its absolute end.
                assert.include(
                  (yield* failure(tokens.resolve(unused.token))).message,
                  "went unused for more than 3m"
                )
              }
              yield* TestClock.adjust("2 minutes")
            }
            assert.include(
              (yield* failure(tokens.resolve(short.token))).message,
              "expired at 1970-01-01T00:10:00.000Z"
            )
          }),
        { absoluteLifetime: "10 minutes", idleTimeout: "3 minutes" }
      )
    })
  )
})

describe("ProviderTokens capabilities and revocation", () => {
  it.effect("forbids a missing capability by name; neither capability implies the other", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      yield* withProviderTokens(home, (tokens) =>
        Effect.gen(function* () {
          const principalWith = (capabilities: ReadonlyArray<ProviderCapability>) =>
            Effect.flatMap(issueFor(tokens, capabilities.join("+"), { capabilities }), (issued) =>
              tokens.resolve(issued.token)
            )
          const reader = yield* principalWith(["thread-read"])
          const manager = yield* principalWith(["thread-management"])
          const both = yield* principalWith(["thread-management", "thread-read"])

          const denied = yield* failure(tokens.require(reader, "thread-management"))
          assert.strictEqual(denied.reason, "forbidden")
          assert.include(denied.message, "This session's token lacks the thread-management capability")
          assert.include(denied.message, "it has: thread-read")
          assert.strictEqual(denied.threadId, thread)
          const cannotRead = yield* failure(tokens.require(manager, "thread-read"))
          assert.strictEqual(cannotRead.reason, "forbidden")
          assert.include(cannotRead.message, "lacks the thread-read capability")

          yield* tokens.require(reader, "thread-read")
          yield* tokens.require(manager, "thread-management")
          yield* tokens.require(both, "thread-management")
          yield* tokens.require(both, "thread-read")
        })
      )
    })
  )

  it.effect("revokes only the given session's tokens, or only the given thread's", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      yield* withProviderTokens(home, (tokens) =>
        Effect.gen(function* () {
          const first = yield* issueFor(tokens, "s1")
          const second = yield* issueFor(tokens, "s1")
          const sameThread = yield* issueFor(tokens, "s2")
          const otherThread = yield* issueFor(tokens, "s3", { threadId: "thread-other" })
          const isLive = (token: string) =>
            Effect.match(tokens.resolve(token), { onFailure: () => false, onSuccess: () => true })

          yield* TestClock.adjust("1 second")
          assert.strictEqual(yield* tokens.revokeSession("s1"), 2)
          assert.deepStrictEqual([yield* isLive(first.token), yield* isLive(second.token)], [false, false])
          assert.isTrue(yield* isLive(sameThread.token))
          assert.isTrue(yield* isLive(otherThread.token))
          const revokedAt = (yield* tokens.list(thread)).map((info) => [
            info.providerSessionId,
            info.revokedAt
          ])
          assert.sameDeepMembers(revokedAt, [
            ["s1", "1970-01-01T00:00:01.000Z"],
            ["s1", "1970-01-01T00:00:01.000Z"],
            ["s2", null]
          ])

          // Idempotent: the earlier revocation time stays, nothing more is counted.
          yield* TestClock.adjust("1 minute")
          assert.strictEqual(yield* tokens.revokeSession("s1"), 0)
          assert.strictEqual(yield* tokens.revokeSession("no-such-session"), 0)
          assert.strictEqual(
            (yield* tokens.list(thread)).find((info) => info.id === first.id)!.revokedAt,
            "1970-01-01T00:00:01.000Z"
          )

          assert.strictEqual(yield* tokens.revokeThread(thread), 1)
          assert.isFalse(yield* isLive(sameThread.token))
          assert.isTrue(yield* isLive(otherThread.token))
          assert.strictEqual(yield* tokens.revokeThread(thread), 0)
        })
      )
    })
  )
})
