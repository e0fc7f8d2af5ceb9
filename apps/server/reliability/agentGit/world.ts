// What every "agent with git" case gets: one real server, its admin client, a folder for the case's
// own repositories, and a way to act as an agent (a thread of a project, with its own MCP token and
// the SDK's real client). Each case makes its own project and repository, so cases never see each
// other's refs.
import type { Client } from "@modelcontextprotocol/sdk/client/index.js"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { SpindleClient } from "../../src/cli/rpcClient.ts"
import { connectMcp } from "../harness/mcp.ts"
import { promise, type Report } from "../harness/scenario.ts"
import type { Spindle } from "../harness/spindle.ts"
import { dispatch } from "../harness/world.ts"

export interface AgentGitWorld {
  readonly dir: string
  readonly server: Spindle
  readonly admin: SpindleClient
  readonly report: Report
  /** Creates `threadId` in `projectId` (extra fields go to thread.create) and connects as its agent. */
  readonly agent: (
    projectId: string,
    threadId: string,
    extra?: Record<string, unknown>
  ) => Effect.Effect<Client, unknown, Scope.Scope>
}

/** One case of the scenario: it makes its world, acts as the agent, and reports its checks. */
export interface AgentGitCase {
  readonly name: string
  readonly run: (world: AgentGitWorld) => Effect.Effect<void, unknown, Scope.Scope>
}

export const makeAgent =
  (server: Spindle, admin: SpindleClient) =>
  (projectId: string, threadId: string, extra: Record<string, unknown> = {}) =>
    Effect.gen(function* () {
      yield* dispatch(admin, {
        type: "thread.create",
        commandId: `create-${threadId}`,
        threadId,
        projectId,
        title: threadId,
        ...extra
      })
      const token = (yield* admin["token.issueMcp"]({ threadId: threadId as never })).token
      return yield* Effect.acquireRelease(
        promise(() => connectMcp(server.url, token)),
        (c) => Effect.promise(() => c.close()).pipe(Effect.ignore)
      )
    })
