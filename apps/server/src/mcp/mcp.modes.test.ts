// No rights widening through the provider, over MCP: a command agent has no sandbox and no
// approvals, so only a full-access thread may start one; any other parent is refused before a
// thread, a worktree or a process exists. The real server, real git, the command provider.
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { git, serverActor, tempDir } from "../testing/fixtures.ts"
import { callTool, mcpClient, mcpWorld } from "../testing/mcp.ts"
import { providersOn } from "../testing/providers.ts"

const refusalOf = (result: object) =>
  JSON.parse((result as { content: Array<{ text: string }> }).content[0]!.text) as {
    error: string
    message: string
    field?: string
  }

describe("a command agent's parent", () => {
  it.live(
    "an approval-required or sandboxed thread cannot start a command agent (nothing is made, nothing runs); a full-access one can",
    () =>
      Effect.gen(function* () {
        const world = yield* mcpWorld({ settings: { providers: providersOn } })
        // Each run of the agent leaves its prompt here, outside every worktree.
        const ran = join(yield* tempDir("spindle-ran-"), "ran.txt")
        yield* world.commands.dispatch(
          {
            type: "project.update",
            commandId: "agent",
            projectId: "p1",
            agentCommand: ["/bin/sh", "-c", `printf '%s\\n' "$1" >> '${ran}'`, "agent", "{prompt}"]
          },
          serverActor
        )
        const agentIn = (threadId: string, runtimeMode: string) =>
          Effect.gen(function* () {
            yield* world.commands.dispatch(
              {
                type: "thread.create",
                commandId: `c-${threadId}`,
                threadId,
                projectId: "p1",
                title: threadId,
                runtimeMode
              },
              serverActor
            )
            return yield* mcpClient(world.url, yield* world.issue(threadId))
          })
        const worktrees = () => git(world.repo, "worktree", "list", "--porcelain").split("\n\n").length
        const before = worktrees()

        for (const mode of ["approval-required", "sandboxed"]) {
          const agent = yield* agentIn(`parent-${mode}`, mode)
          for (const args of [
            { prompt: `${mode}-new`, provider: "command" },
            { prompt: `${mode}-here`, provider: "command", mode: "current_checkout" }
          ]) {
            const result = yield* callTool(agent, "t3_thread_start", args)
            assert.isTrue(result.isError, `${mode}: ${JSON.stringify(result.structuredContent)}`)
            const refusal = refusalOf(result)
            assert.strictEqual(refusal.error, "forbidden")
            assert.strictEqual(refusal.field, "provider")
            assert.include(refusal.message, `runs in ${mode} mode`)
            assert.include(refusal.message, "only a full-access thread may start one")
            assert.include(refusal.message, "Use provider codex with runtimeMode approval-required")
          }
          // Leaving the provider out inherits the parent's: Codex, in the parent's mode.
          const inherited = yield* callTool(agent, "t3_thread_start", {
            prompt: "x",
            mode: "current_checkout"
          })
          assert.isNotTrue(inherited.isError)
          const child = (yield* world.engine.snapshot).threads.find(
            (t) => t.id === (inherited.structuredContent as { threadId: string }).threadId
          )
          assert.strictEqual(child?.provider, "codex")
          assert.strictEqual(child?.runtimeMode, mode)
        }
        const snapshot = yield* world.engine.snapshot
        assert.deepStrictEqual(
          snapshot.threads.filter((t) => t.provider === "command").map((t) => t.id),
          [],
          "no command thread was made"
        )
        assert.strictEqual(worktrees(), before, "no worktree was added")
        assert.isFalse(existsSync(ran), "the agent command never ran")

        const free = yield* agentIn("parent-free", "full-access")
        const allowed = yield* callTool(free, "t3_thread_start", { prompt: "from-free", provider: "command" })
        assert.isNotTrue(allowed.isError, JSON.stringify(allowed.content))
        const heard = yield* Effect.sync(() => (existsSync(ran) ? readFileSync(ran, "utf8") : "")).pipe(
          Effect.repeat({
            until: (text) => text.includes("from-free"),
            schedule: Schedule.spaced("20 millis")
          }),
          Effect.timeout("20 seconds")
        )
        assert.strictEqual(heard, "from-free\n")
      }),
    60_000
  )
})
