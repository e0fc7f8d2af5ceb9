// What a project's webhook may be, and what its secret may be (a refusal never quotes it).
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import { decodeClientCommand } from "./decodeInput.ts"
import { NotifySecret, WebhookUrl } from "./notify.ts"

const refusal = <S extends Schema.Top>(schema: S, input: unknown) => {
  const result = Schema.decodeUnknownResult(schema as never)(input)
  return result._tag === "Failure" ? String(result.failure) : undefined
}

describe("WebhookUrl", () => {
  it("takes absolute http and https URLs", () => {
    for (const url of [
      "https://hooks.example.com/spindle?x=1",
      "http://127.0.0.1:8080/hook",
      "http://[::1]/h"
    ]) {
      assert.strictEqual(Schema.decodeUnknownSync(WebhookUrl)(url), url)
    }
  })

  it("refuses other schemes, relative URLs, credentials, spaces and long URLs, saying what to fix", () => {
    assert.include(refusal(WebhookUrl, "ftp://example.com/x"), "must be an http:// or https:// URL, not ftp:")
    assert.include(refusal(WebhookUrl, "file:///etc/passwd"), "not file:")
    assert.include(refusal(WebhookUrl, "/hooks/spindle"), "must be an absolute http:// or https:// URL")
    assert.include(refusal(WebhookUrl, "example.com/hook"), "absolute")
    assert.include(
      refusal(WebhookUrl, "https://user:pw@example.com/"),
      "must not carry a user name or password"
    )
    assert.include(refusal(WebhookUrl, "https://example.com/a b"), "must not contain spaces")
    assert.include(refusal(WebhookUrl, `https://example.com/${"a".repeat(2_100)}`), "at most 2048 characters")
  })
})

describe("NotifySecret", () => {
  it("takes a one-line secret, inner spaces included", () => {
    assert.strictEqual(Schema.decodeUnknownSync(NotifySecret)("s3cret with spaces"), "s3cret with spaces")
  })

  it("refuses empty, padded, multi-line and long secrets without quoting them", () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ["   ", "must not be empty"],
      [" padded-Zq9 ", "must not start or end with whitespace"],
      ["line-Zq9\nbreak", "control characters"],
      [`long-Zq9${"x".repeat(1_100)}`, "at most 1024"]
    ]
    for (const [secret, expected] of cases) {
      const said = refusal(NotifySecret, secret)
      assert.include(said, expected)
      if (secret.trim() !== "") assert.notInclude(said, "Zq9", "the refusal does not quote the secret")
    }
  })

  it("a command refused for its secret names the field, not the value", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(
        decodeClientCommand({
          type: "project.update",
          commandId: "c1",
          projectId: "p1",
          notifySecret: "top-Zq9-secret\n"
        })
      )
      assert.isTrue(Exit.isFailure(exit))
      const error = Exit.isFailure(exit) ? JSON.stringify(exit.cause) : ""
      assert.include(error, "notifySecret")
      assert.include(error, "validation")
      assert.notInclude(error, "Zq9")
    }).pipe(Effect.runPromise))
})
