// The CLI never leaves a newcomer guessing: `thread start` names its thread at once and, on Ctrl-C,
// says the thread goes on and how to get back to it; `thread follow` says where a running thread
// stands before it waits; a thread waiting for an approval is `needs-approval` in `thread list`.
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { tempDir } from "../testing/fixtures.ts"
import {
  codexWorld,
  eventsUntil,
  providersOn,
  providerWorld,
  SPINDLE_BIN,
  turnEnded
} from "../testing/providers.ts"
import { runProcess, type StartedCommand, startProcess } from "../testing/serverProcess.ts"

/** `thread start` in project p1 with `prompt`, then `extra` flags. */
const startArgs = (prompt: string, ...extra: Array<string>) => [
  "thread",
  "start",
  "--project",
  "p1",
  "--prompt",
  prompt,
  ...extra
]

const spindle = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  runProcess(process.execPath, [SPINDLE_BIN, ...args], { env })

/** Resolves once `started` has written text matching `pattern` (on stdout or stderr), within 30 s. */
const outputMatching = (started: StartedCommand, pattern: RegExp) =>
  Effect.promise(
    () =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${pattern} in:\n${started.output()}`)), 30_000)
        const poll = setInterval(() => {
          if (!pattern.test(started.output())) return
          clearInterval(poll)
          clearTimeout(timer)
          resolve(started.output())
        }, 20)
      })
  )

describe("spindle CLI guidance", () => {
  it.live(
    "thread start names its thread before the work is done, and Ctrl-C says the thread goes on and how to re-attach",
    () =>
      Effect.gen(function* () {
        const world = yield* providerWorld(providersOn, {
          setupScript: "sleep 4; echo set up",
          agentCommand: ["/bin/sh", "-c", "echo done"]
        })
        const env = { SPINDLE_HOME: world.server.home }
        const started = startProcess(
          process.execPath,
          [SPINDLE_BIN, ...startArgs("go", "--thread-id", "t-guide", "--provider", "command")],
          { env }
        )
        yield* Effect.addFinalizer(() => Effect.sync(() => started.child.kill("SIGKILL")))
        yield* outputMatching(started, /Started thread t-guide/)
        // Said while the setup (4 s) still runs: nothing has ended yet.
        assert.strictEqual(started.child.exitCode, null)
        started.child.kill("SIGINT")
        const code = yield* Effect.promise(() => started.exited)
        assert.strictEqual(code, 130, started.output())
        assert.include(started.stderr(), "thread t-guide goes on on the server")
        assert.include(started.stderr(), "spindle thread follow t-guide")
        // It does go on: its setup passes and its turn runs to the end without the CLI.
        const events = yield* turnEnded(world.engine, "t-guide")
        assert.isTrue(events.some((e) => e.type === "thread.setup-completed"))
      }),
    90_000
  )

  it.live(
    "a thread waiting for an approval is needs-approval in thread list and --state, and follow says so before waiting",
    () =>
      Effect.gen(function* () {
        const world = yield* codexWorld()
        yield* world.start("t1", "[[run: touch approved.txt]]", { runtimeMode: "approval-required" })
        yield* eventsUntil(world.engine, "t1", (e) => e.type === "thread.approval-requested")
        const env = { SPINDLE_HOME: world.server.home }
        const listed = yield* spindle(["thread", "list"], env)
        assert.match(listed.stdout, /t1\s+p1\s+needs-approval/)
        const waiting = yield* spindle(["thread", "list", "--state", "needs-approval", "--json"], env)
        assert.deepStrictEqual(
          (JSON.parse(waiting.stdout) as Array<{ id: string }>).map((t) => t.id),
          ["t1"]
        )
        const running = yield* spindle(["thread", "list", "--state", "running", "--json"], env)
        assert.deepStrictEqual(JSON.parse(running.stdout), [])
        // follow on the running thread: where it stands first, then the news until the turn ends.
        const follow = startProcess(process.execPath, [SPINDLE_BIN, "thread", "follow", "t1"], { env })
        yield* Effect.addFinalizer(() => Effect.sync(() => follow.child.kill("SIGKILL")))
        const first = yield* outputMatching(follow, /\n/)
        assert.match(
          first,
          /^thread t1 is needs-approval: bootstrap [\w-]+, setup [\w-]+, turn running \(started /
        )
        const approved = yield* spindle(["thread", "approve", "t1"], env)
        assert.strictEqual(approved.code, 0, approved.stderr)
        assert.strictEqual(yield* Effect.promise(() => follow.exited), 0, follow.output())
      }),
    120_000
  )

  it.live("thread wait on a thread whose turn never started says why and exits 1, not done", () =>
    Effect.gen(function* () {
      const world = yield* providerWorld(providersOn, {
        setupScript: "echo broken; exit 3",
        agentCommand: ["/bin/sh", "-c", "echo done"]
      })
      const env = { SPINDLE_HOME: world.server.home }
      const started = yield* spindle(
        startArgs("go", "--thread-id", "t-nosetup", "--provider", "command"),
        env
      )
      assert.strictEqual(started.code, 1, started.stderr)
      const waited = yield* spindle(["thread", "wait", "t-nosetup", "--timeout", "30"], env)
      assert.strictEqual(waited.code, 1, waited.output)
      assert.include(
        waited.stderr,
        "thread t-nosetup: no turn started, so none will complete; its setup failed"
      )
      assert.include(waited.stderr, "spindle setup rerun t-nosetup")
      const json = yield* spindle(["thread", "wait", "t-nosetup", "--json"], env)
      assert.strictEqual(json.code, 1)
      assert.strictEqual(JSON.parse(json.stdout).error.reason, "no-turn")
    })
  )

  it.live(
    "a refused value names the flag that was typed (exit 2), and --json keeps the reason out of the message",
    () =>
      Effect.gen(function* () {
        const world = yield* providerWorld(providersOn, { agentCommand: ["/bin/sh", "-c", "echo done"] })
        const env = { SPINDLE_HOME: world.server.home }
        const args = startArgs("x", "--mode", "current_checkout", "--branch", "feature")
        const said = yield* spindle(args, env)
        assert.strictEqual(said.code, 2, said.output)
        assert.include(said.stderr, "validation: --branch does not apply with --mode current_checkout")
        assert.notInclude(said.stderr, "bootstrap.workspace")
        assert.notInclude(said.stderr, "thread.turn.start")
        const json = yield* spindle([...args, "--json"], env)
        assert.strictEqual(json.code, 2)
        const error = JSON.parse(json.stdout).error as { reason: string; message: string; field: string }
        assert.strictEqual(error.reason, "validation")
        assert.match(error.message, /^--branch does not apply with --mode current_checkout/)
        assert.strictEqual(error.field, "bootstrap.workspace.branch")
        // A server refusal that names no flag keeps exit 1, its reason said once on stderr.
        const missing = yield* spindle(["thread", "show", "t-nothing-here", "--json"], env)
        assert.strictEqual(missing.code, 1)
        const notFound = JSON.parse(missing.stdout).error as { reason: string; message: string }
        assert.strictEqual(notFound.reason, "not-found")
        assert.notMatch(notFound.message, /^not-found/)
        assert.match(
          (yield* spindle(["thread", "show", "t-nothing-here"], env)).stderr,
          /^spindle: not-found: Thread /
        )
        assert.deepStrictEqual(JSON.parse((yield* spindle(["thread", "list", "--json"], env)).stdout), [])
      })
  )

  it.live(
    "--follow never pauses at the end of the setup log, and prints each line of it once",
    () =>
      Effect.gen(function* () {
        const world = yield* providerWorld(providersOn, {
          setupScript: "echo one; echo two; echo three",
          agentCommand: ["/bin/sh", "-c", "echo done"]
        })
        const env = { SPINDLE_HOME: world.server.home }
        // The pause came about 1 run in 5 (the live lines ended before follow subscribed): 8 runs.
        for (let n = 0; n < 8; n++) {
          const arrived: Array<[number, string]> = []
          const started = startProcess(
            process.execPath,
            [SPINDLE_BIN, ...startArgs("go", "--provider", "command", "--follow")],
            { env }
          )
          let pending = ""
          started.child.stdout!.on("data", (chunk: Buffer) => {
            pending += chunk.toString("utf8")
            const lines = pending.split("\n")
            pending = lines.pop() ?? ""
            for (const line of lines) arrived.push([Date.now(), line])
          })
          assert.strictEqual(yield* Effect.promise(() => started.exited), 0, started.output())
          const setupLines = arrived.filter(([, line]) => line.startsWith("  │ "))
          assert.deepStrictEqual(
            setupLines.map(([, line]) => line),
            ["  │ one", "  │ two", "  │ three"],
            started.output()
          )
          const ended = arrived.find(([, line]) => line.startsWith("● setup succeeded"))
          assert.isDefined(ended, started.output())
          // Generous: the pause it had was 5 s.
          assert.isBelow(ended![0] - setupLines.at(-1)![0], 2_500, `run ${n}: paused at the setup log's end`)
        }
      }),
    180_000
  )

  it.live(
    "setup rerun after a failed setup offers the original prompt, and --run-turn runs it once the setup passes",
    () =>
      Effect.gen(function* () {
        const flag = join(yield* tempDir("spindle-setup-flag-"), "ready")
        const world = yield* providerWorld(providersOn, {
          setupScript: `test -f '${flag}' || { echo not ready; exit 3; }`,
          agentCommand: ["/bin/sh", "-c", 'echo "ran: $1"', "agent", "{prompt}"]
        })
        const env = { SPINDLE_HOME: world.server.home }
        const start = startArgs("the original", "--thread-id", "t-rerun")
        assert.strictEqual((yield* spindle([...start, "--provider", "command"], env)).code, 1)
        writeFileSync(flag, "")
        const plain = yield* spindle(["setup", "rerun", "t-rerun", "--follow"], env)
        assert.strictEqual(plain.code, 0, plain.output)
        assert.include(
          plain.stdout,
          "Its original prompt was not run. Run it: spindle setup rerun t-rerun --run-turn"
        )
        assert.isNull((yield* world.engine.getThread("t-rerun" as ThreadId))!.latestTurn)
        const withTurn = yield* spindle(["setup", "rerun", "t-rerun", "--run-turn", "--follow"], env)
        assert.strictEqual(withTurn.code, 0, withTurn.output)
        yield* turnEnded(world.engine, "t-rerun")
        const thread = (yield* world.engine.getThread("t-rerun" as ThreadId))!
        assert.strictEqual(thread.latestTurn?.status, "completed")
        assert.strictEqual(thread.latestTurn?.lastMessage, "ran: the original")
        // A thread that has its turn now: --run-turn is refused and changes nothing.
        const again = yield* spindle(["setup", "rerun", "t-rerun", "--run-turn", "--json"], env)
        assert.strictEqual(again.code, 1)
        assert.strictEqual(JSON.parse(again.stdout).error.reason, "conflict")
        assert.strictEqual(
          (yield* world.engine.getThread("t-rerun" as ThreadId))!.setup.runs,
          thread.setup.runs
        )
      })
  )
})
