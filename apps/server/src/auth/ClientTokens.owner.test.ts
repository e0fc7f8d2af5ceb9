// The owner token at start: created once with mode 0600, kept, replaced when lost or invalid;
// rotated new-file-first; revoked only with force. Issuing and resolving tokens in general is
// covered in ClientTokens.test.ts.
import { chmodSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"
import { tempHome } from "../testing/fixtures.ts"
import {
  assertNoSecret,
  capturingLogs,
  failure,
  modeOf,
  ownerFile,
  readOwnerToken,
  withTokens
} from "../testing/tokens.ts"

describe("ClientTokens owner token", () => {
  it.effect("is created once with mode 0600 and the same token is kept on the next start", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      const first = yield* withTokens(home, (tokens) => capturingLogs(tokens.ensureOwnerToken()))
      assert.deepStrictEqual(first.result, { path: ownerFile(home), created: true })
      assert.strictEqual(modeOf(ownerFile(home)), 0o600)
      assert.deepStrictEqual(
        readdirSync(home).filter((name) => name.startsWith("owner-token")),
        ["owner-token"]
      )
      const token = readOwnerToken(home)
      assert.match(token, /^spc_[A-Za-z0-9_-]{43}$/)
      for (const line of first.lines) assertNoSecret(line, token)

      yield* withTokens(home, (tokens) =>
        Effect.gen(function* () {
          assert.deepStrictEqual(yield* tokens.ensureOwnerToken(), { path: ownerFile(home), created: false })
          assert.strictEqual(readOwnerToken(home), token)
          const principal = yield* tokens.resolve(token)
          assert.isTrue(principal.owner)
          assert.deepStrictEqual([...principal.scopes], ["read", "operate", "admin"])
          const listed = yield* tokens.list()
          assert.strictEqual(listed.length, 1)
          assert.isTrue(listed[0]!.owner)
          assert.isNull(listed[0]!.expiresAt)
        })
      )
    })
  )

  it.effect("is replaced when the file is deleted, and the old token stops resolving", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      yield* withTokens(home, (tokens) => tokens.ensureOwnerToken())
      const old = readOwnerToken(home)
      rmSync(ownerFile(home))
      yield* withTokens(home, (tokens) =>
        Effect.gen(function* () {
          assert.isTrue((yield* tokens.ensureOwnerToken()).created)
          const fresh = readOwnerToken(home)
          assert.notStrictEqual(fresh, old)
          assert.strictEqual(modeOf(ownerFile(home)), 0o600)
          const error = yield* failure(tokens.resolve(old))
          assert.strictEqual(error.reason, "unauthorized")
          assert.include(error.message, "revoked")
          assert.isTrue((yield* tokens.resolve(fresh)).owner)
          const owners = (yield* tokens.list()).filter((t) => t.owner && t.revokedAt === null)
          assert.strictEqual(owners.length, 1)
        })
      )
    })
  )

  it.effect("narrows a file readable by others to 0600, warns, and keeps the token", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      yield* withTokens(home, (tokens) => tokens.ensureOwnerToken())
      const token = readOwnerToken(home)
      chmodSync(ownerFile(home), 0o644)
      const { result, lines } = yield* withTokens(home, (tokens) => capturingLogs(tokens.ensureOwnerToken()))
      assert.isFalse(result.created)
      assert.strictEqual(modeOf(ownerFile(home)), 0o600)
      assert.strictEqual(readOwnerToken(home), token)
      assert.isTrue(lines.some((line) => line.includes("0600")))
      for (const line of lines) assertNoSecret(line, token)
    })
  )

  it.effect("replaces a file that holds a non-owner token or garbage", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      yield* withTokens(home, (tokens) =>
        Effect.gen(function* () {
          const reader = yield* tokens.create({ name: "reader", scopes: ["read"] })
          writeFileSync(ownerFile(home), reader.token, { mode: 0o600 })
          assert.isTrue((yield* tokens.ensureOwnerToken()).created)
          assert.notStrictEqual(readOwnerToken(home), reader.token)
          assert.isNull((yield* tokens.list()).find((t) => t.id === reader.id)!.revokedAt)

          writeFileSync(ownerFile(home), "not a token\n")
          assert.isTrue((yield* tokens.ensureOwnerToken()).created)
          assert.isTrue((yield* tokens.resolve(readOwnerToken(home))).owner)
        })
      )
    })
  )
})

describe("ClientTokens owner rotation", () => {
  it.effect("writes the new owner token (0600) first, then revokes the old one", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      yield* withTokens(home, (tokens) =>
        Effect.gen(function* () {
          yield* tokens.ensureOwnerToken()
          const old = readOwnerToken(home)
          const oldId = (yield* tokens.resolve(old)).tokenId
          const { result: rotation, lines } = yield* capturingLogs(tokens.rotateOwnerToken())
          const fresh = readOwnerToken(home)
          assert.notStrictEqual(fresh, old)
          assert.strictEqual(modeOf(ownerFile(home)), 0o600)
          assert.deepStrictEqual(
            readdirSync(home).filter((name) => name.startsWith("owner-token")),
            ["owner-token"]
          )
          assert.deepStrictEqual(rotation.revoked, [oldId])
          assert.strictEqual(rotation.path, ownerFile(home))
          assert.notProperty(rotation.token, "token")
          assert.strictEqual((yield* tokens.resolve(fresh)).tokenId, rotation.token.id)
          assert.include((yield* failure(tokens.resolve(old))).message, "revoked")
          for (const line of lines) {
            assertNoSecret(line, fresh)
            assertNoSecret(line, old)
          }
        })
      )
    })
  )

  it.effect("keeps the old owner token valid when the new file cannot be written", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      yield* withTokens(home, (tokens) =>
        Effect.gen(function* () {
          yield* tokens.ensureOwnerToken()
          const old = readOwnerToken(home)
          // A non-empty directory where the file goes: the rename fails, even for root.
          rmSync(ownerFile(home))
          mkdirSync(join(ownerFile(home), "occupied"), { recursive: true })
          const error = yield* failure(tokens.rotateOwnerToken())
          assert.strictEqual(error.reason, "internal")
          assert.include(error.message, "owner token file")
          assert.isTrue((yield* tokens.resolve(old)).owner)
          const liveOwners = (yield* tokens.list()).filter((t) => t.owner && t.revokedAt === null)
          assert.strictEqual(liveOwners.length, 1, "the unwritten new token is retired")
        })
      )
    })
  )

  it.effect("at start, revokes owner tokens a crash mid-rotation left live beside the file's", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      const stale = yield* withTokens(home, (tokens) =>
        Effect.gen(function* () {
          yield* tokens.ensureOwnerToken()
          const before = readOwnerToken(home)
          const rotation = yield* tokens.rotateOwnerToken()
          // As if the server died after writing the file but before revoking the old token.
          const sql = yield* SqlClient.SqlClient
          yield* sql`UPDATE client_tokens SET revoked_at = NULL WHERE id = ${rotation.revoked[0]!}`
          assert.isTrue((yield* tokens.resolve(before)).owner)
          return before
        })
      )
      yield* withTokens(home, (tokens) =>
        Effect.gen(function* () {
          assert.isFalse((yield* tokens.ensureOwnerToken()).created)
          assert.isTrue((yield* tokens.resolve(readOwnerToken(home))).owner)
          assert.strictEqual((yield* failure(tokens.resolve(stale))).reason, "unauthorized")
          const liveOwners = (yield* tokens.list()).filter((t) => t.owner && t.revokedAt === null)
          assert.strictEqual(liveOwners.length, 1)
        })
      )
    })
  )

  it.effect("concurrent rotations leave exactly one live owner token, the one in the file", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      yield* withTokens(home, (tokens) =>
        Effect.gen(function* () {
          yield* tokens.ensureOwnerToken()
          yield* Effect.all(
            Array.from({ length: 5 }, () => tokens.rotateOwnerToken()),
            { concurrency: "unbounded" }
          )
          const liveOwners = (yield* tokens.list()).filter((t) => t.owner && t.revokedAt === null)
          assert.strictEqual(liveOwners.length, 1)
          assert.strictEqual((yield* tokens.resolve(readOwnerToken(home))).tokenId, liveOwners[0]!.id)
        })
      )
    })
  )

  it.effect("refuses to revoke the owner token without force, saying how to get a new one", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      yield* withTokens(home, (tokens) =>
        Effect.gen(function* () {
          yield* tokens.ensureOwnerToken()
          const owner = yield* tokens.resolve(readOwnerToken(home))
          const refused = yield* failure(tokens.revoke(owner.tokenId))
          assert.strictEqual(refused.reason, "conflict")
          assert.include(refused.message, "--force")
          assert.include(refused.message, "rotate-owner")
          assert.include(refused.message, "restart")
          assert.isTrue((yield* tokens.resolve(readOwnerToken(home))).owner)
          const revoked = yield* tokens.revoke(owner.tokenId, { force: true })
          assert.isNotNull(revoked.revokedAt)
          assert.strictEqual((yield* failure(tokens.resolve(readOwnerToken(home)))).reason, "unauthorized")
          // Already revoked: idempotent, no force needed.
          assert.strictEqual((yield* tokens.revoke(owner.tokenId)).revokedAt, revoked.revokedAt)
        })
      )
      // The next start writes a new owner token.
      yield* withTokens(home, (tokens) =>
        Effect.gen(function* () {
          assert.isTrue((yield* tokens.ensureOwnerToken()).created)
          assert.isTrue((yield* tokens.resolve(readOwnerToken(home))).owner)
        })
      )
    })
  )
})
