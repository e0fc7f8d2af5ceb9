// ClientTokens over a real SQLite file: issuing, listing, revoking, resolving and scopes. The
// owner token file is covered in ClientTokens.owner.test.ts; the WebSocket transport elsewhere.
import { createHash } from "node:crypto"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/testing/TestClock"
import { tempHome } from "../testing/fixtures.ts"
import { allRows, assertNoSecret, failure, readOwnerToken, withTokens } from "../testing/tokens.ts"

describe("ClientTokens issuing", () => {
  it.effect("creates, lists newest first and revokes idempotently", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      yield* withTokens(home, (tokens) =>
        Effect.gen(function* () {
          const ci = yield* tokens.create({ name: "ci", scopes: ["read", "operate"], expiresInSeconds: 3600 })
          assert.match(ci.id, /^tok_[0-9a-f]{12}$/)
          assert.strictEqual(ci.createdAt, "1970-01-01T00:00:00.000Z")
          assert.strictEqual(ci.expiresAt, "1970-01-01T01:00:00.000Z")
          yield* TestClock.adjust("1 second")
          const app = yield* tokens.create({ name: "app", scopes: ["admin"] })
          const listed = yield* tokens.list()
          assert.deepStrictEqual(
            listed.map((t) => t.name),
            ["app", "ci"]
          )
          for (const info of listed) assert.notProperty(info, "token")
          assert.deepStrictEqual(listed[1], {
            id: ci.id,
            name: "ci",
            scopes: ["read", "operate"],
            createdAt: ci.createdAt,
            expiresAt: ci.expiresAt,
            revokedAt: null,
            lastUsedAt: null,
            owner: false
          })

          const revoked = yield* tokens.revoke(app.id)
          assert.strictEqual(revoked.revokedAt, "1970-01-01T00:00:01.000Z")
          yield* TestClock.adjust("1 minute")
          assert.strictEqual((yield* tokens.revoke(app.id)).revokedAt, revoked.revokedAt)
          assert.isNull((yield* tokens.list()).find((t) => t.id === ci.id)!.revokedAt)

          const unknown = yield* failure(tokens.revoke("tok_000000000000"))
          assert.strictEqual(unknown.reason, "not-found")
          assert.include(unknown.message, "tok_000000000000")
          const pasted = yield* failure(tokens.revoke(ci.token))
          assert.strictEqual(pasted.reason, "not-found")
          assertNoSecret(pasted.message, ci.token)
        })
      )
    })
  )

  it.effect("rejects bad input with a validation error naming the field, writing nothing", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      yield* withTokens(home, (tokens) =>
        Effect.gen(function* () {
          const cases: Array<[unknown, string]> = [
            [{ name: "x", scopes: [] }, "scopes"],
            [{ name: "x", scopes: ["read", "root"] }, "scopes.1"],
            [{ name: "x", scopes: ["read", "read"] }, "scopes"],
            [{ name: "n".repeat(101), scopes: ["read"] }, "name"],
            [{ name: "", scopes: ["read"] }, "name"],
            [{ name: "x", scopes: ["read"], expiresInSeconds: 0 }, "expiresInSeconds"],
            [{ name: "x", scopes: ["read"], expiresInSeconds: 11 * 366 * 86_400 }, "expiresInSeconds"],
            [{ name: "x", scopes: ["read"], owner: true }, "owner"]
          ]
          for (const [input, field] of cases) {
            const error = yield* failure(tokens.create(input))
            assert.strictEqual(error.reason, "validation", JSON.stringify(input))
            assert.strictEqual(error.field, field, error.message)
          }
          assert.strictEqual((yield* allRows).length, 0)
          assert.strictEqual(
            (yield* tokens.create({ name: "n".repeat(100), scopes: ["read"] })).name.length,
            100
          )
        })
      )
    })
  )

  it.effect("stores only the SHA-256 hash, never the token", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      yield* withTokens(home, (tokens) =>
        Effect.gen(function* () {
          yield* tokens.ensureOwnerToken()
          const issued = yield* tokens.create({ name: "a", scopes: ["read"] })
          const secrets = [issued.token, readOwnerToken(home)]
          const rows = yield* allRows
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
})

describe("ClientTokens resolving and authorizing", () => {
  it.effect("answers each bad token with its own unauthorized message that never echoes it", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      yield* withTokens(home, (tokens) =>
        Effect.gen(function* () {
          const valid = yield* tokens.create({ name: "valid", scopes: ["read"] })
          const revoked = yield* tokens.create({ name: "revoked", scopes: ["read"] })
          yield* tokens.revoke(revoked.id)
          const expiring = yield* tokens.create({ name: "expiring", scopes: ["read"], expiresInSeconds: 60 })
          assert.strictEqual((yield* tokens.resolve(expiring.token)).tokenId, expiring.id)
          yield* TestClock.adjust("60 seconds")

          const unknownToken = `spc_${"A".repeat(43)}`
          const malformedToken = `spc_${"A".repeat(20)}!secret`
          const cases: Array<[string | undefined, string]> = [
            [undefined, "Authorization: Bearer <token>"],
            ["", "Authorization: Bearer <token>"],
            [malformedToken, "Malformed"],
            [unknownToken, "Unknown"],
            [revoked.token, "revoked"],
            [expiring.token, "expired"],
            [valid.token.slice(0, -1), "Malformed"],
            [`${valid.token.slice(0, -1)}${valid.token.endsWith("A") ? "B" : "A"}`, "Unknown"]
          ]
          const messages = new Set<string>()
          for (const [token, expected] of cases) {
            const error = yield* failure(tokens.resolve(token))
            assert.strictEqual(error.reason, "unauthorized")
            assert.include(error.message, expected)
            if (token !== undefined && token !== "") assertNoSecret(error.message, token)
            messages.add(error.message.replace(/tok_[0-9a-f]{12}/, "").replace(/at \S+\./, ""))
          }
          assert.include([...messages][0]!, join(home, "owner-token"))
          // missing, malformed, unknown, revoked, expired: five distinct explanations
          assert.strictEqual(messages.size, 5)

          const principal = yield* tokens.resolve(valid.token)
          assert.deepStrictEqual(principal, { tokenId: valid.id, scopes: ["read"], owner: false })
        })
      )
    })
  )

  it.effect("records last use at most once a minute", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      yield* withTokens(home, (tokens) =>
        Effect.gen(function* () {
          const created = yield* tokens.create({ name: "cli", scopes: ["read"] })
          const lastUsed = Effect.map(tokens.list(), (list) => list[0]!.lastUsedAt)
          assert.isNull(yield* lastUsed)
          yield* tokens.resolve(created.token)
          assert.strictEqual(yield* lastUsed, "1970-01-01T00:00:00.000Z")
          yield* TestClock.adjust("59 seconds")
          yield* tokens.resolve(created.token)
          assert.strictEqual(yield* lastUsed, "1970-01-01T00:00:00.000Z")
          yield* TestClock.adjust("1 second")
          yield* tokens.resolve(created.token)
          assert.strictEqual(yield* lastUsed, "1970-01-01T00:01:00.000Z")
        })
      )
    })
  )

  it.effect("forbids a missing scope by name; operate and admin each include read, nothing more", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      yield* withTokens(home, (tokens) =>
        Effect.gen(function* () {
          const principalWith = (scopes: ReadonlyArray<string>) =>
            Effect.flatMap(tokens.create({ name: scopes.join("+"), scopes }), (c) => tokens.resolve(c.token))
          const reader = yield* principalWith(["read"])
          const operator = yield* principalWith(["operate"])
          const admin = yield* principalWith(["admin"])

          const denied = yield* failure(tokens.authorize(reader, "operate"))
          assert.strictEqual(denied.reason, "forbidden")
          assert.include(denied.message, "'operate'")
          assert.include(denied.message, reader.tokenId)
          assert.strictEqual((yield* failure(tokens.authorize(admin, "operate"))).reason, "forbidden")
          assert.include((yield* failure(tokens.authorize(operator, "admin"))).message, "'admin'")

          yield* tokens.authorize(reader, "read")
          yield* tokens.authorize(operator, "read")
          yield* tokens.authorize(operator, "operate")
          yield* tokens.authorize(admin, "read")
          yield* tokens.authorize(admin, "admin")
        })
      )
    })
  )
})
