// The owner token at start: created once with mode 0600, kept, replaced when lost or invalid.
// Issuing and resolving tokens in general is covered in ClientTokens.test.ts.
import { chmodSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { tempHome } from "../testing/fixtures.ts"
import {
  assertNoSecret,
  capturingLogs,
  failure,
  modeOf,
  ownerFile,
  readOwnerToken,
  withTokens
} from "./tokensTesting.ts"

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
