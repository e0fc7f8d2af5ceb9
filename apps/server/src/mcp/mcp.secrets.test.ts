import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { callTool, mcpClient, mcpWorld } from "../testing/mcp.ts"

/** Everything written to the console while `effect` runs. */
const captureConsole = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const lines: Array<string> = []
    const methods = ["log", "error", "warn", "info", "debug"] as const
    const originals = methods.map((m) => console[m])
    for (const m of methods) {
      console[m] = (...args: Array<unknown>) => {
        lines.push(
          args
            .map((a) => (typeof a === "string" ? a : JSON.stringify(a, Object.getOwnPropertyNames(a ?? {}))))
            .join(" ")
        )
      }
    }
    const value = yield* effect.pipe(
      Effect.ensuring(
        Effect.sync(() => {
          methods.forEach((m, i) => {
            console[m] = originals[i]!
          })
        })
      )
    )
    return { value, output: lines.join("\n") }
  })

describe("MCP never leaks a token", () => {
  it.live("no provider token reaches a log line, an error message, a tool result or an event", () =>
    Effect.gen(function* () {
      const { value: world, output } = yield* captureConsole(
        Effect.gen(function* () {
          const world = yield* mcpWorld()
          const client = yield* mcpClient(world.url, world.token)
          const ok = yield* callTool(client, "t3_thread_start", { prompt: "child", mode: "current_checkout" })
          const failed = yield* callTool(client, "t3_thread_start", { prompt: "go", branch: "bad..name" })
          yield* world.providerTokens.revokeSession("session-parent")
          const refused = yield* Effect.promise(() =>
            fetch(`${world.url}/mcp`, {
              method: "POST",
              headers: { authorization: `Bearer ${world.token}`, "content-type": "application/json" },
              body: "{}"
            }).then((r) => r.text())
          )
          return { ...world, results: JSON.stringify([ok, failed]) + refused }
        })
      )
      const secret = world.token.slice(4)
      assert.isAbove(secret.length, 20)
      assert.notInclude(output, secret)
      assert.notInclude(world.results, secret)
      const events = JSON.stringify((yield* world.engine.snapshot).threads)
      assert.notInclude(events, secret)
      assert.include(world.results, "-32001")
    })
  )
})
