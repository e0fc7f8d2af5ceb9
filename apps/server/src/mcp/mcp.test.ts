import { existsSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { git } from "../testing/fixtures.ts"
import { callTool, mcpClient, mcpWorld } from "../testing/mcp.ts"

const _worktreeCount = (repo: string) =>
  git(repo, "worktree", "list", "--porcelain").split("\nworktree ").length

describe("MCP t3_thread_start", () => {
  it.live("lists the tools with schemas, and starts a child thread in a new worktree", () =>
    Effect.gen(function* () {
      const world = yield* mcpWorld()
      const client = yield* mcpClient(world.url, world.token)
      const { tools } = yield* Effect.promise(() => client.listTools())
      assert.deepStrictEqual(tools.map((t) => t.name).sort(), [
        "t3_thread_list",
        "t3_thread_merge",
        "t3_thread_send",
        "t3_thread_start",
        "t3_thread_status",
        "t3_thread_stop",
        "t3_thread_wait",
        "t3_threads_start"
      ])
      const start = tools.find((t) => t.name === "t3_thread_start")!
      assert.strictEqual(start.inputSchema.type, "object")
      assert.deepStrictEqual(start.inputSchema.required, ["prompt"])
      assert.include(start.description ?? "", "ONLY when the user explicitly asks")
      assert.isFalse(start.annotations?.readOnlyHint)
      assert.isFalse(start.annotations?.destructiveHint)

      const result = yield* callTool(client, "t3_thread_start", {
        prompt: "  write the docs  ",
        tags: ["docs"]
      })
      assert.isUndefined(result.isError)
      const out = result.structuredContent as Record<string, any>
      assert.strictEqual(out.parentThreadId, "parent")
      assert.strictEqual(out.projectId, "p1")
      assert.strictEqual(out.mode, "new_worktree")
      assert.match(out.branch, /^spindle\/[0-9a-f]{8}$/)
      assert.strictEqual(out.baseBranch, "main")
      assert.isTrue(existsSync(join(out.worktreePath, "README.md")))
      assert.deepStrictEqual(JSON.parse((result.content as Array<{ text: string }>)[0]!.text), out)
      const thread = (yield* world.engine.getThread(out.threadId))!
      assert.strictEqual(thread.parentThreadId, "parent")
      assert.deepStrictEqual(thread.tags, ["docs"])
      assert.strictEqual(thread.workspace.worktreePath, out.worktreePath)
    })
  )
})
