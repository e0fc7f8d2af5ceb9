import { execFileSync } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { publicSchemas, toJsonSchema } from "./jsonSchema.ts"

/** Every `$ref` in the document points at a definition that exists. */
const danglingRefs = (document: Record<string, unknown>): Array<string> => {
  const defs = (document.$defs ?? {}) as Record<string, unknown>
  const missing: Array<string> = []
  const walk = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(walk)
    if (node === null || typeof node !== "object") return
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string") {
        const name = value.replace("#/$defs/", "")
        if (!(name in defs)) missing.push(value)
      } else walk(value)
    }
  }
  walk(document)
  return missing
}

describe("JSON Schema of the contracts", () => {
  it("covers every command and event type, with no dangling reference", () => {
    const commands = JSON.stringify(toJsonSchema(publicSchemas.ClientCommand!))
    for (const type of [
      "project.create",
      "project.update",
      "project.remove",
      "thread.create",
      "thread.turn.start",
      "thread.archive",
      "thread.delete"
    ]) {
      assert.include(commands, `"${type}"`)
    }
    const events = JSON.stringify(toJsonSchema(publicSchemas.SpindleEvent!))
    for (const type of [
      "project.created",
      "thread.created",
      "thread.workspace-prepared",
      "thread.setup-completed",
      "thread.bootstrap-failed"
    ]) {
      assert.include(events, `"${type}"`)
    }
    for (const [name, schema] of Object.entries(publicSchemas)) {
      assert.deepStrictEqual(danglingRefs(toJsonSchema(schema)), [], name)
    }
  })

  it("refuses extra properties in commands", () => {
    const document = toJsonSchema(publicSchemas.ClientCommand!)
    assert.include(JSON.stringify(document), '"additionalProperties":false')
  })

  it("is written to files by npm run contracts:schema", () => {
    const out = mkdtempSync(join(tmpdir(), "spindle-schema-"))
    try {
      execFileSync("npm", ["run", "--silent", "contracts:schema", "--", "--out", out], {
        cwd: join(import.meta.dirname, "../../.."),
        stdio: "pipe"
      })
      const files = readdirSync(out).sort()
      assert.deepStrictEqual(
        files,
        Object.keys(publicSchemas)
          .map((name) => `${name}.json`)
          .sort()
      )
      const thread = JSON.parse(readFileSync(join(out, "Thread.json"), "utf8"))
      assert.strictEqual(thread.$schema, "https://json-schema.org/draft/2020-12/schema")
      assert.include(JSON.stringify(thread), "worktreePath")
    } finally {
      rmSync(out, { recursive: true, force: true })
    }
  })
})
