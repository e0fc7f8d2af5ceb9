// The real Codex CLI calling Spindle's MCP endpoint with its session's token: a child thread
// started by the agent, tokens that never show on a command line or in CODEX_HOME, a token that
// dies with its session, and a conversation resumed after a restart.
import { readdirSync, readFileSync, statSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import type { SpindleEvent, ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { gitRepo, tempHome } from "../../testing/fixtures.ts"
import { inProcessServer } from "../../testing/inProcessServer.ts"
import { rawInitialize } from "../../testing/mcp.ts"
import {
  codexAgainst,
  codexHome,
  codexPid,
  codexTap,
  codexWorld,
  eventsUntil,
  fakeModel,
  filesWithTokens,
  TOKEN,
  turnEnded,
  worldOn
} from "../../testing/providers.ts"

/** Processes whose command line holds something shaped like a provider token. */
const cmdlinesWithTokens = () =>
  readdirSync("/proc").filter((entry) => {
    if (!/^\d+$/.test(entry)) return false
    try {
      return TOKEN.test(readFileSync(`/proc/${entry}/cmdline`, "latin1"))
    } catch {
      return false
    }
  })

type Ended = Extract<SpindleEvent, { type: "thread.turn-ended" }>

describe("Codex and Spindle's MCP endpoint", () => {
  it.live(
    "the agent starts a child through t3_thread_start: its own worktree, parent and session; tokens stay off command lines and CODEX_HOME; the parent's token dies with its session",
    () =>
      Effect.gen(function* () {
        const tap = yield* codexTap
        const world = yield* codexWorld({}, { codexBin: tap.bin })
        const parent = yield* world.start(
          "t1",
          'Start a helper thread. [[spawn: {"prompt":"child work","clientRequestId":"child-1","title":"helper"}]]'
        )
        const events = yield* turnEnded(world.engine, "t1")
        assert.strictEqual((events.at(-1) as Ended).payload.status, "completed")
        const call = events.find(
          (e) =>
            e.type === "thread.turn-item" &&
            e.payload.phase === "completed" &&
            e.payload.item.kind === "tool-call"
        )
        assert.isDefined(call, "the tool call is an item of the turn")
        if (call?.type !== "thread.turn-item") return
        assert.strictEqual(call.payload.item.tool, "t3_thread_start")
        assert.strictEqual(call.payload.item.status, "completed")

        const child = (yield* world.engine.snapshot).threads.find((t) => t.parentThreadId === "t1")
        assert.isDefined(child, "a child thread exists")
        assert.strictEqual(child!.title, "helper")
        assert.strictEqual(child!.workspace.mode, "new_worktree")
        assert.isTrue(child!.workspace.createdByUs)
        assert.notStrictEqual(child!.workspace.worktreePath, parent.worktreePath)
        assert.isTrue(statSync(child!.workspace.worktreePath!).isDirectory())
        assert.include(call.payload.item.text ?? "", child!.id, "the agent got the child's id back")

        // The child runs its own turn in its own session, with its own token.
        const childEvents = yield* turnEnded(world.engine, child!.id)
        assert.strictEqual((childEvents.at(-1) as Ended).payload.status, "completed")
        const parentToken = tap.tokenFor(parent.worktreePath)!
        const childToken = tap.tokenFor(child!.workspace.worktreePath!)!
        assert.match(parentToken, TOKEN)
        assert.match(childToken, TOKEN)
        assert.notStrictEqual(parentToken, childToken)
        const threads = yield* world.engine.snapshot
        const sessions = threads.threads.map((t) => t.session.providerSessionId)
        assert.strictEqual(new Set(sessions).size, 2, "two sessions")

        assert.deepStrictEqual(cmdlinesWithTokens(), [], "no process has a token on its command line")
        assert.deepStrictEqual(filesWithTokens(world.codexHome), [], "no token is written under CODEX_HOME")
        assert.isFalse(TOKEN.test(JSON.stringify(events)), "no token in the events")

        // The parent's session stops with its thread; its token is refused from then on.
        assert.strictEqual(
          (yield* rawInitialize(world.server.url, { authorization: `Bearer ${parentToken}` })).status,
          200
        )
        yield* world.send({ type: "thread.archive", threadId: "t1" })
        yield* eventsUntil(
          world.engine,
          "t1",
          (e) => e.type === "thread.session-changed" && e.payload.status === "stopped"
        )
        const refused = yield* rawInitialize(world.server.url, { authorization: `Bearer ${parentToken}` })
        assert.strictEqual(refused.status, 401)
        assert.strictEqual(
          (yield* rawInitialize(world.server.url, { authorization: `Bearer ${childToken}` })).status,
          200
        )
      }),
    180_000
  )

  it.live(
    "a parent's running Codex turn is told its child finished, without calling t3_thread_wait",
    () =>
      Effect.gen(function* () {
        const world = yield* codexWorld({
          agentCommand: ["/bin/sh", "-c", 'echo "child says: $1"', "agent", "{prompt}"]
        })
        // Only a full-access thread may start a command agent (it has no sandbox of its own).
        yield* world.start(
          "t1",
          'Start a helper. [[spawn: {"prompt":"quick job","provider":"command","clientRequestId":"helper"}]] [[slow: 6000]]',
          { runtimeMode: "full-access" }
        )
        const events = yield* turnEnded(world.engine, "t1")
        assert.strictEqual((events.at(-1) as Ended).payload.status, "completed")
        const delivered = events.find((e) => e.type === "thread.child-notices-delivered")
        assert.isDefined(delivered, "the notice went into the running turn")
        const child = (yield* world.engine.snapshot).threads.find((t) => t.parentThreadId === "t1")!
        const told = world.model.requests.filter((r) =>
          JSON.stringify(r.input).includes(`[Spindle] Child thread ${child.id}`)
        )
        assert.isAbove(told.length, 0, "the model saw the notice in the same turn")
        assert.include(JSON.stringify(told[0]!.input), "child says: quick job")
      }),
    120_000
  )

  it.live(
    "Codex calls t3_threads_start as the model sees it: each entry answered on its own, and the parent hears of each child's end",
    () =>
      Effect.gen(function* () {
        const world = yield* codexWorld({
          agentCommand: ["/bin/sh", "-c", 'echo "did $1"', "agent", "{prompt}"]
        })
        const batch = JSON.stringify({
          provider: "command",
          threads: [
            { prompt: "one", clientRequestId: "one" },
            { prompt: "two", clientRequestId: "two" },
            { prompt: "three", mode: "existing_worktree" }
          ]
        })
        yield* world.start(
          "t1",
          `Start three helpers. [[call: mcp__spindle.t3_threads_start ${batch}]] [[call: mcp__spindle.t3_thread_list {}]]`,
          { runtimeMode: "full-access" }
        )
        const events = yield* turnEnded(world.engine, "t1")
        assert.strictEqual((events.at(-1) as Ended).payload.status, "completed")
        const calls = events.flatMap((e) =>
          e.type === "thread.turn-item" &&
          e.payload.phase === "completed" &&
          e.payload.item.kind === "tool-call"
            ? [e.payload.item]
            : []
        )
        // The first call is the batch (a notice steered into the turn may lead to more model requests).
        assert.strictEqual(calls[0]?.tool, "t3_threads_start")
        assert.strictEqual(calls[0]?.status, "completed")
        const answer = JSON.parse(calls[0]!.text ?? "{}") as {
          threads: Array<{ ok: boolean; error?: { field?: string } }>
        }
        assert.deepStrictEqual(
          answer.threads.map((t) => t.ok),
          [true, true, false]
        )
        assert.strictEqual(answer.threads[2]!.error?.field, "threads.2.worktreePath")
        const children = (yield* world.engine.snapshot).threads.filter((t) => t.parentThreadId === "t1")
        assert.strictEqual(children.length, 2)
        // Each child's end reached the parent as a notice (when it went into the running turn or
        // waits for the next one depends on timing; the steering test above pins that down).
        yield* Effect.forEach(
          children,
          (child) =>
            eventsUntil(
              world.engine,
              "t1",
              (e) => e.type === "thread.child-notified" && e.payload.notice.childThreadId === child.id
            ),
          { discard: true }
        )
      }),
    120_000
  )

  it.live(
    "after a restart, a follow-up turn resumes the same Codex conversation",
    () =>
      Effect.gen(function* () {
        const model = yield* fakeModel
        const codex = yield* codexHome
        const repo = yield* gitRepo
        const providers = codexAgainst(model, codex)
        const home = yield* tempHome
        const first = yield* Effect.scoped(
          Effect.gen(function* () {
            const world = yield* worldOn(yield* inProcessServer({ providers, home }), repo)
            yield* world.start("t1", "remember the word pelican")
            yield* turnEnded(world.engine, "t1")
            return { thread: (yield* world.engine.getThread("t1" as ThreadId))! }
          })
        )
        assert.isNotNull(first.thread.session.resumeCursor)
        assert.isUndefined(
          codexPid(first.thread.workspace.worktreePath!),
          "the first server's Codex has exited"
        )
        const world = yield* worldOn(yield* inProcessServer({ providers, home }), repo)
        const server = world.server
        const after = (yield* server.engine.getThread("t1" as ThreadId))!
        assert.strictEqual(after.session.status, "stopped", "a stopped server's session is shown stopped")
        assert.strictEqual(after.session.resumeCursor, first.thread.session.resumeCursor)
        const before = model.requests.length
        const events = yield* world.followUp("t1", "what was the word?", "u2")
        assert.strictEqual((events.at(-1) as Ended).payload.status, "completed")
        const resumed = (yield* server.engine.getThread("t1" as ThreadId))!
        assert.strictEqual(
          resumed.session.resumeCursor,
          first.thread.session.resumeCursor,
          "the same Codex thread"
        )
        assert.notStrictEqual(resumed.session.providerSessionId, first.thread.session.providerSessionId)
        const request = JSON.stringify(model.requests.slice(before))
        assert.include(request, "pelican", "the model saw the earlier conversation")
      }),
    180_000
  )
})
