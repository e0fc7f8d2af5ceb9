// Tool input schemas say their rules in words and hold no `$ref`: what Codex hands the model keeps
// descriptions but drops the validation keywords.
import { assert, describe, it } from "@effect/vitest"
import * as Schema from "effect/Schema"
import { BATCH_DEFAULT_FIELDS, MAX_BATCH } from "./children.ts"
import { ThreadStartInput, ThreadsStartInput } from "./mcpTools.ts"
import { describeRules, inlineDefinitions, toolInputSchema } from "./toolInputSchema.ts"

type Node = { readonly [key: string]: any }

describe("toolInputSchema", () => {
  it("inlines every definition: no $ref or $defs is left, and a description beside a $ref wins", () => {
    for (const schema of [ThreadStartInput, ThreadsStartInput]) {
      const text = JSON.stringify(toolInputSchema(schema))
      assert.notInclude(text, "$ref")
      assert.notInclude(text, "$defs")
    }
    const inlined = inlineDefinitions({
      $ref: "#/$defs/Root",
      $defs: {
        Root: { type: "object", properties: { a: { $ref: "#/$defs/A", description: "mine" } } },
        A: { type: "string", description: "shared", maxLength: 3 }
      }
    })
    assert.deepStrictEqual(inlined, {
      type: "object",
      properties: { a: { type: "string", description: "mine", maxLength: 3 } }
    })
    assert.throws(() =>
      inlineDefinitions({ $ref: "#/$defs/R", $defs: { R: { items: { $ref: "#/$defs/R" } } } })
    )
  })

  it("says lengths, limits, ranges and patterns in the description, items' rules after 'each'", () => {
    const described = describeRules({
      type: "object",
      properties: {
        name: { type: "string", description: "A name", maxLength: 20, pattern: "^[a-z]+$" },
        count: { type: "integer", description: "How many.", minimum: 1, maximum: 9 },
        list: {
          type: "array",
          description: "Some.",
          minItems: 1,
          maxItems: 4,
          items: { type: "string", pattern: "\\S", maxLength: 8 }
        },
        plain: { type: "boolean", description: "Nothing to add." },
        undescribed: { type: "string", maxLength: 5 }
      }
    }) as Node
    const said = (name: string) => described.properties[name].description
    assert.strictEqual(said("name"), "A name. Rules: at most 20 characters; matching ^[a-z]+$.")
    assert.strictEqual(said("count"), "How many. Rules: 1 to 9.")
    assert.strictEqual(said("list"), "Some. Rules: 1 to 4 items; each at most 8 characters, not blank.")
    assert.strictEqual(said("plain"), "Nothing to add.")
    assert.isUndefined(said("undescribed"))
  })

  it("follows the checks: a batch's limit, a branch's length and an id's pattern come from the schemas", () => {
    const batch = toolInputSchema(ThreadsStartInput, BATCH_DEFAULT_FIELDS) as Node
    assert.include(batch.properties.threads.description, `1 to ${MAX_BATCH} items`)
    const entry = batch.properties.threads.items.properties
    assert.include(entry.branch.description, "at most 250 characters")
    assert.include(entry.branch.description, "not starting with '-'")
    assert.include(entry.pr.description, "1 to 1000000000")
    assert.include(entry.tags.description, "at most 32 items")
    // A batch's defaults are brief; the entries say their rules.
    for (const name of BATCH_DEFAULT_FIELDS) {
      assert.strictEqual(batch.properties[name].description, "Default for the entries.", name)
    }
    const limited = Schema.Struct({
      ids: Schema.Array(Schema.String).check(Schema.isMaxLength(3)).annotate({ description: "Ids." })
    })
    assert.strictEqual(
      (toolInputSchema(limited) as Node).properties.ids.description,
      "Ids. Rules: at most 3 items."
    )
  })
})
