// Scenario "mcp": t3_thread_start in current_checkout mode (no setup) over the MCP SDK client,
// against a cheap tool call (t3_thread_list) on the same server, and against the same bootstrap
// sent over the WebSocket, all in one run.
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { makeClient } from "../apps/server/src/cli/rpcClient.ts"
import { callTool, mcpClient, mcpWorld } from "../apps/server/src/testing/mcp.ts"
import { type BenchResult, formatMs, ratio, time } from "./report.ts"

const CALLS = 200

export const run = async (): Promise<BenchResult> => {
  const scope = Effect.runSync(Scope.make())
  try {
    const world = await Effect.runPromise(
      Scope.provide(
        mcpWorld({
          settings: {
            limits: {
              bootstrapsPerProject: 16,
              activeThreadsPerProject: 10_000,
              spawnDepth: 3,
              childrenPerThread: 10_000,
              runningTurns: Number.POSITIVE_INFINITY,
              wakesPerHour: 20
            }
          }
        }),
        scope
      )
    )
    const mcp = await Effect.runPromise(Scope.provide(mcpClient(world.url, world.token), scope))
    const ws = await Effect.runPromise(
      Scope.provide(makeClient({ url: world.url, token: world.ownerToken }), scope)
    )
    const noop = await time(CALLS, () => Effect.runPromise(callTool(mcp, "t3_thread_list", {})))
    const start = await time(CALLS, (i) =>
      Effect.runPromise(callTool(mcp, "t3_thread_start", { prompt: `bench ${i}`, mode: "current_checkout" }))
    )
    const overWs = await time(CALLS, (i) =>
      Effect.runPromise(
        ws["orchestration.dispatchCommand"]({
          command: {
            type: "thread.turn.start",
            commandId: `ws-bench-${i}`,
            threadId: `ws-bench-${i}`,
            prompt: `bench ${i}`,
            bootstrap: { createThread: { projectId: "p1" }, workspace: { mode: "current_checkout" } }
          },
          await: "workspace"
        })
      )
    )
    return {
      name: "mcp",
      lines: [
        `${CALLS} t3_thread_start (current_checkout, no setup) over MCP: p50 ${formatMs(start.p50)}, p99 ${formatMs(start.p99)}`,
        `${CALLS} t3_thread_list (cheap tool) over MCP: p50 ${formatMs(noop.p50)}, p99 ${formatMs(noop.p99)}; ratio ${ratio(start.p50, noop.p50)}`,
        `${CALLS} same bootstrap over /ws: p50 ${formatMs(overWs.p50)}, p99 ${formatMs(overWs.p99)}; MCP/WS ratio ${ratio(start.p50, overWs.p50)}`
      ]
    }
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
}
