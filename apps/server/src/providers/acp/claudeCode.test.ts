// The real Claude Code, through its ACP adapter (@zed-industries/claude-code-acp, which runs the
// Claude Code CLI its agent SDK bundles), as a `claude` thread of a real server, against the
// loopback fake Anthropic API (testing/fakeAnthropic.ts), offline: a full turn's items in order
// over /ws, a child started through Spindle's MCP server, an approval answered from the CLI, an
// interrupt, a conversation resumed after a restart, and no token where another process could read it.
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { SpindleEvent, ThreadId } from "@spindle/contracts"
import { threadOfEvent } from "@spindle/read-model"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { makeClient } from "../../cli/rpcClient.ts"
import { promptsOf, startFakeAnthropic } from "../../testing/fakeAnthropic.ts"
import { gitRepo, tempDir, tempHome } from "../../testing/fixtures.ts"
import { inProcessServer } from "../../testing/inProcessServer.ts"
import {
  claudeEnv,
  eventsUntil,
  filesWithTokens,
  providersOn,
  providerWorld,
  SPINDLE_BIN,
  TOKEN,
  turnEnded,
  turnEndOf,
  worldOn
} from "../../testing/providers.ts"
import { runProcess } from "../../testing/serverProcess.ts"

const TIMEOUT = 180_000

/** The fake Anthropic API, answering by the prompt's directives; closed with the test. */
const fakeAnthropic = Effect.acquireRelease(
  Effect.promise(() => startFakeAnthropic()),
  (fake) => Effect.promise(() => fake.close())
)

/**
 * Project p1 whose `claude` threads run the adapter on the Node running the tests, with Claude Code's
 * own configuration folder and home in a temp dir, and every request it makes sent to the fake.
 */
const claudeSettings = Effect.gen(function* () {
  const fake = yield* fakeAnthropic
  const config = yield* tempDir("spindle-claude-")
  const providers = {
    ...providersOn,
    agentEnv: claudeEnv(fake, config)
  }
  return { fake, config, providers, project: {} }
})

const claudeWorld = Effect.gen(function* () {
  const settings = yield* claudeSettings
  const world = yield* providerWorld(settings.providers, settings.project)
  return { ...world, ...settings }
})

/** The thread's events over a real WebSocket, from the start up to the first `until` accepts. */
const wsEventsUntil = (
  server: { readonly url: string; readonly ownerToken: string },
  threadId: string,
  until: (event: SpindleEvent) => boolean
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const client = yield* makeClient({ url: server.url, token: server.ownerToken })
      const events = yield* client["orchestration.subscribe"]({ fromSequence: 0 }).pipe(
        Stream.filter((event) => threadOfEvent(event) === threadId),
        Stream.takeUntil(until),
        Stream.runCollect,
        Effect.timeout("120 seconds")
      )
      return Array.from(events)
    })
  )

const completedItems = (events: ReadonlyArray<SpindleEvent>) =>
  events.flatMap((e) =>
    e.type === "thread.turn-item" && e.payload.phase === "completed" ? [e.payload.item] : []
  )

/** Processes whose command line or environment holds something shaped like a provider token. */
const processesWithTokens = () =>
  readdirSync("/proc").flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return []
    return ["cmdline", "environ"].flatMap((file) => {
      try {
        return TOKEN.test(readFileSync(`/proc/${entry}/${file}`, "latin1")) ? [`${entry}/${file}`] : []
      } catch {
        return []
      }
    })
  })

describe("Claude Code as a claude thread", () => {
  it.live(
    "a full turn's message, command (with its exit code) and file change arrive in order over /ws; the agent starts a child through t3_thread_start; no token in any process's command line or environment, or under Claude's folder",
    () =>
      Effect.gen(function* () {
        const world = yield* claudeWorld
        const started = yield* world.start(
          "t1",
          'Do the work. [[run: echo from-bash; exit 3]] [[call: acp.Write {"file_path":"$CWD/notes.txt","content":"written by claude\\n"}]]',
          { provider: "claude", runtimeMode: "full-access" }
        )
        const events = yield* wsEventsUntil(world.server, "t1", (e) => e.type === "thread.turn-ended")
        assert.strictEqual(turnEndOf(events)?.status, "completed", JSON.stringify(turnEndOf(events)))
        const items = completedItems(events)
        const command = items.findIndex((i) => i.kind === "command")
        const change = items.findIndex((i) => i.kind === "file-change")
        const message = items.findLastIndex((i) => i.kind === "agent-message")
        assert.isAtLeast(command, 0, JSON.stringify(items))
        assert.include(items[command]?.command ?? "", "echo from-bash")
        assert.strictEqual(items[command]?.exitCode, 3)
        assert.include(items[command]?.output ?? "", "from-bash")
        assert.isAbove(change, command, "the file change after the command")
        assert.deepStrictEqual(
          items[change]?.changes?.map((c) => c.path),
          [join(started.worktreePath, "notes.txt")]
        )
        assert.isAbove(message, change, "the closing message last")
        assert.include(items[message]?.text ?? "", "ran `echo from-bash; exit 3`")
        assert.strictEqual(
          readFileSync(join(started.worktreePath, "notes.txt"), "utf8"),
          "written by claude\n",
          "Claude's write went through Spindle's fs/write_text_file, in the worktree"
        )
        const thread = (yield* world.engine.getThread("t1" as ThreadId))!
        assert.strictEqual(thread.provider, "claude")
        assert.isNotNull(thread.session.resumeCursor, "the ACP session id is kept to resume")

        // The model asks for a child; Claude calls Spindle's t3_thread_start with its token.
        yield* world.send({
          type: "thread.turn.start",
          threadId: "t1",
          turnId: "u2",
          prompt:
            'Start a helper. [[spawn: {"prompt":"child work","clientRequestId":"child-1","title":"helper","provider":"claude"}]]'
        })
        const second = yield* turnEnded(world.engine, "t1", "u2")
        assert.strictEqual(turnEndOf(second)?.status, "completed", JSON.stringify(turnEndOf(second)))
        const child = (yield* world.engine.snapshot).threads.find((t) => t.parentThreadId === "t1")
        assert.isDefined(child, "a child thread exists")
        assert.strictEqual(child!.title, "helper")
        assert.strictEqual(child!.provider, "claude")
        assert.notStrictEqual(child!.workspace.worktreePath, started.worktreePath)
        const childEnd = turnEndOf(yield* turnEnded(world.engine, child!.id))
        assert.strictEqual(childEnd?.status, "completed", JSON.stringify(childEnd))
        const sessions = (yield* world.engine.snapshot).threads.map((t) => t.session.resumeCursor)
        assert.strictEqual(new Set(sessions).size, 2, "the child has a Claude session of its own")
        assert.isTrue(
          world.fake.turns().some((r) => promptsOf(r).some((p) => p.includes("child work"))),
          "the child's Claude got its prompt"
        )

        assert.deepStrictEqual(processesWithTokens(), [], "no token on a command line or in an environment")
        assert.deepStrictEqual(filesWithTokens(world.config), [], "no token under Claude's folder")
        assert.isFalse(TOKEN.test(JSON.stringify(events)), "no token in the events")
      }),
    TIMEOUT
  )

  it.live(
    "approval-required: Claude's permission request waits; approved from the CLI with its own option, the command runs and the turn completes",
    () =>
      Effect.gen(function* () {
        const world = yield* claudeWorld
        const started = yield* world.start("t1", "[[run: touch approved.txt]]", {
          provider: "claude",
          runtimeMode: "approval-required"
        })
        const asked = yield* eventsUntil(
          world.engine,
          "t1",
          (e) => e.type === "thread.approval-requested",
          "120 seconds"
        )
        const request = asked.at(-1)!
        if (request.type !== "thread.approval-requested") return assert.fail("no approval request")
        assert.strictEqual(request.payload.approval.kind, "command")
        assert.include(request.payload.approval.command ?? "", "touch approved.txt")
        assert.isFalse(
          existsSync(join(started.worktreePath, "approved.txt")),
          "nothing ran before the answer"
        )
        const answered = yield* runProcess(process.execPath, [SPINDLE_BIN, "thread", "approve", "t1"], {
          env: { SPINDLE_HOME: world.server.home }
        })
        assert.strictEqual(answered.code, 0, answered.stderr)
        assert.include(answered.stdout, `Approved ${request.payload.approval.requestId}`)
        const events = yield* turnEnded(world.engine, "t1")
        assert.strictEqual(turnEndOf(events)?.status, "completed", JSON.stringify(turnEndOf(events)))
        assert.isTrue(existsSync(join(started.worktreePath, "approved.txt")))
        assert.deepStrictEqual((yield* world.engine.getThread("t1" as ThreadId))!.pendingApprovals, [])
      }),
    TIMEOUT
  )

  it.live(
    "an interrupt while the model streams ends the turn interrupted, and the thread takes its next prompt",
    () =>
      Effect.gen(function* () {
        const world = yield* claudeWorld
        yield* world.start(
          "t1",
          "Tell a long story. [[say: Once upon a time, a long story.]] [[slow: 60000]]",
          {
            provider: "claude",
            runtimeMode: "full-access"
          }
        )
        yield* eventsUntil(
          world.engine,
          "t1",
          (e) => e.type === "thread.turn-item" && e.payload.item.kind === "agent-message",
          "120 seconds"
        )
        const thread = (yield* world.engine.getThread("t1" as ThreadId))!
        yield* world.send({
          type: "thread.turn.interrupt",
          threadId: "t1",
          turnId: thread.latestTurn!.turnId
        })
        const events = yield* turnEnded(world.engine, "t1")
        assert.strictEqual(turnEndOf(events)?.status, "interrupted", JSON.stringify(turnEndOf(events)))
        yield* world.send({ type: "thread.turn.start", threadId: "t1", turnId: "u2", prompt: "Still there?" })
        const next = yield* turnEnded(world.engine, "t1", "u2")
        assert.strictEqual(turnEndOf(next)?.status, "completed", JSON.stringify(turnEndOf(next)))
      }),
    TIMEOUT
  )

  it.live(
    "after a server restart, a follow-up loads the same Claude session: the model sees the earlier conversation",
    () =>
      Effect.gen(function* () {
        const settings = yield* claudeSettings
        const repo = yield* gitRepo
        const home = yield* tempHome
        const first = yield* Effect.scoped(
          Effect.gen(function* () {
            const world = yield* worldOn(
              yield* inProcessServer({ providers: settings.providers, home }),
              repo,
              settings.project
            )
            yield* world.start("t1", "remember the word pelican", {
              provider: "claude",
              runtimeMode: "full-access"
            })
            const events = yield* turnEnded(world.engine, "t1")
            assert.strictEqual(turnEndOf(events)?.status, "completed", JSON.stringify(turnEndOf(events)))
            return (yield* world.engine.getThread("t1" as ThreadId))!
          })
        )
        const cursor = first.session.resumeCursor
        assert.isNotNull(cursor)
        const world = yield* worldOn(
          yield* inProcessServer({ providers: settings.providers, home }),
          repo,
          settings.project
        )
        assert.strictEqual((yield* world.engine.getThread("t1" as ThreadId))!.session.resumeCursor, cursor)
        const before = settings.fake.turns().length
        const events = yield* world.followUp("t1", "what was the word?", "u2")
        assert.strictEqual(turnEndOf(events)?.status, "completed", JSON.stringify(turnEndOf(events)))
        assert.strictEqual((yield* world.engine.getThread("t1" as ThreadId))!.session.resumeCursor, cursor)
        const asked = settings.fake.turns().slice(before)
        assert.isAbove(asked.length, 0)
        assert.deepStrictEqual(promptsOf(asked.at(-1)!), ["remember the word pelican", "what was the word?"])
      }),
    TIMEOUT
  )
})
