// The conflict radar as a parent agent sees it, through the SDK's real client against a real
// server: t3_thread_status of a child names the sibling whose changes overlap its own, t3_thread_wait
// carries the overlaps of the threads waited for, and t3_thread_status of the parent itself gives
// the suggested merge order (the child overlapping nobody first; of the conflicting pair, the one
// merged second says which sibling to merge before it). Reading another thread's status stays refused.
import { assert, describe, it } from "@effect/vitest"
import type { MergeOrderEntry, ThreadOverlap } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { ConflictRadar } from "../radar/ConflictRadar.ts"
import { commitFile } from "../testing/fixtures.ts"
import { callTool, mcpClient, mcpWorld } from "../testing/mcp.ts"

const BASE = "1\n2\n3\n4\n5\n6\n"

describe("the conflict radar over MCP", () => {
  it.live("overlaps in t3_thread_status and t3_thread_wait; the parent's merge order", () =>
    Effect.gen(function* () {
      const world = yield* mcpWorld()
      commitFile(world.repo, "shared.txt", BASE)
      const parent = yield* mcpClient(world.url, world.token)
      const start = (prompt: string) =>
        Effect.map(
          callTool(parent, "t3_thread_start", { prompt, runSetupScript: false }),
          (r) => r.structuredContent as { threadId: string; worktreePath: string }
        )
      const one = yield* start("one")
      const two = yield* start("two")
      const three = yield* start("three")
      commitFile(one.worktreePath, "shared.txt", BASE.replace("3\n", "three by one\n"))
      commitFile(two.worktreePath, "shared.txt", BASE.replace("3\n", "three by two\n"))
      commitFile(three.worktreePath, "elsewhere.txt", "three\n")
      const pair = [one.threadId, two.threadId].sort()
      yield* world.engine.events(0).pipe(
        Stream.filter(
          (e) => e.type === "project.overlap-changed" && e.payload.threadIds.join() === pair.join()
        ),
        Stream.runHead,
        Effect.timeout("20 seconds"),
        Effect.orDie
      )
      const radar = Context.getUnsafe(world.context, ConflictRadar)
      yield* radar.caughtUp((yield* world.engine.readModel).sequence)

      const status = yield* callTool(parent, "t3_thread_status", { threadId: one.threadId })
      assert.isUndefined(status.isError, JSON.stringify(status.content))
      const { overlaps } = status.structuredContent as { overlaps: ReadonlyArray<ThreadOverlap> }
      assert.deepStrictEqual<ReadonlyArray<string>>(overlaps[0]?.threadIds ?? [], pair)
      assert.deepStrictEqual(
        overlaps[0]?.files.map((f) => f.path),
        ["shared.txt"]
      )
      assert.deepStrictEqual(overlaps[0]?.files[0]?.ranges[one.threadId], [{ start: 3, end: 3 }])
      const quiet = yield* callTool(parent, "t3_thread_status", { threadId: three.threadId })
      assert.notProperty(quiet.structuredContent, "overlaps")

      const waited = yield* callTool(parent, "t3_thread_wait", {
        threadIds: [two.threadId],
        timeoutSeconds: 0
      })
      assert.deepStrictEqual<ReadonlyArray<string>>(
        (waited.structuredContent as { overlaps: ReadonlyArray<ThreadOverlap> }).overlaps[0]?.threadIds ?? [],
        pair
      )

      const own = yield* callTool(parent, "t3_thread_status", { threadId: "parent" })
      assert.isUndefined(own.isError, JSON.stringify(own.content))
      const order = (own.structuredContent as { mergeOrder: ReadonlyArray<MergeOrderEntry> }).mergeOrder
      assert.deepStrictEqual<ReadonlyArray<string>>(
        order.map((e) => e.threadId),
        [three.threadId, one.threadId, two.threadId]
      )
      assert.deepStrictEqual<ReadonlyArray<string>>(order[2]?.conflictsWith ?? [], [one.threadId])
      assert.include(order[2]?.note ?? "", `conflicts with ${one.threadId}`)

      // A child reads itself, not its sibling.
      const child = yield* mcpClient(world.url, yield* world.issue(two.threadId))
      const self = yield* callTool(child, "t3_thread_status", { threadId: two.threadId })
      assert.isUndefined(self.isError, JSON.stringify(self.content))
      const sibling = yield* callTool(child, "t3_thread_status", { threadId: one.threadId })
      assert.isTrue(sibling.isError)
    })
  )
})
