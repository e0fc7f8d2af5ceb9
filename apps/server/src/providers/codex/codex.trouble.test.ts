// The real Codex CLI in trouble, and the thread showing it: a model on a closed port (Codex retries
// for ever: the thread shows its errors, then `stalled`, then the turn is stopped with the reason),
// an MCP server that does not start, and a config Codex refuses at start (its own words reach the
// user).
import { assert, describe, it } from "@effect/vitest"
import type { SpindleEvent, ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as References from "effect/References"
import { formatThread, threadState } from "../../cli/threadView.ts"
import { closedPort } from "../../testing/closedPort.ts"
import { allGone, codexPid, codexWorld, eventsUntil, turnEnded } from "../../testing/providers.ts"

/** Every log entry (debug included) of what runs inside, as `LEVEL message`. */
const capturingLogs = (lines: Array<string>) =>
  Layer.mergeAll(
    Logger.layer([
      Logger.make((entry) => {
        const parts = Array.isArray(entry.message) ? entry.message : [entry.message]
        lines.push(`${entry.logLevel} ${parts.map(String).join(" ")}`)
      })
    ]),
    Layer.succeed(References.MinimumLogLevel, "Debug")
  )

type Noticed = Extract<SpindleEvent, { type: "thread.agent-noticed" }>
type Ended = Extract<SpindleEvent, { type: "thread.turn-ended" }>

describe("an agent in trouble (real codex app-server)", () => {
  it.live(
    "a model on a closed port: Codex's retries show on the thread within 30 s, the turn becomes stalled, then is stopped with the reason",
    () =>
      Effect.gen(function* () {
        const world = yield* codexWorld({}, { turnStallTimeoutMs: 4_000, turnStallInterruptMs: 14_000 })
        // The fake model goes away: its port is closed, as a stopped local model's would be.
        yield* Effect.promise(() => world.model.close())
        const started = yield* world.start("t1", "say something")
        const t0 = Date.now()
        const noticed = yield* eventsUntil(
          world.engine,
          "t1",
          (e) => e.type === "thread.agent-noticed" && e.payload.notice.level === "error",
          "30 seconds"
        )
        const error = (noticed.at(-1) as Noticed).payload.notice
        assert.strictEqual(error.source, "codex")
        assert.strictEqual(error.willRetry, true)
        assert.include(error.message, "Reconnecting")
        assert.isNotNull(error.turnId, "it belongs to the turn")
        const pid = codexPid(started.worktreePath)

        const untilStalled = yield* eventsUntil(world.engine, "t1", (e) => e.type === "thread.turn-stalled")
        const stalledAt = Date.now() - t0
        const thread = (yield* world.engine.getThread("t1" as ThreadId))!
        assert.strictEqual(threadState(thread), "stalled")
        assert.strictEqual(thread.latestTurn?.status, "running", "stalled, not ended")
        const shown = formatThread(thread)
        assert.match(shown, /turn stalled/)
        assert.include(shown, "Reconnecting", "thread show lists the agent's errors")
        assert.isFalse(
          untilStalled.some((e) => e.type === "thread.turn-ended"),
          "marked stalled while the turn runs"
        )

        const ended = (yield* turnEnded(world.engine, "t1")).at(-1) as Ended
        assert.strictEqual(ended.payload.status, "interrupted")
        assert.match(ended.payload.reason ?? "", /^The turn stalled: the agent showed no progress for \d+s/)
        assert.include(ended.payload.reason ?? "", "Reconnecting", "with what the agent last said")
        // The stuck session is stopped (the next prompt starts a new one, resuming the conversation).
        yield* eventsUntil(
          world.engine,
          "t1",
          (e) => e.type === "thread.session-changed" && e.payload.status === "stopped"
        )
        const after = (yield* world.engine.getThread("t1" as ThreadId))!
        assert.strictEqual(after.latestTurn?.stalledSince, null)
        // Retries are counted, not each recorded.
        const notices = after.agentNotices.filter((n) => n.source === "codex" && n.level === "error")
        assert.strictEqual(notices.length, 1)
        if (pid !== undefined) yield* allGone([pid])
        yield* Effect.logInfo(`closed port: first error notice, stalled after ${stalledAt} ms`)
      }),
    120_000
  )

  it.live(
    "an MCP server that fails to start is a warning on the thread, naming it; the turn still runs; what Spindle does not map is in the debug log",
    () => {
      const logs: Array<string> = []
      return Effect.gen(function* () {
        const port = yield* closedPort
        const world = yield* codexWorld({
          codexConfig: [
            `mcp_servers.docs.url="http://127.0.0.1:${port}/mcp"`,
            "mcp_servers.docs.startup_timeout_sec=5"
          ]
        })
        yield* world.start("t1", "hello")
        const events = yield* turnEnded(world.engine, "t1")
        assert.strictEqual((events.at(-1) as Ended).payload.status, "completed")
        const warning = events.find(
          (e): e is Noticed => e.type === "thread.agent-noticed" && e.payload.notice.source === "mcp:docs"
        )
        assert.isDefined(warning, `events: ${events.map((e) => e.type).join(", ")}`)
        assert.strictEqual(warning?.payload.notice.level, "warning")
        assert.include(warning?.payload.notice.message ?? "", "MCP server 'docs' failed to start.")
        assert.include(warning?.payload.notice.message ?? "", `127.0.0.1:${port}`)
        const thread = (yield* world.engine.getThread("t1" as ThreadId))!
        assert.isTrue(thread.agentNotices.some((n) => n.source === "mcp:docs"))
        assert.include(formatThread(thread), "MCP server 'docs' failed to start")
        // Never dropped unseen: Codex's notifications Spindle does not record are debug lines.
        assert.isTrue(
          logs.some(
            (line) =>
              line.startsWith("Debug Codex sent turn/diff/updated") ||
              line.startsWith("Debug Codex sent thread/started")
          ),
          logs
            .filter((line) => line.includes("Codex sent"))
            .join("\n")
            .slice(0, 2000)
        )
        assert.isTrue(logs.some((line) => line.startsWith("Info The agent reports (mcp:docs)")))
      }).pipe(Effect.provide(capturingLogs(logs)))
    },
    120_000
  )

  it.live(
    "a provider config Codex refuses at start (no name, as in a local-model setup): the turn fails with Codex's own words",
    () =>
      Effect.gen(function* () {
        const world = yield* codexWorld(
          {},
          {
            codexConfig: [
              'model="qwen2.5-coder"',
              'model_provider="local"',
              'model_providers.local.base_url="http://127.0.0.1:9/v1"',
              'model_providers.local.wire_api="responses"'
            ]
          }
        )
        yield* world.start("t1", "hello")
        const ended = (yield* turnEnded(world.engine, "t1")).at(-1) as Ended
        assert.strictEqual(ended.payload.status, "failed")
        const reason = ended.payload.reason ?? ""
        assert.include(reason, "provider name must not be empty")
        assert.include(reason, "exited with code 1")
        assert.include(reason, "initialize")
        assert.notInclude(reason, "\u001b[", "no colour codes")
        const thread = (yield* world.engine.getThread("t1" as ThreadId))!
        assert.strictEqual(thread.session.status, "error")
        assert.include(thread.session.error ?? "", "provider name must not be empty")
      }),
    120_000
  )
})
