// Best of N over MCP (the SDK's real client, the real server, real git, command agents): a parent
// starts one prompt as two variants with t3_threads_start, and t3_thread_status of a variant compares
// them; a check command from an agent is refused (forbidden), and so is bad input, each before any
// thread is started.
import { assert, describe, it } from "@effect/vitest"
import type { AttemptComparison, Thread, ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import { serverActor } from "../testing/fixtures.ts"
import { callTool, mcpClient, mcpWorld } from "../testing/mcp.ts"
import { providersOn } from "../testing/providers.ts"

/** Commits its prompt to notes.txt, so every variant changes the same file. */
const AGENT = [
  "/bin/sh",
  "-c",
  'printf "%s\\n" "$1" > notes.txt; git add notes.txt; git -c user.name=a -c user.email=a@spindle.invalid commit -qm note; echo "done: $1"',
  "agent",
  "{prompt}"
]

describe("t3_threads_start with variants", () => {
  it.live("refuses a check and bad input, starts an attempt, compares it in t3_thread_status", () =>
    Effect.gen(function* () {
      const world = yield* mcpWorld({
        settings: { providers: providersOn },
        parentRuntimeMode: "full-access"
      })
      yield* world.commands.dispatch(
        { type: "project.update", commandId: "agent", projectId: "p1", agentCommand: AGENT },
        serverActor
      )
      const client = yield* mcpClient(world.url, world.token)
      const refusal = (args: Record<string, unknown>) =>
        Effect.map(callTool(client, "t3_threads_start", args), (result) => {
          assert.isTrue(result.isError, JSON.stringify(args))
          return JSON.parse((result.content as Array<{ text: string }>)[0]!.text) as {
            error: string
            message: string
            field?: string
          }
        })
      const threadCount = Effect.map(world.engine.readModel, (model) => HashMap.size(model.threads))
      const before = yield* threadCount
      const one = [{ prompt: "do it" }]

      const check = yield* refusal({ provider: "command", variants: 2, check: "npm test", threads: one })
      assert.strictEqual(check.error, "forbidden")
      assert.strictEqual(check.field, "check")
      assert.include(check.message, "spindle thread start --variants")
      for (const [args, field] of [
        [{ variants: 9, threads: one }, "variants"],
        [{ variants: 3, models: ["a", "b"], threads: one }, "models"],
        [{ variants: 2, models: ["a", "b"], providers: ["command", "command"], threads: one }, "providers"],
        [{ models: ["a", "b"], threads: one }, "variants"],
        [{ variants: 2, threads: [{ prompt: "a" }, { prompt: "b" }] }, "threads"]
      ] as const) {
        const bad = yield* refusal({ provider: "command", ...args })
        assert.strictEqual(bad.error, "validation", bad.message)
        assert.strictEqual(bad.field, field, bad.message)
      }
      assert.strictEqual(yield* threadCount, before)

      const started = yield* callTool(client, "t3_threads_start", {
        provider: "command",
        variants: 2,
        threads: [{ prompt: "write notes" }]
      })
      assert.notStrictEqual(started.isError, true, JSON.stringify(started.content))
      const answer = started.structuredContent as {
        attemptId: string
        threads: Array<{ ok: boolean; threadId: ThreadId }>
      }
      assert.match(answer.attemptId, /^a-[0-9a-f]+$/)
      assert.deepStrictEqual(
        answer.threads.map((t) => t.ok),
        [true, true]
      )
      const ids = answer.threads.map((t) => t.threadId)
      const waited = yield* callTool(client, "t3_thread_wait", { threadIds: ids, until: "all" })
      assert.isTrue((waited.structuredContent as { done: boolean }).done)

      const status = yield* callTool(client, "t3_thread_status", { threadId: ids[1] })
      const { thread, attempt } = status.structuredContent as { thread: Thread; attempt: AttemptComparison }
      assert.deepStrictEqual<unknown>(thread.attempt, { id: answer.attemptId, index: 1, of: 2, check: null })
      assert.strictEqual(attempt.attemptId, answer.attemptId)
      assert.deepStrictEqual<unknown>(
        attempt.variants.map((v) => [v.threadId, v.turn, v.check, v.diff?.filesChanged]),
        ids.map((id) => [id, "completed", null, 1])
      )
      assert.deepStrictEqual<unknown>(attempt.overlaps, [{ threads: ids, files: ["notes.txt"] }])
    })
  )
})
