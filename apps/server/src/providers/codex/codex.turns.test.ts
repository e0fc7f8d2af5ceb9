// The real Codex CLI (pinned dev dependency), offline against the loopback fake model: full turns,
// streamed over /ws, approvals, interrupts, a killed app-server.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { SpindleEvent, ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import { makeClient } from "../../cli/rpcClient.ts"
import { serverActor } from "../../testing/fixtures.ts"
import {
  codexPid,
  codexWorld,
  eventsUntil,
  PIXEL_PNG,
  SPINDLE_BIN,
  turnEnded,
  turnEndOf
} from "../../testing/providers.ts"
import { runProcess } from "../../testing/serverProcess.ts"

describe("the Codex provider (real codex app-server, fake model)", () => {
  it.live(
    "a thread runs a full turn: its events (session, turn, command, agent message, usage, end) arrive in order over /ws",
    () =>
      Effect.gen(function* () {
        const world = yield* codexWorld()
        const client = yield* makeClient({ url: world.server.url, token: world.server.ownerToken })
        const from = (yield* client["server.getStatus"]()).sequence
        const watch = yield* client["orchestration.subscribe"]({ fromSequence: from }).pipe(
          Stream.filter((e) => "threadId" in e.payload && e.payload.threadId === "t1"),
          Stream.takeUntil((e) => e.type === "thread.turn-ended"),
          Stream.runCollect,
          Effect.timeout("90 seconds"),
          Effect.forkChild
        )
        const started = yield* world.start("t1", "make a file [[run: echo hello > hello.txt]]")
        const events = Array.from(yield* Fiber.join(watch))
        const sequences = events.map((e) => e.sequence)
        assert.deepStrictEqual(
          sequences,
          [...sequences].sort((a, b) => a - b),
          "in log order"
        )
        const kinds = events.flatMap((e) =>
          e.type === "thread.turn-item" ? [`${e.payload.phase}:${e.payload.item.kind}`] : [e.type]
        )
        const at = (kind: string) => kinds.indexOf(kind)
        assert.isTrue(
          at("thread.session-changed") >= 0 && at("thread.session-changed") < at("thread.turn-started")
        )
        assert.isTrue(at("started:command") > at("thread.turn-started"))
        assert.isTrue(at("completed:command") > at("started:command"))
        assert.isTrue(at("completed:agent-message") > at("completed:command"))
        assert.include(kinds, "thread.turn-usage")
        assert.strictEqual(kinds.at(-1), "thread.turn-ended")
        const command = events.find(
          (e) =>
            e.type === "thread.turn-item" &&
            e.payload.phase === "completed" &&
            e.payload.item.kind === "command"
        )
        assert.include(
          command?.type === "thread.turn-item" ? (command.payload.item.command ?? "") : "",
          "echo hello"
        )
        assert.deepStrictEqual(turnEndOf(events), {
          threadId: "t1" as ThreadId,
          turnId: events.find((e) => e.type === "thread.turn-ended")!.payload.turnId as never,
          status: "completed",
          reason: null
        })
        assert.strictEqual(readFileSync(join(started.worktreePath, "hello.txt"), "utf8"), "hello\n")
        const thread = (yield* world.engine.getThread("t1" as ThreadId))!
        assert.strictEqual(thread.latestTurn?.status, "completed")
        assert.include(thread.latestTurn?.lastMessage ?? "", "echo hello")
        assert.isAbove(thread.latestTurn?.usage?.totalTokens ?? 0, 0)
        assert.strictEqual(thread.session.status, "running")
        assert.isNotNull(thread.session.resumeCursor)
        // The model saw Spindle's instructions and tools.
        const first = world.model.requests[0]!
        assert.include(JSON.stringify(first.input), "t3_thread_start")
        assert.include(JSON.stringify(first.tools), "mcp__spindle")
      }),
    120_000
  )

  it.live(
    "approval-required: a command waits (blocking nothing, seen after a reconnect); approved from the CLI, it runs and the turn completes",
    () =>
      Effect.gen(function* () {
        const world = yield* codexWorld()
        const started = yield* world.start("t1", "[[run: touch approved.txt]]", {
          runtimeMode: "approval-required"
        })
        const asked = yield* eventsUntil(world.engine, "t1", (e) => e.type === "thread.approval-requested")
        const request = asked.at(-1)!
        assert.strictEqual(request.type, "thread.approval-requested")
        if (request.type !== "thread.approval-requested") return
        assert.strictEqual(request.payload.approval.kind, "command")
        assert.include(request.payload.approval.command ?? "", "touch approved.txt")
        assert.isFalse(
          existsSync(join(started.worktreePath, "approved.txt")),
          "nothing ran before the answer"
        )
        const thread = (yield* world.engine.getThread("t1" as ThreadId))!
        assert.deepStrictEqual(
          thread.pendingApprovals.map((a) => a.requestId),
          [request.payload.approval.requestId]
        )
        // Waiting blocks nothing, and a client that (re)connects meanwhile sees the request.
        yield* world.send({ type: "project.update", projectId: "p1", title: "still answering" })
        for (let connection = 0; connection < 2; connection++) {
          const seen = yield* Effect.scoped(
            Effect.flatMap(makeClient({ url: world.server.url, token: world.server.ownerToken }), (client) =>
              client["thread.get"]({ threadId: "t1" as ThreadId })
            )
          )
          assert.deepStrictEqual(
            seen.pendingApprovals.map((a) => a.requestId),
            [request.payload.approval.requestId]
          )
        }
        // Answered by a person, from the CLI (the only request waiting, so it need not be named).
        const answered = yield* runProcess(process.execPath, [SPINDLE_BIN, "thread", "approve", "t1"], {
          env: { SPINDLE_HOME: world.server.home }
        })
        assert.strictEqual(answered.code, 0, answered.stderr)
        assert.include(answered.stdout, `Approved ${request.payload.approval.requestId}`)
        const events = yield* turnEnded(world.engine, "t1")
        assert.strictEqual(turnEndOf(events)?.status, "completed")
        assert.isTrue(existsSync(join(started.worktreePath, "approved.txt")))
        assert.deepStrictEqual((yield* world.engine.getThread("t1" as ThreadId))!.pendingApprovals, [])
      }),
    120_000
  )

  it.live(
    "a decline Codex can only take as a cancel is said where the choice is offered, and the turn it ends says why",
    () =>
      Effect.gen(function* () {
        const world = yield* codexWorld()
        yield* world.start("t1", "[[run: touch declined.txt]]", { runtimeMode: "approval-required" })
        const asked = yield* eventsUntil(world.engine, "t1", (e) => e.type === "thread.approval-requested")
        const request = asked.at(-1)!
        if (request.type !== "thread.approval-requested") return assert.fail("no approval request")
        assert.isTrue(request.payload.approval.declineEndsTurn, "Codex 0.171 offers only accept or cancel")
        const env = { SPINDLE_HOME: world.server.home }
        const shown = yield* runProcess(process.execPath, [SPINDLE_BIN, "thread", "show", "t1"], { env })
        assert.include(shown.stdout, "declining ends the turn: the agent offered only accept or cancel")
        const declined = yield* runProcess(process.execPath, [SPINDLE_BIN, "thread", "decline", "t1"], {
          env
        })
        assert.strictEqual(declined.code, 0, declined.stderr)
        const end = turnEndOf(yield* turnEnded(world.engine, "t1"))
        assert.strictEqual(end?.status, "interrupted")
        assert.include(end?.reason ?? "", "You declined the agent's request to run")
        assert.include(end?.reason ?? "", "Codex offered only accept or cancel, so declining ended the turn")
      }),
    120_000
  )

  it.live(
    "attachments reach the model: an image as an image input, a text file written out after the prompt",
    () =>
      Effect.gen(function* () {
        const world = yield* codexWorld()
        yield* world.commands.dispatch(
          {
            type: "thread.turn.start",
            commandId: "start-att",
            threadId: "t1",
            prompt: "look at these",
            bootstrap: {
              createThread: { projectId: "p1" },
              workspace: { mode: "new_worktree" },
              runSetupScript: false,
              attachments: [
                { name: "pixel.png", mediaType: "image/png", data: PIXEL_PNG },
                {
                  name: "todo.txt",
                  mediaType: "text/plain",
                  data: Buffer.from("buy milk\n").toString("base64")
                }
              ]
            }
          },
          serverActor
        )
        assert.strictEqual(turnEndOf(yield* turnEnded(world.engine, "t1"))?.status, "completed")
        const sent = JSON.stringify(world.model.requests[0]!.input)
        assert.include(sent, "input_image")
        assert.include(sent, PIXEL_PNG.slice(0, 40))
        assert.include(sent, "attached file todo.txt")
        assert.include(sent, "buy milk")
      }),
    120_000
  )

  it.live(
    "a follow-up's attachments reach the model with it, and a steer's reach the running turn; bad ones change nothing",
    () =>
      Effect.gen(function* () {
        const world = yield* codexWorld()
        yield* world.start("t1", "first")
        yield* turnEnded(world.engine, "t1")
        const notes = join(world.repo, "..", "notes.md")
        writeFileSync(notes, "# notes\nremember the tests\n")
        yield* world.send({
          type: "thread.turn.start",
          threadId: "t1",
          turnId: "u2",
          prompt: "and these",
          attachments: [{ path: notes }, { name: "pixel.png", mediaType: "image/png", data: PIXEL_PNG }]
        })
        assert.strictEqual(turnEndOf(yield* turnEnded(world.engine, "t1", "u2"))?.status, "completed")
        const followUp = JSON.stringify(world.model.requests.at(-1)!.input)
        assert.include(followUp, "and these")
        assert.include(followUp, "attached file notes.md")
        assert.include(followUp, "remember the tests")
        assert.include(followUp, "input_image")
        const thread = (yield* world.engine.getThread("t1" as ThreadId))!
        assert.deepStrictEqual(
          thread.attachments.map((a) => a.name),
          ["notes.md", "pixel.png"]
        )
        for (const a of thread.attachments)
          assert.include(a.path, join(world.server.home, "attachments", "t1"))
        const requested = (yield* eventsUntil(
          world.engine,
          "t1",
          (e) => e.type === "thread.turn-start-requested" && e.payload.turnId === "u2"
        )).at(-1)!
        assert.deepStrictEqual(
          requested.type === "thread.turn-start-requested" ? requested.payload.attachments : [],
          thread.attachments.map((a) => a.path)
        )

        // Refused, with nothing written or recorded: bytes that are not the image they claim, both
        // a bootstrap and follow-up attachments, a thread that does not exist.
        const folders = () => readdirSync(join(world.server.home, "attachments", "t1")).sort()
        const before = folders()
        const fake = yield* Effect.flip(
          world.send({
            type: "thread.turn.start",
            threadId: "t1",
            prompt: "bad",
            attachments: [
              { name: "x.png", mediaType: "image/png", data: Buffer.from("hi").toString("base64") }
            ]
          })
        )
        assert.strictEqual(fake.reason, "validation")
        assert.strictEqual(fake.field, "attachments.0")
        const both = yield* Effect.flip(
          world.send({
            type: "thread.turn.start",
            threadId: "t9",
            prompt: "new",
            bootstrap: { createThread: { projectId: "p1" }, workspace: { mode: "new_worktree" } },
            attachments: [{ path: notes }]
          })
        )
        assert.strictEqual(both.field, "attachments")
        const missing = yield* Effect.flip(
          world.send({
            type: "thread.turn.start",
            threadId: "t404",
            prompt: "x",
            attachments: [{ path: notes }]
          })
        )
        assert.strictEqual(missing.reason, "not-found")
        assert.isFalse(existsSync(join(world.server.home, "attachments", "t404")))
        assert.deepStrictEqual(folders(), before)
        assert.strictEqual((yield* world.engine.getThread("t1" as ThreadId))!.attachments.length, 2)
        assert.isUndefined(yield* world.engine.getThread("t9" as ThreadId))

        // Into a running turn: Codex takes the image with the steer.
        yield* world.send({
          type: "thread.turn.start",
          threadId: "t1",
          turnId: "u3",
          prompt: "think long [[slow: 3000]]"
        })
        yield* eventsUntil(
          world.engine,
          "t1",
          (e) =>
            e.type === "thread.turn-item" &&
            e.payload.turnId === "u3" &&
            e.payload.item.kind === "agent-message"
        )
        const asked = world.model.requests.length
        yield* world.send({
          type: "thread.turn.start",
          threadId: "t1",
          prompt: "steer with this",
          attachments: [{ name: "shot.png", mediaType: "image/png", data: PIXEL_PNG }]
        })
        assert.strictEqual(turnEndOf(yield* turnEnded(world.engine, "t1", "u3"))?.status, "completed")
        const steered = world.model.requests.slice(asked).map((r) => JSON.stringify(r.input))
        assert.isTrue(
          steered.some((input) => input.includes("steer with this") && input.split("input_image").length > 2),
          "the steer's prompt and its image reach the model in the same turn"
        )
        assert.strictEqual((yield* world.engine.getThread("t1" as ThreadId))!.latestTurn?.turnId, "u3")
      }),
    120_000
  )

  it.live(
    "an interrupt ends a running turn as interrupted; the next turn runs in the same session",
    () =>
      Effect.gen(function* () {
        const world = yield* codexWorld()
        yield* world.start("t1", "think long [[slow: 30000]]")
        yield* eventsUntil(
          world.engine,
          "t1",
          (e) => e.type === "thread.turn-item" && e.payload.item.kind === "agent-message"
        )
        yield* world.send({ type: "thread.turn.interrupt", threadId: "t1" })
        const events = yield* turnEnded(world.engine, "t1")
        assert.strictEqual(turnEndOf(events)?.status, "interrupted")
        const session = (yield* world.engine.getThread("t1" as ThreadId))!.session
        yield* world.send({ type: "thread.turn.start", threadId: "t1", prompt: "now quick", turnId: "u2" })
        assert.strictEqual(turnEndOf(yield* turnEnded(world.engine, "t1", "u2"))?.status, "completed")
        assert.strictEqual(
          (yield* world.engine.getThread("t1" as ThreadId))!.session.providerSessionId,
          session.providerSessionId
        )
      }),
    120_000
  )

  it.live(
    "kill -9 of Codex mid-turn fails the turn with the reason; the thread shows session error; the next turn starts a new session",
    () =>
      Effect.gen(function* () {
        const world = yield* codexWorld()
        const started = yield* world.start("t1", "think long [[slow: 30000]]")
        yield* eventsUntil(
          world.engine,
          "t1",
          (e) => e.type === "thread.turn-item" && e.payload.item.kind === "agent-message"
        )
        const pid = codexPid(started.worktreePath)
        assert.isDefined(pid, "codex app-server runs in the worktree")
        process.kill(pid!, "SIGKILL")
        const end = turnEndOf(yield* turnEnded(world.engine, "t1"))!
        assert.strictEqual(end.status, "failed")
        assert.include(end.reason!, "session ended")
        assert.include(end.reason!, "killed")
        const errored = yield* eventsUntil(
          world.engine,
          "t1",
          (e) => e.type === "thread.session-changed" && e.payload.status === "error"
        )
        const first = (errored.at(-1) as Extract<SpindleEvent, { type: "thread.session-changed" }>).payload
        yield* world.send({ type: "thread.turn.start", threadId: "t1", prompt: "again", turnId: "u2" })
        assert.strictEqual(turnEndOf(yield* turnEnded(world.engine, "t1", "u2"))?.status, "completed")
        const thread = (yield* world.engine.getThread("t1" as ThreadId))!
        assert.strictEqual(thread.session.status, "running")
        assert.notStrictEqual(thread.session.providerSessionId, first.providerSessionId)
      }),
    120_000
  )
})
