// An agent in trouble, as a user meets it: the real server (`npm start`) runs the real Codex CLI
// with its model on a closed loopback port (Codex retries for ever) and a project MCP server that
// cannot start; an agent starts a child over MCP. The trouble must show on the thread within 30 s,
// the turn must be `stalled` at the server's (short) stall timeout, over the WebSocket and the MCP
// status tools alike, then stopped with the reason, in a bounded number of events. A second
// project whose Codex config Codex refuses at start must fail its turn with Codex's own words.
import { join } from "node:path"
import { describe, it } from "@effect/vitest"
import type { Thread, ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type { SpindleClient } from "../src/cli/rpcClient.ts"
import { threadState } from "../src/cli/threadView.ts"
import { closedPort } from "../src/testing/closedPort.ts"
import { gitRepo, tempDir } from "../src/testing/fixtures.ts"
import { CODEX_BIN, codexHome } from "../src/testing/providers.ts"
import { checkServerInvariants } from "./harness/invariants.ts"
import { connectMcp } from "./harness/mcp.ts"
import { promise, runScenario } from "./harness/scenario.ts"
import { startSpindle } from "./harness/spindle.ts"
import { adminClient, createProject, dispatch } from "./harness/world.ts"

const STALL = "5s"
const STALL_INTERRUPT = "25s"

/** Polls the thread (every 250 ms, at most `seconds`) until `ok`; answers it and when, or undefined. */
const until = (client: SpindleClient, threadId: string, ok: (t: Thread) => boolean, seconds: number) =>
  Effect.gen(function* () {
    const started = Date.now()
    const thread = yield* client["thread.get"]({ threadId: threadId as ThreadId }).pipe(
      Effect.repeat({ until: ok, schedule: Schedule.spaced("250 millis") }),
      Effect.timeoutOption(`${seconds} seconds`)
    )
    return thread._tag === "Some" ? { thread: thread.value, ms: Date.now() - started } : undefined
  })

const structured = (answer: unknown) =>
  (answer as { structuredContent?: Record<string, unknown> }).structuredContent

describe("reliability: agent trouble", () => {
  it.live(
    "a Codex on a closed port shows its trouble within 30 s, is stalled, then stopped; a failed MCP start and a refused config are shown",
    () =>
      runScenario("agent-trouble", "Agent trouble", (report) =>
        Effect.gen(function* () {
          const dir = yield* tempDir("spindle-agent-trouble-")
          const modelPort = yield* closedPort
          const mcpPort = yield* closedPort
          const home = yield* codexHome
          const model = `model_providers.mock`
          const server = yield* startSpindle(join(dir, "home"), {
            env: { CODEX_HOME: home },
            args: [
              "--providers",
              "on",
              "--codex-bin",
              CODEX_BIN,
              ...[
                'model="mock-model"',
                'model_provider="mock"',
                `${model}.name="mock"`,
                `${model}.base_url="http://127.0.0.1:${modelPort}/v1"`,
                `${model}.wire_api="responses"`,
                "features.plugins=false",
                "analytics.enabled=false"
              ].flatMap((kv) => ["--codex-config", kv]),
              "--turn-stall-timeout",
              STALL,
              "--turn-stall-interrupt",
              STALL_INTERRUPT
            ]
          })
          const admin = yield* adminClient(server)
          yield* createProject(admin, "p1", yield* gitRepo, {
            codexConfig: [`mcp_servers.docs.url="http://127.0.0.1:${mcpPort}/mcp"`]
          })
          // The parent agent: a thread with a provider token, as Codex would hold it.
          yield* dispatch(admin, {
            type: "thread.create",
            commandId: "create-parent",
            threadId: "parent",
            projectId: "p1",
            title: "parent agent"
          })
          const token = (yield* admin["token.issueMcp"]({ threadId: "parent" as never })).token
          const mcp = yield* Effect.acquireRelease(
            promise(() => connectMcp(server.url, token)),
            (c) => Effect.promise(() => c.close()).pipe(Effect.ignore)
          )
          const started = structured(
            yield* promise(() =>
              mcp.callTool({
                name: "t3_thread_start",
                arguments: { prompt: "say hello", runSetupScript: false }
              })
            )
          )
          const child = String(started?.threadId ?? "")
          report.check(
            "the agent's child started",
            child === "" ? [JSON.stringify(started).slice(0, 300)] : []
          )

          // 1. The trouble shows within 30 s.
          const shown = yield* until(
            admin,
            child,
            (t) => t.agentNotices.some((n) => n.level === "error" && n.source === "codex"),
            30
          )
          report.check(
            "a Codex pointed at a closed port: its errors show on the thread within 30 s",
            shown === undefined ? ["no error notice within 30 s"] : []
          )
          if (shown !== undefined) report.figure("first error shown after (ms)", shown.ms)
          const retry = shown?.thread.agentNotices.find((n) => n.source === "codex" && n.level === "error")
          report.check(
            "the error says Codex retries, in its own words",
            retry?.willRetry === true && retry.message.includes("Reconnecting")
              ? []
              : [`got ${JSON.stringify(retry ?? null)}`]
          )

          // 2. Stalled at the stall timeout, over the WebSocket and over MCP.
          const stalled = yield* until(admin, child, (t) => threadState(t) === "stalled", 60)
          report.check(
            `the turn is stalled at the stall timeout (${STALL})`,
            stalled === undefined ? ["not stalled within 60 s"] : []
          )
          if (shown !== undefined && stalled !== undefined)
            report.figure("stalled after (ms from the first error)", stalled.ms)
          const status = structured(
            yield* promise(() => mcp.callTool({ name: "t3_thread_status", arguments: { threadId: child } }))
          )
          const viaMcp = status?.thread as Thread | undefined
          report.check(
            "t3_thread_status shows the stall and the agent's errors",
            viaMcp?.latestTurn?.stalledSince != null && viaMcp.agentNotices.some((n) => n.level === "error")
              ? []
              : [JSON.stringify(viaMcp?.latestTurn ?? null).slice(0, 300)]
          )
          const waited = structured(
            yield* promise(() =>
              mcp.callTool({ name: "t3_thread_wait", arguments: { threadIds: [child], timeoutSeconds: 1 } })
            )
          )
          const waitedThread = (waited?.threads as Array<Thread> | undefined)?.[0]
          report.check(
            "t3_thread_wait answers the stalled thread as it is",
            waitedThread?.latestTurn?.stalledSince != null
              ? []
              : [JSON.stringify(waited ?? null).slice(0, 300)]
          )

          // 3. The failed MCP start.
          const mcpNotice = (stalled?.thread ?? shown?.thread)?.agentNotices.find(
            (n) => n.source === "mcp:docs"
          )
          report.check(
            "a failed MCP start is shown on the thread",
            mcpNotice?.level === "warning" && mcpNotice.message.includes("MCP server 'docs' failed to start")
              ? []
              : [JSON.stringify(mcpNotice ?? null)]
          )

          // 4. Stopped at the interrupt timeout, with the reason; retries cost a bounded number of events.
          const ended = yield* until(admin, child, (t) => t.latestTurn?.status === "interrupted", 90)
          const reason = ended?.thread.latestTurn?.reason ?? ""
          report.check(
            `the stalled turn is stopped at the interrupt timeout (${STALL_INTERRUPT}) with the reason`,
            ended !== undefined && /^The turn stalled: the agent showed no progress for/.test(reason)
              ? []
              : [`turn ${ended?.thread.latestTurn?.status ?? "still live"}: ${reason.slice(0, 200)}`]
          )
          const events = yield* admin["thread.events"]({ threadId: child as ThreadId, limit: 1000 })
          const noticed = events.filter((e) => e.type === "thread.agent-noticed").length
          const retries =
            ended?.thread.agentNotices.find((n) => n.source === "codex" && n.level === "error")?.count ?? 0
          report.figure(
            "Codex retry errors seen / notice events written (every source)",
            `${retries} / ${noticed}`
          )
          report.check(
            "retries are counted, not each recorded (notice events at most 12 per notice)",
            noticed <= 12 * Math.max(1, ended?.thread.agentNotices.length ?? 1) ? [] : [`${noticed} events`]
          )

          // 5. A Codex config refused at start says why.
          yield* createProject(admin, "p2", yield* gitRepo, {
            codexConfig: ['model_provider="local"', 'model_providers.local.base_url="http://127.0.0.1:9/v1"']
          })
          yield* dispatch(
            admin,
            {
              type: "thread.turn.start",
              commandId: "start-bad-config",
              threadId: "badconfig",
              prompt: "hello",
              bootstrap: {
                createThread: { projectId: "p2" },
                workspace: { mode: "new_worktree" },
                runSetupScript: false
              }
            },
            "turn"
          )
          const refused = yield* until(admin, "badconfig", (t) => t.latestTurn?.status === "failed", 60)
          report.check(
            "a Codex that exits at start: the turn fails with its own last words",
            (refused?.thread.latestTurn?.reason ?? "").includes("provider name must not be empty")
              ? []
              : [(refused?.thread.latestTurn?.reason ?? "not failed within 60 s").slice(0, 300)]
          )

          yield* checkServerInvariants(report, server, admin, [server.ownerToken, token])
        })
      )
  )
})
