// A tool call runs as a fiber of the server: the client cancelling it, or the server shutting down,
// interrupts it (seen in its span), instead of leaving it to run out its own timeout.
import { assert, describe, it } from "@effect/vitest"
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { callTool, mcpClient, mcpWorld } from "../testing/mcp.ts"
import { recordingTracer } from "../testing/tracing.ts"

const WAIT_SPAN = "ChildThreads.wait"

const until = (check: () => boolean) =>
  Effect.sync(check).pipe(
    Effect.repeat({ until: (ok) => ok, schedule: Schedule.spaced("20 millis") }),
    Effect.timeout("10 seconds")
  )

describe("MCP tool calls and their lifetimes", () => {
  it.live("a call the client cancels, and one the shutdown cuts off, stop on the server", () =>
    Effect.gen(function* () {
      const recording = recordingTracer()
      yield* Effect.scoped(
        Effect.gen(function* () {
          const world = yield* mcpWorld()
          const client = yield* mcpClient(world.url, world.token)
          // A child whose turn never starts (providers are off), so a wait for it waits.
          const started = yield* callTool(client, "t3_thread_start", { prompt: "wait for me" })
          const childId = (started.structuredContent as { threadId: string }).threadId
          const longWait = (signal?: AbortSignal) =>
            client
              .callTool(
                { name: "t3_thread_wait", arguments: { threadIds: [childId], timeoutSeconds: 50 } },
                CallToolResultSchema,
                { timeout: 60_000, ...(signal === undefined ? {} : { signal }) }
              )
              .catch((error: unknown) => error)

          const cancel = new AbortController()
          const cancelled = longWait(cancel.signal)
          yield* until(() => recording.named(WAIT_SPAN).length === 1)
          cancel.abort("no longer needed")
          yield* Effect.promise(() => cancelled)
          yield* until(() => recording.named(WAIT_SPAN)[0]?.ended !== undefined)
          assert.strictEqual(recording.named(WAIT_SPAN)[0]?.ended, "interrupted")

          void longWait()
          yield* until(() => recording.named(WAIT_SPAN).length === 2)
          assert.isUndefined(recording.named(WAIT_SPAN)[1]?.ended, "the second wait is still waiting")
        }).pipe(Effect.withTracer(recording.tracer))
      )
      // The server is gone: its waiting call was interrupted with it.
      assert.strictEqual(recording.named(WAIT_SPAN)[1]?.ended, "interrupted")
    })
  )
})
