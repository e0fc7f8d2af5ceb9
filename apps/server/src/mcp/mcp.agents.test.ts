// MCP as real agents (Codex 0.169 and 0.171) see it: flat property schemas, a 401 that says why,
// protocol errors prefixed once, empty resource lists, retries named as the agent named them.
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { callTool, mcpClient, mcpWorld, rawInitialize } from "../testing/mcp.ts"
import { makeToolDefinitions } from "./toolDefinitions.ts"

const text = (result: object) =>
  (("content" in result ? (result.content as Array<{ text?: string }>) : undefined) ?? [])
    .map((c) => c.text ?? "")
    .join("")

describe("MCP for real agents", () => {
  it("every tool input property is one flat schema with a description (Codex drops allOf)", () => {
    for (const tool of makeToolDefinitions()) {
      const properties =
        (tool.inputSchema as { properties?: Record<string, Record<string, unknown>> }).properties ?? {}
      for (const [name, schema] of Object.entries(properties)) {
        for (const combinator of ["allOf", "anyOf", "oneOf", "$ref"]) {
          assert.notProperty(schema, combinator, `${tool.name}.${name} uses ${combinator}`)
        }
        assert.isString(schema.description, `${tool.name}.${name} has a description`)
        assert.isString(schema.type, `${tool.name}.${name} has a type`)
      }
    }
  })

  it("every tool's schema fits what Codex gives the model with its descriptions (5000 characters)", () => {
    // Codex 0.171 keeps these keywords of an MCP tool's input schema and drops the rest; when what
    // is left passes 5000 characters of compact JSON, it drops every description as well.
    const kept = new Set(["type", "description", "enum", "items", "minItems", "properties"])
    for (const key of ["required", "additionalProperties", "anyOf", "oneOf", "allOf", "$ref", "$defs"])
      kept.add(key)
    const view = (node: unknown, named = false): unknown => {
      if (Array.isArray(node)) return node.map((item) => view(item))
      if (node === null || typeof node !== "object") return node
      const entries = Object.entries(node)
      if (named) return Object.fromEntries(entries.map(([key, value]) => [key, view(value)]))
      return Object.fromEntries(
        entries.flatMap(
          ([key, value]): Array<[string, unknown]> =>
            key === "const"
              ? [["enum", [value]]]
              : kept.has(key)
                ? [[key, view(value, key === "properties" || key === "$defs")]]
                : []
        )
      )
    }
    for (const tool of makeToolDefinitions()) {
      const size = JSON.stringify(view(tool.inputSchema)).length
      assert.isAtMost(size, 5000, `${tool.name}'s schema as the model gets it`)
    }
  })

  it.live(
    'a refused token gets 401 with WWW-Authenticate: Bearer error="invalid_token" and a description',
    () =>
      Effect.gen(function* () {
        const world = yield* mcpWorld()
        for (const headers of [{}, { authorization: "Bearer spn_not-a-token" }]) {
          const refused = yield* rawInitialize(world.url, headers)
          assert.strictEqual(refused.status, 401)
          assert.match(
            refused.authenticate ?? "",
            /^Bearer realm="spindle-mcp", error="invalid_token", error_description="[^"]+"$/
          )
        }
      })
  )

  it.live(
    "unknown tools are -32602 said once; resources/list and resources/templates/list answer empty lists",
    () =>
      Effect.gen(function* () {
        const world = yield* mcpWorld()
        const client = yield* mcpClient(world.url, world.token)
        const refused = yield* Effect.promise(() =>
          client.callTool({ name: "t3_nope", arguments: {} }).then(
            () => undefined,
            (error: { code?: number; message: string }) => error
          )
        )
        assert.strictEqual(refused?.code, -32602)
        assert.strictEqual(refused?.message.match(/MCP error -32602/g)?.length, 1, refused?.message)
        assert.include(refused?.message, "Unknown tool t3_nope")
        assert.deepStrictEqual((yield* Effect.promise(() => client.listResources())).resources, [])
        assert.deepStrictEqual(
          (yield* Effect.promise(() => client.listResourceTemplates())).resourceTemplates,
          []
        )
      })
  )

  it.live(
    "a clientRequestId reused for a different start is a conflict about clientRequestId, not commandId",
    () =>
      Effect.gen(function* () {
        const world = yield* mcpWorld()
        const client = yield* mcpClient(world.url, world.token)
        const first = yield* callTool(client, "t3_thread_start", {
          prompt: "one",
          mode: "current_checkout",
          clientRequestId: "job-1"
        })
        assert.isUndefined(first.isError)
        const again = yield* callTool(client, "t3_thread_start", {
          prompt: "one",
          mode: "current_checkout",
          clientRequestId: "job-1"
        })
        assert.deepStrictEqual(
          again.structuredContent,
          first.structuredContent,
          "a retry answers the same thread"
        )
        const other = yield* callTool(client, "t3_thread_start", {
          prompt: "something else",
          mode: "current_checkout",
          clientRequestId: "job-1"
        })
        assert.isTrue(other.isError)
        const error = JSON.parse(text(other)) as { error: string; message: string; field?: string }
        assert.strictEqual(error.error, "conflict")
        assert.strictEqual(error.field, "clientRequestId")
        assert.include(error.message, "clientRequestId job-1")
        assert.notInclude(error.message, "commandId")
      })
  )
})
