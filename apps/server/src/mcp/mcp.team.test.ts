// A parent agent running a team of children over MCP (the SDK's real client, the real server, real
// git, children run by the command provider): several started in one call, waited for, read,
// sent a follow-up, stopped; limits taken by the batch as a whole; waits that time out in bound.
import { assert, describe, it } from "@effect/vitest"
import type { Thread, ThreadId, ThreadOutput } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { DEFAULT_LIMITS } from "../config/ServerConfig.ts"
import { ThreadWatch } from "../reads/ThreadWatch.ts"
import { serverActor } from "../testing/fixtures.ts"
import { callTool, mcpClient, mcpWorld } from "../testing/mcp.ts"
import { providersOn, turnEnded } from "../testing/providers.ts"

/** The agent: commits its prompt to notes.txt, leaves an untracked draft, says it is done; "slow" sleeps. */
const AGENT = [
  "/bin/sh",
  "-c",
  'case "$1" in slow*) echo waiting; exec sleep 60;; nap*) sleep 2; echo rested; exit 0;; esac; printf "%s\\n" "$1" > notes.txt; git add notes.txt; git -c user.name=a -c user.email=a@spindle.invalid commit -qm note; echo draft > draft.txt; echo "done: $1"',
  "agent",
  "{prompt}"
]

const team = (limits = DEFAULT_LIMITS) =>
  Effect.gen(function* () {
    // The children are command agents, which only a full-access parent may start.
    const world = yield* mcpWorld({
      settings: { providers: providersOn, limits },
      parentRuntimeMode: "full-access"
    })
    yield* world.commands.dispatch(
      { type: "project.update", commandId: "agent", projectId: "p1", agentCommand: AGENT },
      serverActor
    )
    const client = yield* mcpClient(world.url, world.token)
    const call = (name: string, args: Record<string, unknown>) =>
      Effect.map(callTool(client, name, args), (result) => {
        if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`)
        return result.structuredContent as Record<string, unknown>
      })
    const refusal = (name: string, args: Record<string, unknown>) =>
      Effect.map(callTool(client, name, args), (result) => {
        assert.isTrue(result.isError, `${name} should fail`)
        return JSON.parse((result.content as Array<{ text: string }>)[0]!.text) as {
          error: string
          message: string
          field?: string
        }
      })
    return { ...world, client, call, refusal }
  })

/** t3_thread_status's answer; list and wait carry `threads` and `outputs` by thread id. */
type Status = { thread: Thread; output: ThreadOutput }
type Outputs = Record<string, ThreadOutput>
type Entry =
  | { ok: true; threadId: ThreadId }
  | { ok: false; error: { reason: string; field?: string; stage: string } }

describe("a parent agent's team of children over MCP", () => {
  it.live(
    "starts several in one call (a bad entry is its own error), waits for all, reads what each produced, sends a follow-up, stops one",
    () =>
      Effect.gen(function* () {
        const world = yield* team()
        const batch = (yield* world.call("t3_threads_start", {
          provider: "command",
          threads: [
            { prompt: "alpha" },
            { prompt: "beta", title: "second" },
            { prompt: "gamma", mode: "existing_worktree" }
          ]
        })).threads as Array<Entry>
        assert.deepStrictEqual(
          batch.map((e) => e.ok),
          [true, true, false]
        )
        const bad = batch[2] as Extract<Entry, { ok: false }>
        assert.strictEqual(bad.error.reason, "validation")
        assert.strictEqual(bad.error.field, "threads.2.worktreePath")
        assert.strictEqual(bad.error.stage, "validate")
        const ids = batch.flatMap((e) => (e.ok ? [e.threadId] : []))

        const waited = yield* world.call("t3_thread_wait", { threadIds: ids, until: "all" })
        assert.isTrue(waited.done as boolean)
        assert.deepStrictEqual([...(waited.reached as Array<string>)].sort(), [...ids].sort())
        const outputs = waited.outputs as Outputs
        for (const [thread, prompt] of (waited.threads as Array<Thread>).map(
          (t) => [t, t.title === "second" ? "beta" : "alpha"] as const
        )) {
          const output = outputs[thread.id]!
          assert.strictEqual(thread.latestTurn?.status, "completed")
          assert.strictEqual(thread.latestTurn?.lastMessage, `done: ${prompt}`)
          assert.strictEqual(output.lastMessage, `done: ${prompt}`)
          assert.isFalse(output.lastMessageTruncated)
          const diff = output.diff!
          assert.strictEqual(diff.commitsAhead, 1)
          assert.strictEqual(diff.filesChanged, 2)
          // notes.txt's line, and the untracked draft's.
          assert.strictEqual(diff.insertions, 2)
          assert.deepStrictEqual(
            diff.files.map((f) => [f.path, f.status, f.insertions]),
            [
              ["notes.txt", "changed", 1],
              ["draft.txt", "untracked", 1]
            ]
          )
        }

        // A follow-up starts the child's next turn (the command agent takes no prompt mid-turn).
        const sent = yield* world.call("t3_thread_send", { threadId: ids[0], prompt: "delta" })
        assert.isFalse(sent.steered as boolean)
        yield* turnEnded(world.engine, ids[0]!, sent.turnId as string)
        const status = (yield* world.call("t3_thread_status", { threadId: ids[0] })) as unknown as Status
        assert.strictEqual(status.output.lastMessage, "done: delta")
        assert.strictEqual(status.output.diff?.commitsAhead, 2)

        // A slow child is stopped and archived.
        const slow = (yield* world.call("t3_thread_start", { prompt: "slow work", provider: "command" }))
          .threadId as ThreadId
        const timedOut = yield* world.call("t3_thread_wait", { threadIds: [slow], timeoutSeconds: 1 })
        assert.isFalse(timedOut.done as boolean)
        assert.isTrue(timedOut.timedOut as boolean)
        // A prompt it cannot take mid-turn is refused in the agent's own tools, not the CLI's.
        const busy = yield* world.refusal("t3_thread_send", { threadId: slow, prompt: "more" })
        assert.strictEqual(busy.error, "conflict")
        assert.include(busy.message, "t3_thread_stop")
        assert.include(busy.message, "t3_thread_wait")
        assert.notInclude(busy.message, "spindle ")
        const stopped = yield* world.call("t3_thread_stop", { threadId: slow, archive: true })
        assert.isTrue(stopped.interrupted as boolean)
        assert.isTrue(stopped.archived as boolean)
        assert.strictEqual((stopped.thread as Thread).id, slow)
        assert.strictEqual((stopped.thread as Thread).status, "archived")
        yield* turnEnded(world.engine, slow)
        const after = (yield* world.call("t3_thread_status", { threadId: slow })) as unknown as Status
        assert.strictEqual(after.thread.status, "archived")
        assert.strictEqual(after.thread.latestTurn?.status, "interrupted")
      }),
    120_000
  )

  it.live(
    "a batch that would pass the children limit with queue: false starts nothing; others' threads are refused",
    () =>
      Effect.gen(function* () {
        const world = yield* team({ ...DEFAULT_LIMITS, childrenPerThread: 3 })
        const before = (yield* world.engine.snapshot).threads.length
        const refused = yield* world.refusal("t3_threads_start", {
          provider: "command",
          threads: ["1", "2", "3", "4"].map((prompt) => ({ prompt, queue: false }))
        })
        assert.strictEqual(refused.error, "capacity")
        assert.include(refused.message, "room for 3 more")
        assert.strictEqual((yield* world.engine.snapshot).threads.length, before, "nothing was started")
        const stranger = yield* world.refusal("t3_thread_wait", { threadIds: ["parent"] })
        assert.strictEqual(stranger.error, "forbidden")
        const send = yield* world.refusal("t3_thread_send", { threadId: "parent", prompt: "hi" })
        assert.strictEqual(send.error, "forbidden")
      })
  )

  it.live(
    "a wait that times out answers within its bound; 100 concurrent waits on one child all return when it completes",
    () =>
      Effect.gen(function* () {
        const world = yield* team()
        const slow = (yield* world.call("t3_thread_start", { prompt: "slow one", provider: "command" }))
          .threadId as ThreadId
        const started = Date.now()
        const timedOut = yield* world.call("t3_thread_wait", { threadIds: [slow], timeoutSeconds: 2 })
        const took = Date.now() - started
        assert.isTrue(timedOut.timedOut as boolean)
        assert.isAtLeast(took, 1_900)
        assert.isBelow(took, 5_000)
        assert.strictEqual((timedOut.threads as Array<Thread>)[0]!.latestTurn?.status, "running")

        const watch = Context.get(world.context, ThreadWatch)
        // A child that completes on its own a moment later.
        const napper = (yield* world.call("t3_thread_start", { prompt: "nap a little", provider: "command" }))
          .threadId as ThreadId
        const waits = yield* Effect.forkChild(
          Effect.all(
            Array.from({ length: 100 }, () =>
              watch.wait({ threadIds: [napper], until: "all", for: "turn-completed", timeoutMs: 30_000 })
            ),
            { concurrency: "unbounded" }
          )
        )
        const viaMcp = yield* Effect.forkChild(
          world.call("t3_thread_wait", { threadIds: [slow], timeoutSeconds: 30 })
        )
        yield* world.call("t3_thread_stop", { threadId: slow })
        const results = yield* Fiber.join(waits)
        assert.strictEqual(results.length, 100)
        assert.isTrue(results.every((r) => r.done && !r.timedOut))
        const mcp = yield* Fiber.join(viaMcp)
        assert.isTrue(mcp.done as boolean)
        assert.strictEqual((mcp.threads as Array<Thread>)[0]!.latestTurn?.status, "interrupted")
      })
  )
})
