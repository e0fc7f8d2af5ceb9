import { readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { ThreadId } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { Commands } from "../commands/Commands.ts"
import { gitRepo, serverActor, tempHome } from "../testing/fixtures.ts"
import { inProcessServer } from "../testing/inProcessServer.ts"
import {
  allGone,
  eventsUntil,
  PROJECT,
  providersOn,
  providerWorld,
  turnEnded,
  turnEndOf
} from "../testing/providers.ts"

describe("ProviderService", () => {
  it.live("archiving a thread mid-turn stops its agent: the turn ends interrupted, the session stopped", () =>
    Effect.gen(function* () {
      const world = yield* providerWorld(providersOn, {
        agentCommand: ["/bin/sh", "-c", "echo $$ > agent.pid; echo ready; exec sleep 300"]
      })
      const started = yield* world.start("t1", "go", { provider: "command" })
      yield* eventsUntil(world.engine, "t1", (e) => e.type === "thread.turn-item")
      const pid = Number(readFileSync(join(started.worktreePath, "agent.pid"), "utf8"))
      yield* world.send({ type: "thread.archive", threadId: "t1" })
      const end = turnEndOf(yield* turnEnded(world.engine, "t1"))!
      assert.strictEqual(end.status, "interrupted")
      assert.include(end.reason!, "archived")
      const session = yield* eventsUntil(
        world.engine,
        "t1",
        (e) => e.type === "thread.session-changed" && e.payload.status === "stopped"
      )
      assert.isDefined(session.at(-1))
      yield* allGone([pid])
    })
  )

  it.live("a turn requested while no agent ran (or the server was down) runs once providers are on", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      const repo = yield* gitRepo
      yield* Effect.scoped(
        Effect.gen(function* () {
          // Providers off: the turn is only requested.
          const server = yield* inProcessServer({ home })
          const commands = Context.get(server.context, Commands)
          yield* commands.dispatch(
            {
              type: "project.create",
              commandId: "c-p1",
              projectId: PROJECT,
              workspaceRoot: repo,
              agentCommand: ["/bin/sh", "-c", 'echo "ran: $1"', "agent", "{prompt}"]
            },
            serverActor
          )
          yield* commands.dispatch(
            {
              type: "thread.turn.start",
              commandId: "c-t1",
              threadId: "t1",
              prompt: "left waiting",
              bootstrap: {
                createThread: { projectId: PROJECT, provider: "command" },
                workspace: { mode: "new_worktree" },
                runSetupScript: false
              }
            },
            serverActor
          )
          assert.strictEqual(
            (yield* server.engine.getThread("t1" as ThreadId))?.latestTurn?.status,
            "requested"
          )
        })
      )
      const server = yield* inProcessServer({ home, providers: providersOn })
      const events = yield* turnEnded(server.engine, "t1")
      assert.strictEqual(turnEndOf(events)?.status, "completed")
      assert.isTrue(
        events.some((e) => e.type === "thread.turn-item" && e.payload.item.text === "ran: left waiting"),
        "the turn ran with the prompt it was requested with"
      )
    })
  )

  it.live(
    "a Codex binary that is not there fails the turn with a provider error that says how to install it",
    () =>
      Effect.gen(function* () {
        const world = yield* providerWorld({ ...providersOn, codexBin: "no-such-codex-binary" })
        yield* world.start("t1", "go")
        const end = turnEndOf(yield* turnEnded(world.engine, "t1"))!
        assert.strictEqual(end.status, "failed")
        assert.include(end.reason!, "npm install -g @openai/codex")
        assert.include(end.reason!, "--codex-bin")
        const thread = (yield* world.engine.getThread("t1" as ThreadId))!
        assert.strictEqual(thread.session.status, "error")
        // The project's own setting wins over the server's.
        yield* world.send({ type: "project.update", projectId: PROJECT, codexBin: "/nonexistent/codex" })
        yield* world.send({ type: "thread.turn.start", threadId: "t1", prompt: "again", turnId: "u2" })
        assert.include(turnEndOf(yield* turnEnded(world.engine, "t1", "u2"))!.reason!, "/nonexistent/codex")
      })
  )
})
