// Test wiring for MCP: a real server in-process, a registered project on a real repository, a
// parent thread, a provider token for it, and the SDK's real client. Not shipped.
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import {
  CommandId,
  ProjectId,
  type ProviderCapability,
  type RuntimeMode,
  type ThreadId
} from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { ProviderTokens } from "../auth/ProviderTokens.ts"
import { Commands } from "../commands/Commands.ts"
import type { ServerSettings } from "../config/ServerConfig.ts"
import { gitRepo, serverActor } from "./fixtures.ts"
import { inProcessServer } from "./inProcessServer.ts"

export const mcpClient = (url: string, token: string | undefined) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const client = new Client({ name: "spindle-test", version: "1.0.0" })
      const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
        requestInit: { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } }
      })
      await client.connect(transport)
      return client
    }),
    (client) => Effect.promise(() => client.close()).pipe(Effect.ignore)
  )

/** A server, a project `p1` over a fresh repository, a parent thread `parent` in its checkout. */
export const mcpWorld = (
  options: {
    readonly setupScript?: string
    readonly settings?: Partial<ServerSettings>
    readonly waitReady?: boolean
    /** The parent's runtimeMode (default: the project's, sandboxed); command children need full-access. */
    readonly parentRuntimeMode?: RuntimeMode
  } = {}
) =>
  Effect.gen(function* () {
    const server = yield* inProcessServer(options.settings, { waitReady: options.waitReady ?? true })
    const repo = yield* gitRepo
    const commands = Context.get(server.context, Commands)
    const providerTokens = Context.get(server.context, ProviderTokens)
    // Straight through the engine, so a world can be set up while the server is still starting.
    yield* server.engine.ready
    yield* server.engine.dispatch(
      {
        type: "project.create",
        commandId: CommandId.make("register"),
        projectId: ProjectId.make("p1"),
        workspaceRoot: repo,
        defaultBranch: "main",
        ...(options.setupScript === undefined ? {} : { setupScript: options.setupScript })
      },
      serverActor
    )
    yield* server.engine.dispatch(
      {
        type: "thread.create",
        commandId: CommandId.make("parent"),
        threadId: "parent" as ThreadId,
        projectId: ProjectId.make("p1"),
        title: "parent",
        ...(options.parentRuntimeMode === undefined ? {} : { runtimeMode: options.parentRuntimeMode })
      },
      serverActor
    )
    const issue = (
      threadId = "parent",
      capabilities: ReadonlyArray<ProviderCapability> = ["thread-management", "thread-read"]
    ) =>
      Effect.map(
        providerTokens.issue({
          threadId: threadId as ThreadId,
          projectId: "p1" as never,
          providerSessionId: `session-${threadId}`,
          capabilities: [...capabilities]
        }),
        (issued) => issued.token
      )
    const token = yield* issue()
    return { ...server, repo, commands, providerTokens, issue, token }
  })

/** structuredContent of a successful call, or a failure with the tool's error text. */
export const callTool = (client: Client, name: string, args: Record<string, unknown>) =>
  Effect.promise(() => client.callTool({ name, arguments: args }))

/** A raw MCP initialize POST; answers status and headers. */
export const rawInitialize = (url: string, headers: Record<string, string>) =>
  Effect.promise(async () => {
    const response = await fetch(`${url}/mcp`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        ...headers
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } }
      })
    })
    const body = await response.text()
    return {
      status: response.status,
      authenticate: response.headers.get("www-authenticate"),
      session: response.headers.get("mcp-session-id"),
      body
    }
  })
