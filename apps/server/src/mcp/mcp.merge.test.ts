// t3_thread_merge through the SDK's real client: a parent agent previews, then merges its child's
// commits into the branch the child started from; a stranger's token and a read-only token are
// refused; the same tool refuses a child's conflict with its files and lines.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { commitFile, git } from "../testing/fixtures.ts"
import { callTool, mcpClient, mcpWorld } from "../testing/mcp.ts"

const errorOf = (result: object) =>
  JSON.parse(((result as { content?: Array<{ text: string }> }).content ?? [])[0]?.text ?? "{}") as {
    error: string
    message: string
  }

describe("t3_thread_merge", () => {
  it.live("a parent merges its child's work back; others cannot", () =>
    Effect.gen(function* () {
      const world = yield* mcpWorld()
      const parent = yield* mcpClient(world.url, world.token)
      const started = (yield* callTool(parent, "t3_thread_start", { prompt: "write notes" }))
        .structuredContent as { threadId: string; worktreePath: string }
      commitFile(started.worktreePath, "notes.txt", "notes\n")

      const dry = yield* callTool(parent, "t3_thread_merge", { threadId: started.threadId, dryRun: true })
      assert.isUndefined(dry.isError, JSON.stringify(dry.content))
      const preview = dry.structuredContent as { strategy: string; target: string; commit: string | null }
      assert.deepInclude(preview, { strategy: "ff-only", target: "main", commit: null })

      // The child itself, and the parent with read rights only, may not merge it.
      const strangerToken = yield* world.issue(started.threadId)
      const stranger = yield* mcpClient(world.url, strangerToken)
      const notMine = yield* callTool(stranger, "t3_thread_merge", { threadId: started.threadId })
      assert.isTrue(notMine.isError)
      assert.strictEqual(errorOf(notMine).error, "forbidden")
      const reader = yield* mcpClient(world.url, yield* world.issue("parent", ["thread-read"]))
      const readOnly = yield* callTool(reader, "t3_thread_merge", { threadId: started.threadId })
      assert.strictEqual(errorOf(readOnly).error, "forbidden")
      assert.include(errorOf(readOnly).message, "thread-management")

      const merged = yield* callTool(parent, "t3_thread_merge", { threadId: started.threadId })
      assert.isUndefined(merged.isError, JSON.stringify(merged.content))
      const result = merged.structuredContent as { commit: string }
      assert.strictEqual(git(world.repo, "rev-parse", "refs/heads/main").trim(), result.commit)
      assert.strictEqual(readFileSync(join(world.repo, "notes.txt"), "utf8"), "notes\n")

      const bad = yield* callTool(parent, "t3_thread_merge", { threadId: started.threadId, into: "main..x" })
      assert.strictEqual(errorOf(bad).error, "validation")
    })
  )
})
