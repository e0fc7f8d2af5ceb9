// Idle agents cost nothing: the real server (`npm start`) runs 20 threads with the real Codex CLI
// against the loopback fake model; each runs one turn and then sits idle. At the server's (short)
// session idle timeout every `codex app-server` must be gone and every session token revoked; a
// second prompt to each must resume its own conversation and complete. The summed resident memory
// of the server's agent processes before and after is the scenario's figure.
import { join } from "node:path"
import { describe, it } from "@effect/vitest"
import type { Thread, ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { startFakeModel } from "../src/testing/fakeModel.ts"
import { gitRepo, tempDir } from "../src/testing/fixtures.ts"
import { CODEX_BIN, codexHome } from "../src/testing/providers.ts"
import { checkServerInvariants } from "./harness/invariants.ts"
import { residentBelow } from "./harness/processes.ts"
import { promise, runScenario } from "./harness/scenario.ts"
import { startSpindle } from "./harness/spindle.ts"
import { adminClient, createProject, dispatch } from "./harness/world.ts"

const THREADS = 20
const IDLE = "90s"
const ids = Array.from({ length: THREADS }, (_, i) => `idle${String(i + 1).padStart(2, "0")}`)

describe("reliability: idle agent sessions", () => {
  it.live(
    `${THREADS} idle sessions are stopped at the idle timeout, then each resumes its conversation`,
    () =>
      runScenario("idle-sessions", "Idle agent sessions", (report) =>
        Effect.gen(function* () {
          const dir = yield* tempDir("spindle-idle-")
          const model = yield* Effect.acquireRelease(
            promise(() => startFakeModel()),
            (m) => Effect.promise(() => m.close())
          )
          const server = yield* startSpindle(join(dir, "home"), {
            env: { CODEX_HOME: yield* codexHome },
            args: [
              "--providers",
              "on",
              "--codex-bin",
              CODEX_BIN,
              ...model.codexConfig().flatMap((kv) => ["--codex-config", kv]),
              "--session-idle-timeout",
              IDLE
            ]
          })
          const admin = yield* adminClient(server)
          yield* createProject(admin, "p1", yield* gitRepo)
          const threads = () =>
            Effect.forEach(ids, (threadId) => admin["thread.get"]({ threadId: threadId as ThreadId }), {
              concurrency: 4
            })
          const untilAll = (ok: (t: Thread) => boolean, seconds: number) =>
            threads().pipe(
              Effect.repeat({ until: (all) => all.every(ok), schedule: Schedule.spaced("500 millis") }),
              Effect.timeoutOption(`${seconds} seconds`),
              Effect.flatMap((found) => (found._tag === "Some" ? Effect.succeed(found.value) : threads()))
            )
          const turnsDone = (n: number) => (t: Thread) =>
            t.latestTurn?.status === "completed" &&
            (n === 1 || t.latestTurn.lastMessage?.includes("second") === true)

          // 1. Twenty threads each run a turn.
          yield* Effect.forEach(
            ids,
            (threadId) =>
              dispatch(admin, {
                type: "thread.turn.start",
                commandId: `start-${threadId}`,
                threadId,
                prompt: `first turn of ${threadId}: remember the word ${threadId}-word`,
                bootstrap: {
                  createThread: { projectId: "p1" },
                  workspace: { mode: "new_worktree" },
                  runSetupScript: false
                }
              }),
            { concurrency: 4, discard: true }
          )
          const first = yield* untilAll(turnsDone(1), 180)
          report.check(
            `${THREADS} threads ran their first turn`,
            first.filter((t) => !turnsDone(1)(t)).map((t) => `${t.id}: ${t.latestTurn?.status ?? "no turn"}`)
          )
          const sessions = new Map(first.map((t) => [t.id, t.session]))
          const before = residentBelow(server.pid, "app-server")
          report.figure(
            "agent processes and their resident memory with 20 idle sessions",
            `${before.count} processes, ${before.mib} MiB`
          )
          report.check(
            "each live session has its agent process",
            before.count >= THREADS ? [] : [`${before.count} app-server processes for ${THREADS} sessions`]
          )

          // 2. The idle timeout stops every session: no process, every token revoked, the conversation kept.
          const stopped = yield* untilAll((t) => t.session.status === "stopped", 120)
          report.check(
            `every session stopped at the idle timeout (${IDLE})`,
            stopped.filter((t) => t.session.status !== "stopped").map((t) => `${t.id}: ${t.session.status}`)
          )
          const after = residentBelow(server.pid, "app-server")
          report.figure(
            "agent processes and their resident memory after the idle timeout",
            `${after.count} processes, ${after.mib} MiB`
          )
          report.check("no agent process is left", after.count === 0 ? [] : [`${after.count} still running`])
          report.check(
            "the stops are stops with their reason, not errors, and each keeps its conversation",
            stopped.flatMap((t) =>
              t.session.error === null &&
              t.session.reason?.startsWith("idle for ") === true &&
              t.session.resumeCursor === sessions.get(t.id)?.resumeCursor
                ? []
                : [
                    `${t.id}: error ${t.session.error}, reason ${t.session.reason}, cursor ${t.session.resumeCursor}`
                  ]
            )
          )
          const tokens = yield* admin["token.list"]()
          const stillValid = tokens.filter(
            (token) =>
              token.kind === "provider" &&
              [...sessions.values()].some((s) => s.providerSessionId === token.providerSessionId) &&
              token.revokedAt === null
          )
          report.check(
            "every stopped session's token is revoked",
            stillValid.map((token) => `${token.id} of ${token.kind === "provider" ? token.threadId : ""}`)
          )

          // 3. A second prompt resumes each conversation in a new session.
          const requestsBefore = model.requests.length
          yield* Effect.forEach(
            ids,
            (threadId) =>
              dispatch(admin, {
                type: "thread.turn.start",
                commandId: `second-${threadId}`,
                threadId,
                prompt: `second turn of ${threadId}`
              }),
            { concurrency: 4, discard: true }
          )
          const second = yield* untilAll(turnsDone(2), 180)
          report.check(
            "every thread's second turn completed in a new session",
            second.flatMap((t) =>
              turnsDone(2)(t) &&
              t.session.status === "running" &&
              t.session.providerSessionId !== sessions.get(t.id)?.providerSessionId
                ? []
                : [`${t.id}: turn ${t.latestTurn?.status}, session ${t.session.status}`]
            )
          )
          const resumedRequests = model.requests
            .slice(requestsBefore)
            .map((r) => JSON.stringify(r.input ?? []))
          report.check(
            "each resumed session carried its own earlier turn to the model",
            ids.flatMap((id) =>
              resumedRequests.some(
                (text) => text.includes(`second turn of ${id}`) && text.includes(`${id}-word`)
              )
                ? []
                : [`${id}: no request with both turns`]
            )
          )
          const resumed = residentBelow(server.pid, "app-server")
          report.figure(
            "agent processes and their resident memory after the second turns",
            `${resumed.count} processes, ${resumed.mib} MiB`
          )

          yield* checkServerInvariants(report, server, admin, [server.ownerToken])
        })
      )
  )
})
