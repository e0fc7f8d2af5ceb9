// A parent hears about its children without polling: a notice on its thread, a log notification on
// its MCP session, and the notice with its agent's next prompt (the real server, real git, the
// command provider as the agents).
import { assert, describe, it } from "@effect/vitest"
import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js"
import type { ThreadId } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { ProviderTokens } from "../auth/ProviderTokens.ts"
import { callTool, mcpClient } from "../testing/mcp.ts"
import { eventsUntil, PROJECT, providersOn, providerWorld, turnEnded } from "../testing/providers.ts"

/** Echoes its prompt as it got it; "approve" asks nothing here, "fail" exits 3. */
const AGENT = ["/bin/sh", "-c", 'printf "%s\\n" "$1"; [ "$1" != fail ] || exit 3', "agent", "{prompt}"]

describe("child notices", () => {
  it.live(
    "a child's ended turn becomes a notice on the parent, a log notification on the parent's MCP session, and part of the parent's next prompt",
    () =>
      Effect.gen(function* () {
        const world = yield* providerWorld(providersOn, { agentCommand: AGENT })
        yield* world.start("lead", "lead", { provider: "command" })
        yield* turnEnded(world.engine, "lead")
        const issued = yield* Context.get(world.server.context, ProviderTokens).issue({
          threadId: "lead" as ThreadId,
          projectId: PROJECT,
          providerSessionId: "session-lead",
          capabilities: ["thread-management", "thread-read"]
        })
        const agent = yield* mcpClient(world.server.url, issued.token)
        const heard: Array<Record<string, unknown>> = []
        agent.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
          heard.push(notification.params.data as Record<string, unknown>)
        })
        const child = (yield* callTool(agent, "t3_thread_start", {
          prompt: "fail",
          provider: "command",
          onDone: "next-prompt"
        })).structuredContent as { threadId: string }
        yield* turnEnded(world.engine, child.threadId)

        const notified = yield* eventsUntil(world.engine, "lead", (e) => e.type === "thread.child-notified")
        const event = notified.at(-1)!
        assert.strictEqual(event.type, "thread.child-notified")
        if (event.type !== "thread.child-notified") return
        assert.strictEqual(event.payload.notice.childThreadId, child.threadId)
        assert.strictEqual(event.payload.notice.kind, "turn-failed")
        assert.include(event.payload.notice.text, "exited with code 3")
        const lead = (yield* world.engine.getThread("lead" as ThreadId))!
        assert.deepStrictEqual(
          lead.childNotices.map((n) => n.noticeId),
          [event.payload.notice.noticeId],
          "it waits for the parent's next turn"
        )
        // Delivered on the MCP session too (bounded wait for the notification to arrive).
        yield* Effect.sync(() => heard.length).pipe(
          Effect.repeat({ until: (n) => n > 0, schedule: Schedule.spaced("10 millis") }),
          Effect.timeout("5 seconds")
        )
        assert.strictEqual(heard[0]!.type, "child-notice")
        assert.strictEqual(heard[0]!.childThreadId, child.threadId)

        // The parent's next turn gets it before its prompt.
        yield* world.send({ type: "thread.turn.start", threadId: "lead", prompt: "what now?", turnId: "u2" })
        const next = yield* turnEnded(world.engine, "lead", "u2")
        const said = next.flatMap((e) => (e.type === "thread.turn-item" ? [e.payload.item.text ?? ""] : []))
        assert.isTrue(
          said.some((line) => line.includes(`[Spindle] Child thread ${child.threadId}`)),
          said.join("\n")
        )
        assert.include(said, "what now?")
        assert.deepStrictEqual((yield* world.engine.getThread("lead" as ThreadId))!.childNotices, [])
      })
  )
})
