// Idle agent sessions (real codex app-server, fake model): a session with no turn for the idle
// timeout is stopped (its process gone, its token refused) and the next prompt resumes the same
// Codex conversation in a new session; a turn longer than the timeout is never cut.
import { assert, describe, it } from "@effect/vitest"
import type { SpindleEvent, ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { rawInitialize } from "../../testing/mcp.ts"
import { allGone, codexPid, codexTap, codexWorld, eventsUntil, turnEndOf } from "../../testing/providers.ts"

const IDLE_MS = 2_000

const sessionStopped = (e: SpindleEvent) =>
  e.type === "thread.session-changed" && e.payload.status === "stopped"

/** Every text Codex sent the model in one request, as one string. */
const inputText = (request: { readonly input?: ReadonlyArray<unknown> }) =>
  JSON.stringify(request.input ?? [])

describe("idle agent sessions", () => {
  it.live(
    "an idle session is stopped and its token revoked; the next turn resumes the conversation in a new session",
    () =>
      Effect.gen(function* () {
        const tap = yield* codexTap
        const world = yield* codexWorld({}, { codexBin: tap.bin, sessionIdleTimeoutMs: IDLE_MS })
        const started = yield* world.start("t1", "remember the word heliotrope [[slow: 3500]]")
        const first = yield* eventsUntil(world.engine, "t1", (e) => e.type === "thread.turn-ended")
        // The turn ran longer than the idle timeout and was not cut.
        assert.strictEqual(turnEndOf(first)?.status, "completed")
        assert.isFalse(first.some(sessionStopped), "no stop during the turn")
        const pid = codexPid(started.worktreePath)
        assert.isDefined(pid, "a codex app-server runs in the worktree")
        const token = tap.tokenFor(started.worktreePath)!
        assert.strictEqual(
          (yield* rawInitialize(world.server.url, { authorization: `Bearer ${token}` })).status,
          200
        )
        const before = (yield* world.engine.getThread("t1" as ThreadId))!
        const cursor = before.session.resumeCursor
        assert.isNotNull(cursor)

        // Idle: the session stops by itself, as a stop, not an error.
        const stop = (yield* eventsUntil(world.engine, "t1", sessionStopped, "30 seconds")).find(
          sessionStopped
        )
        yield* allGone([pid!])
        const idle = (yield* world.engine.getThread("t1" as ThreadId))!
        assert.strictEqual(idle.session.status, "stopped")
        assert.isNull(idle.session.error)
        // The stop says why, on the thread and in its event.
        assert.match(
          idle.session.reason ?? "",
          /^idle for \d+s \(session idle timeout 2s\); the next prompt resumes/
        )
        assert.strictEqual(
          stop?.type === "thread.session-changed" ? stop.payload.reason : undefined,
          idle.session.reason
        )
        assert.strictEqual(idle.session.resumeCursor, cursor, "the conversation is kept for the next session")
        assert.strictEqual(idle.latestTurn?.status, "completed", "the finished turn is untouched")
        assert.strictEqual(
          (yield* rawInitialize(world.server.url, { authorization: `Bearer ${token}` })).status,
          401,
          "the stopped session's token is refused"
        )

        // The next prompt starts a new session that resumes the same Codex thread.
        const requestsBefore = world.model.requests.length
        yield* world.send({
          type: "thread.turn.start",
          threadId: "t1",
          prompt: "which word did I ask you to remember?"
        })
        const all = yield* eventsUntil(
          world.engine,
          "t1",
          (e) => e.type === "thread.turn-ended" && e.payload.turnId !== turnEndOf(first)?.turnId
        )
        assert.strictEqual(turnEndOf(all)?.status, "completed")
        const after = (yield* world.engine.getThread("t1" as ThreadId))!
        assert.strictEqual(after.session.status, "running")
        assert.isNull(after.session.reason, "a running session has no stop reason")
        assert.notStrictEqual(
          after.session.providerSessionId,
          before.session.providerSessionId,
          "a new session"
        )
        assert.strictEqual(after.session.resumeCursor, cursor, "the same Codex conversation")
        const resumedRequest = world.model.requests.slice(requestsBefore).at(-1)!
        assert.include(inputText(resumedRequest), "heliotrope", "the model saw the earlier turn")
        const newToken = tap.tokenFor(started.worktreePath)
        assert.isDefined(newToken)
        const newPid = codexPid(started.worktreePath)
        assert.isDefined(newPid)
        assert.notStrictEqual(newPid, pid)
      }).pipe(Effect.scoped),
    120_000
  )
})
