// A parent woken by its children, on the real server with command agents as the agents (real
// processes, real git worktrees, a real SQLite log): eight children that end together wake their
// idle parent once, with all eight results and whether each merges cleanly; a parent archived
// while its wake waits is not woken; and a server killed (SIGKILL) between a child's end and the
// parent's wake wakes the parent once after it restarts.
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { SpindleEvent, ThreadId } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { ProviderTokens } from "../auth/ProviderTokens.ts"
import { gitRepo, tempDir } from "../testing/fixtures.ts"
import { callTool, mcpClient } from "../testing/mcp.ts"
import { eventsUntil, PROJECT, providersOn, providerWorld, turnEnded } from "../testing/providers.ts"
import { runSpindle, startServer } from "../testing/serverProcess.ts"

/** A child ("child ...") waits for the gate, then commits a file of its own; every agent echoes its prompt. */
const agentScript = (gate: string) =>
  `case "$1" in child*) n=0; while [ ! -f ${gate} ] && [ $n -lt 1200 ]; do sleep 0.05; n=$((n+1)); done; echo "$1" > "$(echo "$1" | tr ' ' '-').txt"; git add -A; git -c user.name=a -c user.email=a@spindle.invalid commit -qm "$1";; esac; printf "%s\\n" "$1"`

const agentFor = (gate: string) => ["/bin/sh", "-c", agentScript(gate), "agent", "{prompt}"]

const WINDOW_MS = 3_000

const wokenOf = (events: ReadonlyArray<SpindleEvent>) => events.filter((e) => e.type === "thread.woken")

const leadWorld = (gate: string) =>
  Effect.gen(function* () {
    const world = yield* providerWorld(
      providersOn,
      { agentCommand: agentFor(gate) },
      { childWakeWindowMs: WINDOW_MS }
    )
    yield* world.start("lead", "lead", { provider: "command" })
    yield* turnEnded(world.engine, "lead")
    const issued = yield* Context.get(world.server.context, ProviderTokens).issue({
      threadId: "lead" as ThreadId,
      projectId: PROJECT,
      providerSessionId: "session-lead",
      capabilities: ["thread-management", "thread-read"]
    })
    const agent = yield* mcpClient(world.server.url, issued.token)
    return { world, agent }
  })

describe("a parent woken by its children", () => {
  it.live(
    "eight children ending together wake their idle parent once, with all eight results",
    () =>
      Effect.gen(function* () {
        const gate = join(yield* tempDir(), "go")
        const { world, agent } = yield* leadWorld(gate)
        const started = yield* callTool(agent, "t3_threads_start", {
          provider: "command",
          threads: Array.from({ length: 8 }, (_, i) => ({ prompt: `child ${i}` }))
        })
        assert.notStrictEqual(started.isError, true, JSON.stringify(started.content))
        const children = (started.structuredContent as { threads: Array<{ threadId: string }> }).threads.map(
          (t) => t.threadId
        )
        assert.strictEqual(children.length, 8)
        writeFileSync(gate, "")
        for (const child of children) yield* turnEnded(world.engine, child)

        const untilWoken = yield* eventsUntil(world.engine, "lead", (e) => e.type === "thread.woken")
        const woken = wokenOf(untilWoken)
        assert.strictEqual(woken.length, 1)
        const wake = woken[0]!
        if (wake.type !== "thread.woken") return
        assert.strictEqual(wake.payload.noticeIds.length, 8)
        const ended = yield* turnEnded(world.engine, "lead", wake.payload.turnId)
        const said = ended
          .flatMap((e) => (e.type === "thread.turn-item" ? [e.payload.item.text ?? ""] : []))
          .join("\n")
        for (const child of children) {
          assert.include(said, `[Spindle] Child thread ${child}`)
          assert.include(said, `${child}: merges cleanly into`)
        }
        assert.include(said, "8 child threads of yours reported back while you were idle")
        // Given once: nothing waits, so nothing wakes it again.
        const lead = (yield* world.engine.getThread("lead" as ThreadId))!
        assert.deepStrictEqual(lead.childNotices, [])
        assert.strictEqual(lead.wokenAt.length, 1)
      }),
    { timeout: 120_000 }
  )

  it.live("a parent archived while its wake waits is not woken", () =>
    Effect.gen(function* () {
      const gate = join(yield* tempDir(), "go")
      const { world, agent } = yield* leadWorld(gate)
      const started = yield* callTool(agent, "t3_thread_start", {
        prompt: "child alone",
        provider: "command"
      })
      const child = (started.structuredContent as { threadId: string }).threadId
      writeFileSync(gate, "")
      yield* eventsUntil(world.engine, "lead", (e) => e.type === "thread.child-notified")
      const before = (yield* world.engine.getThread("lead" as ThreadId))!.latestTurn?.turnId
      yield* world.send({ type: "thread.archive", threadId: "lead" })
      // Past the window: the wake found the parent archived.
      yield* Effect.sleep(WINDOW_MS + 1_500)
      const lead = (yield* world.engine.getThread("lead" as ThreadId))!
      assert.strictEqual(lead.status, "archived")
      assert.strictEqual(lead.latestTurn?.turnId, before)
      assert.deepStrictEqual(lead.wokenAt, [])
      assert.isDefined(yield* world.engine.getThread(child as ThreadId))
    })
  )

  it.live(
    "a server killed between a child's end and its parent's wake wakes the parent once after restart",
    () =>
      Effect.gen(function* () {
        const gate = join(yield* tempDir(), "go")
        const dir = yield* tempDir()
        const home = join(dir, "home")
        const script = join(dir, "agent.sh")
        writeFileSync(script, `#!/bin/sh\n${agentScript(gate)}\n`, { mode: 0o755 })
        const env = { SPINDLE_HOME: home }
        const spindle = (args: ReadonlyArray<string>) =>
          runSpindle(args, env).pipe(
            Effect.tap((r) =>
              Effect.sync(() => assert.strictEqual(r.code, 0, `${args.join(" ")}: ${r.stderr}`))
            )
          )
        const project = yield* gitRepo
        const crashing = yield* startServer(home, ["--providers", "on"], 20_000, {
          SPINDLE_TEST_CRASH_AT: "wake-scheduled"
        })
        yield* spindle([
          "project",
          "add",
          project,
          "--id",
          "p1",
          "--default-provider",
          "command",
          "--agent-command",
          `${script} {prompt}`
        ])
        yield* spindle([
          "thread",
          "start",
          "--project",
          "p1",
          "--prompt",
          "lead",
          "--thread-id",
          "lead",
          "--follow"
        ])
        const issued = JSON.parse(
          (yield* spindle(["token", "issue-mcp", "--thread", "lead", "--json"])).stdout
        ) as { token: string; mcpUrl: string }
        const agent = yield* mcpClient(issued.mcpUrl.replace(/\/mcp$/, ""), issued.token)
        yield* callTool(agent, "t3_thread_start", { prompt: "child after crash" })
        writeFileSync(gate, "")
        // The child's end is recorded with the parent's notice, then the server dies.
        const code = yield* Effect.promise(() => crashing.exited)
        assert.notStrictEqual(code, 0)

        yield* startServer(home, ["--providers", "on"])
        const show = () =>
          Effect.map(
            spindle(["thread", "show", "lead", "--json"]),
            (r) =>
              JSON.parse(r.stdout) as {
                wokenAt: Array<string>
                childNotices: Array<unknown>
                latestTurn: { status: string; turnId: string }
              }
          )
        const after = yield* show().pipe(
          Effect.repeat({
            until: (t) => t.wokenAt.length > 0 && t.latestTurn.status === "completed",
            schedule: Schedule.spaced("250 millis")
          }),
          Effect.timeout("60 seconds")
        )
        assert.strictEqual(after.wokenAt.length, 1)
        assert.deepStrictEqual(after.childNotices, [])
      }),
    { timeout: 120_000 }
  )
})
