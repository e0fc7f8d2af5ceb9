import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { SpindleEvent, ThreadId } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { ProviderTokens } from "../../auth/ProviderTokens.ts"
import {
  allGone,
  eventsUntil,
  processAlive,
  providersOn,
  providerWorld,
  turnEnded,
  turnEndOf
} from "../../testing/providers.ts"

/** A project whose agent is `sh -c SCRIPT agent PROMPT` ($1 is the prompt). */
const shAgent = (script: string, withPrompt = true) => ({
  agentCommand: ["/bin/sh", "-c", script, "agent", ...(withPrompt ? ["{prompt}"] : [])]
})
const command = { provider: "command" }

const items = (events: ReadonlyArray<SpindleEvent>) =>
  events.flatMap((e) => (e.type === "thread.turn-item" ? [e.payload.item.text ?? ""] : []))

describe("the command provider", () => {
  it.live(
    "runs the agent in the worktree: each stdout line an item, in order; exit 0 completes the turn",
    () =>
      Effect.gen(function* () {
        const world = yield* providerWorld(providersOn, shAgent('echo one; echo "two: $1"; pwd; echo three'))
        const started = yield* world.start("t1", "hello world", command)
        const events = yield* turnEnded(world.engine, "t1")
        assert.deepStrictEqual(items(events), ["one", "two: hello world", started.worktreePath, "three"])
        assert.deepStrictEqual(turnEndOf(events), {
          threadId: "t1" as ThreadId,
          turnId: events.find((e) => e.type === "thread.turn-started")!.payload.turnId as never,
          status: "completed",
          reason: null
        })
        const order = events
          .map((e) => e.type)
          .filter((t) => t.startsWith("thread.turn") || t === "thread.session-changed")
        assert.deepStrictEqual(order.slice(0, 4), [
          "thread.turn-start-requested",
          "thread.session-changed",
          "thread.session-changed",
          "thread.turn-started"
        ])
        // A follow-up turn runs in the same session.
        yield* world.send({ type: "thread.turn.start", threadId: "t1", prompt: "again", turnId: "second" })
        const next = yield* turnEnded(world.engine, "t1", "second")
        assert.include(items(next), "two: again")
        const thread = (yield* world.engine.getThread("t1" as ThreadId))!
        assert.strictEqual(thread.latestTurn?.status, "completed")
        assert.strictEqual(thread.latestTurn?.lastMessage, "three")
        assert.strictEqual(thread.session.status, "running")
      })
  )

  it.live(
    "stream-json lines become items (message, command with output and exit, file change, usage); the next turn resumes the session they named",
    () =>
      Effect.gen(function* () {
        // Prints Claude Code's stream-json for a turn; says which session it was asked to resume.
        const script = [
          'resume=""; [ "$2" = "--resume" ] && resume="$3"',
          `echo '{"type":"system","subtype":"init","session_id":"sess-1"}'`,
          `echo '{"type":"assistant","session_id":"sess-1","message":{"content":[{"type":"thinking","thinking":"plan"},{"type":"text","text":"Running it."},{"type":"tool_use","id":"u1","name":"Bash","input":{"command":"npm test"}},{"type":"tool_use","id":"u2","name":"Write","input":{"file_path":"/w/a.ts","content":"x"}}]}}'`,
          `echo '{"type":"user","session_id":"sess-1","message":{"content":[{"type":"tool_result","tool_use_id":"u1","content":"1 failing","is_error":true},{"type":"tool_result","tool_use_id":"u2","content":"ok"}]}}'`,
          `printf '{"type":"assistant","session_id":"sess-1","message":{"content":[{"type":"text","text":"resumed: %s"}]}}\\n' "$resume"`,
          `echo '{"type":"result","subtype":"success","is_error":false,"result":"done","session_id":"sess-1","usage":{"input_tokens":10,"cache_read_input_tokens":5,"output_tokens":7}}'`,
          "echo plain line"
        ].join("; ")
        const world = yield* providerWorld(providersOn, shAgent(script))
        yield* world.start("t1", "go", command)
        const events = yield* turnEnded(world.engine, "t1")
        const seen = events.flatMap((e) =>
          e.type === "thread.turn-item"
            ? [
                `${e.payload.phase} ${e.payload.item.kind} ${e.payload.item.text ?? e.payload.item.command ?? ""}${e.payload.item.exitCode === undefined ? "" : ` exit ${e.payload.item.exitCode}`}`
              ]
            : e.type === "thread.turn-usage"
              ? [`usage ${e.payload.usage.totalTokens}`]
              : []
        )
        assert.deepStrictEqual(seen, [
          "completed reasoning plan",
          "completed agent-message Running it.",
          "started command npm test",
          "started file-change ",
          "completed command npm test exit 1",
          "completed file-change ",
          "completed agent-message resumed: ",
          "usage 22",
          "completed agent-message plain line"
        ])
        const changed = events.find(
          (e) => e.type === "thread.turn-item" && e.payload.item.kind === "file-change"
        )
        assert.deepStrictEqual(
          changed?.type === "thread.turn-item" ? changed.payload.item.changes : undefined,
          [{ path: "/w/a.ts", kind: "add" }]
        )
        assert.strictEqual((yield* world.engine.getThread("t1" as ThreadId))?.session.resumeCursor, "sess-1")
        yield* world.send({ type: "thread.turn.start", threadId: "t1", prompt: "again", turnId: "second" })
        const next = yield* turnEnded(world.engine, "t1", "second")
        assert.include(items(next), "resumed: sess-1")
      })
  )

  it.live("without {prompt} in its argv the agent reads the prompt on stdin", () =>
    Effect.gen(function* () {
      const world = yield* providerWorld(providersOn, shAgent('read line; echo "got: $line"', false))
      yield* world.start("t1", "from stdin", command)
      assert.deepStrictEqual(items(yield* turnEnded(world.engine, "t1")), ["got: from stdin"])
    })
  )

  it.live("a failing exit fails the turn with the code and the output's tail", () =>
    Effect.gen(function* () {
      const world = yield* providerWorld(
        providersOn,
        shAgent("echo working; echo 'cannot find config' >&2; exit 3")
      )
      yield* world.start("t1", "go", command)
      const end = turnEndOf(yield* turnEnded(world.engine, "t1"))!
      assert.strictEqual(end.status, "failed")
      assert.include(end.reason!, "exited with code 3")
      assert.include(end.reason!, "cannot find config")
    })
  )

  it.live("a failing exit's output is kept short in the turn's reason: its ends, not megabytes", () =>
    Effect.gen(function* () {
      // Many lines, then one of 2 MB: the reason keeps the last lines, the long one cut in its middle.
      const world = yield* providerWorld(
        providersOn,
        shAgent(
          "i=0; while [ $i -lt 30 ]; do echo \"line $i\" >&2; i=$((i+1)); done; head -c 2000000 /dev/zero | tr '\\0' x >&2; echo >&2; echo 'the last word' >&2; exit 3"
        )
      )
      yield* world.start("t1", "go", command)
      const end = turnEndOf(yield* turnEnded(world.engine, "t1"))!
      assert.strictEqual(end.status, "failed")
      assert.include(end.reason!, "exited with code 3")
      assert.include(end.reason!, "the last word")
      assert.isAtMost(end.reason!.length, 4_500)
    })
  )

  it.live("an interrupt ends the agent's whole process group and the turn as interrupted", () =>
    Effect.gen(function* () {
      const world = yield* providerWorld(
        providersOn,
        shAgent("sleep 300 & echo $! > bg.pid; echo $$ > fg.pid; echo ready; wait")
      )
      const started = yield* world.start("t1", "go", command)
      yield* eventsUntil(
        world.engine,
        "t1",
        (e) => e.type === "thread.turn-item" && e.payload.item.text === "ready"
      )
      const pids = ["bg.pid", "fg.pid"].map((f) =>
        Number(readFileSync(join(started.worktreePath, f), "utf8"))
      )
      assert.isTrue(pids.every(processAlive))
      yield* world.send({ type: "thread.turn.interrupt", threadId: "t1" })
      const end = turnEndOf(yield* turnEnded(world.engine, "t1"))!
      assert.strictEqual(end.status, "interrupted")
      // The group got SIGTERM; the kernel may take a moment to reap.
      yield* allGone(pids)
    })
  )

  it.live(
    "the server's agentEnv, then the project's (which wins), reach the agent; the server's other variables do not",
    () =>
      Effect.gen(function* () {
        process.env.SPINDLE_TEST_PLANTED_SECRET = "planted"
        yield* Effect.addFinalizer(() => Effect.sync(() => delete process.env.SPINDLE_TEST_PLANTED_SECRET))
        const world = yield* providerWorld(
          { ...providersOn, agentEnv: { FROM_SERVER: "server", SHARED: "server" } },
          {
            ...shAgent('echo "$FROM_SERVER $SHARED [$SPINDLE_TEST_PLANTED_SECRET]"'),
            agentEnv: { SHARED: "project" }
          }
        )
        yield* world.start("t1", "go", command)
        const events = yield* turnEnded(world.engine, "t1")
        assert.deepStrictEqual(items(events), ["server project []"])
      })
  )

  it.live(
    "the session's token reaches the agent only through its environment, and dies with the session",
    () =>
      Effect.gen(function* () {
        const world = yield* providerWorld(
          providersOn,
          shAgent(
            "printf '%s' \"$SPINDLE_MCP_TOKEN\" > token.txt; tr '\\0' ' ' < /proc/$$/cmdline > cmdline.txt; echo \"$SPINDLE_MCP_URL\""
          )
        )
        const started = yield* world.start("t1", "go", command)
        const events = yield* turnEnded(world.engine, "t1")
        assert.deepStrictEqual(items(events), [`${world.server.url}/mcp`])
        const token = readFileSync(join(started.worktreePath, "token.txt"), "utf8")
        assert.match(token, /^spn_/)
        assert.notInclude(readFileSync(join(started.worktreePath, "cmdline.txt"), "utf8"), "spn_")
        const tokens = Context.get(world.server.context, ProviderTokens)
        const principal = yield* tokens.resolve(token)
        assert.strictEqual(principal.threadId, "t1")
        assert.deepStrictEqual([...principal.capabilities].sort(), ["thread-management", "thread-read"])
        assert.isFalse(JSON.stringify(events).includes(token), "the token is in no event")
        yield* world.send({ type: "thread.archive", threadId: "t1" })
        yield* eventsUntil(
          world.engine,
          "t1",
          (e) => e.type === "thread.session-changed" && e.payload.status === "stopped"
        )
        const after = yield* Effect.flip(tokens.resolve(token))
        assert.strictEqual(after.reason, "unauthorized")
      })
  )

  it.live(
    "a command-provider thread in a project without an agent command is refused before anything is made",
    () =>
      Effect.gen(function* () {
        const world = yield* providerWorld(providersOn)
        const error = yield* Effect.flip(world.start("t1", "go", command))
        assert.strictEqual(error.reason, "validation")
        assert.include(error.message, "--agent-command")
        assert.isUndefined(yield* world.engine.getThread("t1" as ThreadId))
        const worktrees = join(world.server.home, "worktrees", "p1")
        assert.isTrue(
          !existsSync(worktrees) || readdirSync(worktrees).length === 0,
          "no worktree was created"
        )
      })
  )
})
