// The ACP provider against a real ACP agent process (testing/acpAgent.ts) on a real server core:
// every kind of update arrives as items in order; Spindle's MCP server reaches the agent in
// session/new with the token in its headers and nowhere else; permission requests become approvals
// answered with the agent's own options; an interrupt cancels mid-tool-call; a crash fails the turn
// with the agent's last words; an agent that never answers initialize is a provider error; an idle
// stop and the next prompt resume the same conversation with session/load; files stay in the
// worktree.
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import type { SpindleEvent, ThreadId } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { ProviderTokens } from "../../auth/ProviderTokens.ts"
import type { ProviderSettings } from "../../config/ServerConfig.ts"
import { tempDir } from "../../testing/fixtures.ts"
import {
  eventsUntil,
  providersOn,
  providerWorld,
  TOKEN,
  turnEnded,
  turnEndOf
} from "../../testing/providers.ts"

const AGENT = fileURLToPath(new URL("../../testing/acpAgent.ts", import.meta.url))

/** A project whose ACP agent is the test agent playing `script`; its log of requests. */
const scripted = (script: Record<string, unknown>, providers: Partial<ProviderSettings> = {}) =>
  Effect.gen(function* () {
    const dir = yield* tempDir()
    const scriptFile = join(dir, "script.json")
    writeFileSync(scriptFile, JSON.stringify(script))
    const logFile = join(dir, "requests.jsonl")
    const world = yield* providerWorld(
      { ...providersOn, ...providers },
      {
        acpAgent: [process.execPath, AGENT],
        agentEnv: { ACP_TEST_SCRIPT: scriptFile, ACP_TEST_LOG: logFile, ACP_TEST_HOME: dir }
      }
    )
    const requests = () =>
      existsSync(logFile)
        ? readFileSync(logFile, "utf8")
            .trim()
            .split("\n")
            .map((line) => JSON.parse(line) as { method: string; params: Record<string, unknown> })
        : []
    return { world, requests, logFile }
  })

const acp = { provider: "acp" }

const itemsOf = (events: ReadonlyArray<SpindleEvent>) =>
  events.flatMap((e) =>
    e.type === "thread.turn-item" && e.payload.phase === "completed"
      ? [
          `${e.payload.item.kind}: ${e.payload.item.text ?? e.payload.item.command ?? e.payload.item.changes?.map((c) => c.path).join(",") ?? ""}${e.payload.item.exitCode === undefined ? "" : ` (exit ${e.payload.item.exitCode})`}`
        ]
      : []
  )

describe("the ACP provider", () => {
  it.live(
    "a turn's updates arrive as items in order; the MCP server and its token travel in session/new only; files stay in the worktree",
    () =>
      Effect.gen(function* () {
        const { world, requests, logFile } = yield* scripted({
          turns: [
            [
              { think: "let me look" },
              // Updates that are not the turn's work record nothing and break no run.
              { notes: true },
              { say: "Hello there" },
              { run: "npm test", output: "3 passing", exit: 0 },
              { run: "false", output: "", exit: 1 },
              { edit: "src/a.ts", text: "x" },
              { plan: ["fix it", "test it"] },
              { usage: 1234 },
              { write: "notes.txt", text: "from the agent" },
              { write: "/tmp/spindle-acp-escape.txt", text: "out" },
              { read: "notes.txt" },
              { say: "Done." }
            ]
          ]
        })
        const started = yield* world.start("t1", "do the work", acp)
        const events = yield* turnEnded(world.engine, "t1")
        assert.strictEqual(turnEndOf(events)?.status, "completed", JSON.stringify(turnEndOf(events)))
        const items = itemsOf(events)
        const worktree = started.worktreePath
        assert.deepStrictEqual(items.slice(0, 6), [
          "reasoning: let me look",
          "agent-message: Hello there",
          "command: npm test (exit 0)",
          "command: false (exit 1)",
          `file-change: ${join(worktree, "src/a.ts")}`,
          "other: [ ] fix it\n[ ] test it"
        ])
        // Chunks in a row make one message: the rest of the turn is one run of the agent's words.
        const last = items.at(-1) ?? ""
        assert.strictEqual(items.length, 7, JSON.stringify(items))
        assert.match(last, /^agent-message: wrote notes\.txtwrite refused: .*outside the thread's worktree/)
        assert.include(last, "read: from the agentDone.")
        assert.isTrue(
          events.some((e) => e.type === "thread.turn-usage" && e.payload.usage.inputTokens === 1234)
        )
        assert.strictEqual(readFileSync(join(worktree, "notes.txt"), "utf8"), "from the agent")
        assert.isFalse(existsSync("/tmp/spindle-acp-escape.txt"))

        // The token: in session/new's MCP server headers, and not in the agent's argv or environment.
        const opened = requests().find((r) => r.method === "session/new")!
        assert.strictEqual(opened.params.cwd, worktree)
        const [server] = opened.params.mcpServers as Array<{
          type: string
          url: string
          headers: Array<{ name: string; value: string }>
        }>
        assert.strictEqual(server?.type, "http")
        assert.match(server?.url ?? "", /^http:\/\/127\.0\.0\.1:\d+\/mcp$/)
        assert.match(server?.headers[0]?.value ?? "", /^Bearer spn_/)
        assert.notMatch(readFileSync(`${logFile}.env`, "utf8"), TOKEN)
        const init = requests().find((r) => r.method === "initialize")!
        const announced = init.params.clientCapabilities as { fs?: unknown; terminal?: unknown }
        assert.deepStrictEqual(announced.fs, { readTextFile: true, writeTextFile: true })
        assert.strictEqual(announced.terminal, false)
        const thread = (yield* world.engine.getThread("t1" as ThreadId))!
        assert.match(thread.latestTurn?.lastMessage ?? "", /from the agentDone\.$/)
      })
  )

  it.live(
    "a permission request is an approval answered with the agent's own option; a preset sets the runtime mode's session mode",
    () =>
      Effect.gen(function* () {
        const { world, requests } = yield* scripted({
          modes: ["plan", "default", "acceptEdits", "bypassPermissions"],
          turns: [[{ run: "rm -rf build", ask: true, output: "removed" }, { say: "after" }]]
        })
        // The claude preset, run with the project's own ACP command (the test agent).
        yield* world.start("t1", "clean up", { provider: "claude", runtimeMode: "approval-required" })
        const asked = yield* eventsUntil(world.engine, "t1", (e) => e.type === "thread.approval-requested")
        const request = asked.at(-1)
        assert.strictEqual(request?.type, "thread.approval-requested")
        if (request?.type !== "thread.approval-requested") return
        assert.strictEqual(request.payload.approval.command, "rm -rf build")
        assert.strictEqual(request.payload.approval.kind, "command")
        yield* world.send({
          type: "thread.approval.respond",
          threadId: "t1",
          requestId: request.payload.approval.requestId,
          decision: "accept-for-session"
        })
        const events = yield* turnEnded(world.engine, "t1")
        assert.strictEqual(turnEndOf(events)?.status, "completed")
        assert.include(itemsOf(events), "agent-message: permission: always")
        assert.include(itemsOf(events), "command: rm -rf build (exit 0)")
        assert.deepStrictEqual(
          requests()
            .filter((r) => r.method === "session/set_mode")
            .map((r) => r.params.modeId),
          ["default"]
        )
      })
  )

  it.live("an interrupt cancels the prompt mid-tool-call: the turn ends interrupted", () =>
    Effect.gen(function* () {
      const { world, requests } = yield* scripted({
        turns: [[{ say: "starting" }, { sleep: 20_000 }, { say: "never" }]]
      })
      yield* world.start("t1", "take long", acp)
      yield* eventsUntil(
        world.engine,
        "t1",
        (e) => e.type === "thread.turn-item" && e.payload.phase === "updated"
      )
      const startedAt = Date.now()
      yield* world.send({ type: "thread.turn.interrupt", threadId: "t1" })
      const events = yield* turnEnded(world.engine, "t1")
      assert.strictEqual(turnEndOf(events)?.status, "interrupted")
      assert.isBelow(Date.now() - startedAt, 5_000)
      assert.isTrue(requests().some((r) => r.method === "session/cancel"))
      assert.notInclude(itemsOf(events), "agent-message: never")
    })
  )

  it.live(
    "a prompt sent during a turn is queued, said on the thread, and starts the next turn when this one ends",
    () =>
      Effect.gen(function* () {
        const { world } = yield* scripted({
          turns: [[{ say: "working" }, { sleep: 1_500 }, { say: "first done" }], [{ echo: true }]]
        })
        yield* world.start("t1", "start", acp)
        yield* eventsUntil(
          world.engine,
          "t1",
          (e) => e.type === "thread.turn-item" && e.payload.phase === "updated"
        )
        yield* world.send({ type: "thread.turn.start", threadId: "t1", prompt: "also check the docs" })
        let ends = 0
        const all = yield* eventsUntil(
          world.engine,
          "t1",
          (e) => e.type === "thread.turn-ended" && ++ends === 2
        )
        const items = itemsOf(all)
        assert.isTrue(
          items.some(
            (i) =>
              i.startsWith("other: This agent takes no prompt during a turn") &&
              i.endsWith("also check the docs")
          ),
          JSON.stringify(items)
        )
        assert.include(items, "agent-message: workingfirst done")
        assert.include(items, "agent-message: prompt: also check the docs")
        const order = all.flatMap((e) =>
          e.type === "thread.turn-started" || e.type === "thread.turn-ended" ? [e.type] : []
        )
        assert.deepStrictEqual(
          order,
          ["thread.turn-started", "thread.turn-ended", "thread.turn-started", "thread.turn-ended"],
          "the first turn ran to its end before the next began"
        )
      })
  )

  it.live("an agent that crashes mid-turn fails the turn with its last words", () =>
    Effect.gen(function* () {
      const { world } = yield* scripted({ turns: [[{ say: "working" }, { crash: 3 }]] })
      yield* world.start("t1", "go", acp)
      const end = turnEndOf(yield* turnEnded(world.engine, "t1"))
      assert.strictEqual(end?.status, "failed")
      assert.include(end?.reason ?? "", "crashed on purpose")
    })
  )

  it.live("an idle stop, then the next prompt resumes the same conversation with session/load", () =>
    Effect.gen(function* () {
      const { world, requests } = yield* scripted(
        { loadSession: true, turns: [[{ say: "noted" }], [{ recall: true }]] },
        { sessionIdleTimeoutMs: 1_500 }
      )
      yield* world.start("t1", "remember heliotrope", acp)
      yield* turnEnded(world.engine, "t1")
      const cursor = (yield* world.engine.getThread("t1" as ThreadId))?.session.resumeCursor
      assert.isString(cursor)
      yield* eventsUntil(
        world.engine,
        "t1",
        (e) => e.type === "thread.session-changed" && e.payload.status === "stopped",
        "30 seconds"
      )
      const events = yield* world.followUp("t1", "what did I say?", "second")
      assert.include(itemsOf(events), "agent-message: I remember: remember heliotrope")
      const loaded = requests().find((r) => r.method === "session/load")
      assert.strictEqual(loaded?.params.sessionId, cursor)
      assert.strictEqual(requests().filter((r) => r.method === "session/new").length, 1)
    })
  )

  it.live(
    "a session whose token stopped working is replaced at the next turn, which resumes the conversation; one found valid a moment ago is not looked up again",
    () =>
      Effect.gen(function* () {
        /** A turn, the session's token revoked, then the next turn: the sessions of both. */
        const revokedThenNext = (tokenRecheckMs: number) =>
          Effect.gen(function* () {
            const { world, requests } = yield* scripted(
              { loadSession: true, turns: [[{ say: "noted" }], [{ recall: true }]] },
              { tokenRecheckMs }
            )
            const thread = world.engine.getThread("t1" as ThreadId)
            yield* world.start("t1", "remember heliotrope", acp)
            yield* turnEnded(world.engine, "t1")
            const before = (yield* thread)?.session
            const tokens = Context.get(
              world.server.context as Context.Context<ProviderTokens>,
              ProviderTokens
            )
            const live = (yield* tokens.list("t1" as ThreadId)).filter((t) => t.revokedAt === null)
            assert.isAbove(live.length, 0, "the session has a live token")
            for (const token of live) yield* tokens.revoke(token.id)
            const events = yield* world.followUp("t1", "what?", "second")
            const loaded = requests().find((r) => r.method === "session/load")
            return { before, after: (yield* thread)?.session, events, loaded }
          })

        // Looked up at every turn: the revoked token means a new session, resumed with session/load.
        const checked = yield* revokedThenNext(0)
        assert.strictEqual(turnEndOf(checked.events)?.status, "completed")
        assert.include(itemsOf(checked.events), "agent-message: I remember: remember heliotrope")
        assert.notStrictEqual(checked.after?.providerSessionId, checked.before?.providerSessionId)
        assert.strictEqual(checked.loaded?.params.sessionId, checked.before?.resumeCursor)

        // Found valid a moment ago: the next turn runs in the same session without a look.
        const trusted = yield* revokedThenNext(600_000)
        assert.strictEqual(turnEndOf(trusted.events)?.status, "completed")
        assert.strictEqual(trusted.after?.providerSessionId, trusted.before?.providerSessionId)
        assert.isUndefined(trusted.loaded)
      })
  )

  it.live(
    "an agent that never answers initialize is a provider error within 30 s",
    () =>
      Effect.gen(function* () {
        const { world } = yield* scripted({ initialize: "never", turns: [[]] })
        yield* world.start("t1", "hello", acp)
        const events = yield* eventsUntil(
          world.engine,
          "t1",
          (e) => e.type === "thread.session-changed" && e.payload.status === "error",
          "45 seconds"
        )
        const error = events.at(-1)
        assert.include(
          error?.type === "thread.session-changed" ? (error.payload.error ?? "") : "",
          "did not answer initialize within 30s"
        )
      }),
    { timeout: 60_000 }
  )
})
