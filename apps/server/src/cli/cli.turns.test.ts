import { writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { tempDir } from "../testing/fixtures.ts"
import { eventsUntil, providersOn, providerWorld, turnEnded } from "../testing/providers.ts"
import { runProcess } from "../testing/serverProcess.ts"

const BIN = resolve(import.meta.dirname, "../../bin/spindle.mjs")
const spindle = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  runProcess(process.execPath, [BIN, ...args], { env })

describe("spindle CLI and the agent's turns", () => {
  it.live(
    "thread start --follow shows the agent's output until the turn ends; send starts the next; a failed turn exits 1",
    () =>
      Effect.gen(function* () {
        const world = yield* providerWorld(providersOn, {
          agentCommand: [
            "/bin/sh",
            "-c",
            'echo "thinking about: $1"; [ "$1" != fail ] || { echo broken >&2; exit 4; }; echo done',
            "agent",
            "{prompt}"
          ]
        })
        const env = { SPINDLE_HOME: world.server.home }
        const started = yield* spindle(
          [
            "thread",
            "start",
            "--project",
            "p1",
            "--prompt",
            "the bug",
            "--thread-id",
            "t1",
            "--provider",
            "command",
            "--no-setup",
            "--follow"
          ],
          env
        )
        assert.strictEqual(started.code, 0, started.stderr)
        const lines = started.stdout.split("\n")
        const at = (text: string) => lines.findIndex((line) => line.includes(text))
        assert.isAbove(at("agent session running"), at("turn requested"))
        assert.isAbove(at("agent: thinking about: the bug"), at("agent working"))
        assert.isAbove(at("agent: done"), at("agent: thinking about: the bug"))
        assert.isAbove(at("turn completed"), at("agent: done"))

        const sent = yield* spindle(["thread", "send", "t1", "--prompt", "next step", "--follow"], env)
        assert.strictEqual(sent.code, 0, sent.stderr)
        assert.include(sent.stdout, "agent: thinking about: next step")
        assert.include(sent.stdout, "turn completed")

        const failed = yield* spindle(["thread", "send", "t1", "--prompt", "fail", "--follow"], env)
        assert.strictEqual(failed.code, 1, failed.stdout)
        assert.include(failed.stdout, "turn failed")
        assert.include(failed.stdout, "broken")
        assert.include(failed.stderr, "spindle thread show t1")

        const shown = yield* spindle(["thread", "show", "t1"], env)
        assert.include(shown.stdout, "turn failed")
        assert.include(shown.stdout, "agent command")
        const json = JSON.parse((yield* spindle(["thread", "show", "t1", "--json"], env)).stdout)
        assert.strictEqual(json.latestTurn.status, "failed")
      })
  )

  it.live("approve and decline with nothing waiting exit 1; interrupt with no turn running is refused", () =>
    Effect.gen(function* () {
      const world = yield* providerWorld(providersOn, { agentCommand: ["/bin/true"] })
      const env = { SPINDLE_HOME: world.server.home }
      yield* world.start("t1", "go", { provider: "command" })
      yield* turnEnded(world.engine, "t1")
      const interrupt = yield* spindle(["thread", "interrupt", "t1"], env)
      assert.strictEqual(interrupt.code, 1)
      assert.include(interrupt.stderr, "no running turn")
      const approve = yield* spindle(["thread", "approve", "t1"], env)
      assert.strictEqual(approve.code, 1)
      assert.include(approve.stderr, "no approval request waiting")
      const unknown = yield* spindle(["thread", "decline", "t1", "req-1"], env)
      assert.strictEqual(unknown.code, 1)
      assert.include(unknown.stderr, "no pending approval request req-1")
      const usage = yield* spindle(["thread", "decline", "t1", "req-1", "--for-session"], env)
      assert.strictEqual(usage.code, 2)
    })
  )

  it.live("interrupt answers once the turn ended, and how", () =>
    Effect.gen(function* () {
      const world = yield* providerWorld(providersOn, {
        agentCommand: ["/bin/sh", "-c", "echo ready; exec sleep 60"]
      })
      const env = { SPINDLE_HOME: world.server.home }
      yield* world.start("t1", "go", { provider: "command" })
      yield* eventsUntil(world.engine, "t1", (e) => e.type === "thread.turn-item")
      const interrupt = yield* spindle(["thread", "interrupt", "t1"], env)
      assert.strictEqual(interrupt.code, 0, interrupt.stderr)
      assert.match(interrupt.stdout, /^Turn \S+ of t1 ended interrupted\.$/m)
      const thread = (yield* world.engine.getThread("t1" as never))!
      assert.strictEqual(thread.latestTurn?.status, "interrupted")
    })
  )

  it.live("thread stop answers once the turn ended, and how; not interrupted while it still runs", () =>
    Effect.gen(function* () {
      // It ignores SIGTERM, so its turn ends only with the SIGKILL that follows 2 s later.
      const world = yield* providerWorld(providersOn, {
        agentCommand: ["/bin/sh", "-c", 'trap "" TERM; echo ready; while :; do sleep 1; done']
      })
      const env = { SPINDLE_HOME: world.server.home }
      yield* world.start("t1", "go", { provider: "command" })
      yield* eventsUntil(world.engine, "t1", (e) => e.type === "thread.turn-item")
      const stopped = yield* spindle(["thread", "stop", "t1", "--json"], env)
      assert.strictEqual(stopped.code, 0, stopped.stderr)
      const answer = JSON.parse(stopped.stdout) as { interrupted: boolean; turnStatus: string | null }
      // Said only once it is so: the thread shows the turn ended as the answer says.
      const thread = (yield* world.engine.getThread("t1" as never))!
      assert.strictEqual(thread.latestTurn?.status, "interrupted")
      assert.deepStrictEqual([answer.turnStatus, answer.interrupted], ["interrupted", true])
      const again = yield* spindle(["thread", "stop", "t1", "--archive"], env)
      assert.strictEqual(again.code, 0, again.stderr)
      // It says what became of the worktree: removed here (nothing in it to keep).
      const [said, worktree] = again.stdout.trim().split("\n")
      assert.strictEqual(said, "t1 had no turn running. Archived t1.")
      assert.match(worktree ?? "", /^ {2}removed worktree \S+ and branch spindle\/\S+$/)
    })
  )

  it.live(
    "thread start and send --attach give files with the prompt; a missing file is refused by index",
    () =>
      Effect.gen(function* () {
        const world = yield* providerWorld(providersOn, {
          agentCommand: [
            "/bin/sh",
            "-c",
            'for f in $SPINDLE_ATTACHMENTS; do echo "attached $(basename "$f"): $(cat "$f")"; done'
          ]
        })
        const env = { SPINDLE_HOME: world.server.home }
        const dir = yield* tempDir()
        writeFileSync(join(dir, "todo.txt"), "ship it")
        const started = yield* spindle(
          [
            "thread",
            "start",
            "--project",
            "p1",
            "--prompt",
            "go",
            "--thread-id",
            "t1",
            "--provider",
            "command",
            "--no-setup",
            "--attach",
            join(dir, "todo.txt"),
            "--follow"
          ],
          env
        )
        assert.strictEqual(started.code, 0, started.stderr)
        assert.include(started.stdout, "agent: attached 1-todo.txt: ship it")
        // A follow-up takes files too: the agent's next turn gets them.
        writeFileSync(join(dir, "more.txt"), "and test it")
        const sent = yield* spindle(
          ["thread", "send", "t1", "--prompt", "next", "--attach", join(dir, "more.txt"), "--follow"],
          env
        )
        assert.strictEqual(sent.code, 0, sent.stderr)
        assert.include(sent.stdout, "agent: attached 1-more.txt: and test it")
        const noFile = yield* spindle(
          ["thread", "send", "t1", "--prompt", "x", "--attach", join(dir, "gone.txt")],
          env
        )
        assert.strictEqual(noFile.code, 2)
        assert.include(noFile.stderr, `--attach ${join(dir, "gone.txt")}: no such file`)
        const missing = yield* spindle(
          [
            "thread",
            "start",
            "--project",
            "p1",
            "--prompt",
            "go",
            "--provider",
            "command",
            "--attach",
            join(dir, "nope.txt")
          ],
          env
        )
        // Bad usage, found before anything is sent: exit 2 naming the flag and the file.
        assert.strictEqual(missing.code, 2)
        assert.include(missing.stderr, `--attach ${join(dir, "nope.txt")}: no such file`)
      })
  )
})
