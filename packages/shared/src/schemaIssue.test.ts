import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { describeIssue } from "./schemaIssue.ts"

const issueOf = (schema: Schema.Top, input: unknown) =>
  Effect.flip(Schema.decodeUnknownEffect(schema as Schema.Codec<unknown>)(input, { errors: "first" }))

describe("describeIssue", () => {
  it.effect("names the nested field at fault", () =>
    Effect.gen(function* () {
      const schema = Schema.Struct({ outer: Schema.Struct({ inner: Schema.Number }) })
      const error = yield* issueOf(schema, { outer: { inner: "x" } })
      const described = describeIssue(error.issue)
      assert.strictEqual(described.field, "outer.inner")
      assert.match(described.message, /^outer\.inner: /)
    })
  )

  it.effect("has an empty field for a problem with the whole value", () =>
    Effect.gen(function* () {
      const error = yield* issueOf(Schema.String, 42)
      const described = describeIssue(error.issue)
      assert.strictEqual(described.field, "")
      assert.notMatch(described.message, /^:/)
    })
  )
})
