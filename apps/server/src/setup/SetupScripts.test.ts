import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  statSync,
  writeFileSync
} from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import { tempDir } from "../testing/fixtures.ts"
import { sawLine, setupFixture, setupLayer, thread, waitForGo } from "../testing/setup.ts"
import { SetupScripts } from "./SetupScripts.ts"

describe("SetupScripts", () => {
  it.live("runs the configured script in the worktree with the thread's environment", () =>
    Effect.gen(function* () {
      const { service, home, logsDir, worktree, request } = yield* setupFixture()
      const result = yield* service.run(
        request(
          "t1",
          [
            'echo "root=$SPINDLE_PROJECT_ROOT"',
            'echo "worktree=$SPINDLE_WORKTREE_PATH"',
            'echo "thread=$SPINDLE_THREAD_ID"',
            'echo "branch=[$SPINDLE_BRANCH]"',
            'echo "t3root=$T3CODE_PROJECT_ROOT"',
            'echo "t3worktree=$T3CODE_WORKTREE_PATH"',
            'echo "pwd=$(pwd)"',
            'echo "home=$HOME"',
            "if read -r line; then echo stdin=open; else echo stdin=closed; fi"
          ].join("\n")
        )
      )
      const expected = [
        `root=${join(home, "repo")}`,
        `worktree=${worktree}`,
        "thread=t1",
        "branch=[]",
        `t3root=${join(home, "repo")}`,
        `t3worktree=${worktree}`,
        `pwd=${worktree}`,
        `home=${process.env.HOME ?? ""}`,
        "stdin=closed"
      ]
        .map((line) => `${line}\n`)
        .join("")
      assert.strictEqual(result.status, "succeeded")
      assert.strictEqual(result.exitCode, 0)
      assert.strictEqual(result.signal, null)
      assert.strictEqual(result.run, 1)
      assert.strictEqual(result.logPath, join(logsDir, "t1", "setup-1.log"))
      assert.strictEqual(result.logTail, expected)
      assert.strictEqual(readFileSync(join(logsDir, "t1", "setup-1.log"), "utf8"), expected)
      assert.strictEqual(yield* service.readLog(thread("t1"), 1), expected)

      const branched = yield* service.run(
        request("t1", 'echo "branch=$SPINDLE_BRANCH"', { branch: "feature/x" })
      )
      assert.strictEqual(branched.logTail, "branch=feature/x\n")
      assert.strictEqual(branched.run, 2)
    })
  )

  it.live("reports a non-zero exit as a failed result, not an error", () =>
    Effect.gen(function* () {
      const { service, request } = yield* setupFixture()
      const result = yield* service.run(request("t1", "echo oops >&2; exit 3"))
      assert.strictEqual(result.status, "failed")
      assert.strictEqual(result.exitCode, 3)
      assert.strictEqual(result.signal, null)
      assert.strictEqual(result.logTail, "oops\n")
    })
  )

  it.live("fails with a setup error when the script cannot start", () =>
    Effect.gen(function* () {
      const { service, home, request } = yield* setupFixture()
      const missing = join(home, "no such worktree")
      const error = yield* Effect.flip(service.run(request("t1", "true", { worktreePath: missing })))
      assert.strictEqual(error.reason, "setup")
      assert.strictEqual(error.threadId, "t1")
      assert.strictEqual(error.path, missing)
      // The failed run is over: the next request starts a new one.
      assert.strictEqual((yield* service.run(request("t1", "true"))).status, "succeeded")
    })
  )

  it.live("reports no-script without running anything when there is no setting and no file", () =>
    Effect.gen(function* () {
      const { service, logsDir, request } = yield* setupFixture()
      const result = yield* service.run(request("t1", null))
      assert.deepStrictEqual(result, {
        status: "no-script",
        exitCode: null,
        signal: null,
        durationMs: 0,
        logTail: "",
        logPath: null,
        run: 1
      })
      assert.isFalse(existsSync(join(logsDir, "t1")))
    })
  )

  it.live("never runs a .spindle/setup.sh it finds in the worktree", () =>
    Effect.gen(function* () {
      const { service, worktree, request } = yield* setupFixture()
      mkdirSync(join(worktree, ".spindle"))
      const file = join(worktree, ".spindle", "setup.sh")
      writeFileSync(file, `#!/bin/sh\ntouch "${join(worktree, "ran")}"\n`)
      chmodSync(file, 0o755)
      assert.strictEqual((yield* service.run(request("t1", null))).status, "no-script")
      assert.isFalse(existsSync(join(worktree, "ran")))
    })
  )

  it.live("runs a private copy of the text it was given, whatever the script does to the worktree", () =>
    Effect.gen(function* () {
      const { service, logsDir, request } = yield* setupFixture()
      const script = 'echo "ran as $0"'
      const result = yield* service.run(request("t1", script))
      const copy = join(logsDir, "t1", "setup-1.sh")
      assert.strictEqual(result.logTail, `ran as ${copy}\n`)
      assert.strictEqual(readFileSync(copy, "utf8"), script)
      assert.strictEqual(statSync(copy).mode & 0o777, 0o700)
    })
  )

  it.live("joins a second request for the same thread to the running script", () =>
    Effect.gen(function* () {
      const { service, worktree, request } = yield* setupFixture()
      const script = `echo ran >> "$SPINDLE_WORKTREE_PATH/count"; echo started; ${waitForGo}; echo done`
      const { lines } = yield* service.follow(thread("t1"))
      const first = yield* Effect.forkChild(service.run(request("t1", script)))
      assert.isTrue(yield* sawLine(lines, "started"))
      // Started at once, the second caller has joined (or started its own run) before we continue.
      const second = yield* Effect.forkChild(service.run(request("t1", script)), { startImmediately: true })
      writeFileSync(join(worktree, "go"), "")
      const [a, b] = [yield* Fiber.join(first), yield* Fiber.join(second)]
      assert.strictEqual(a.status, "succeeded")
      assert.deepStrictEqual(a, b)
      assert.strictEqual(readFileSync(join(worktree, "count"), "utf8"), "ran\n")
    })
  )

  it.live("runs setups of different threads in parallel", () =>
    Effect.gen(function* () {
      const { service, home, request } = yield* setupFixture()
      // Each script waits for the other to have started: run one after the other, both time out.
      const waitFor = (mine: string, theirs: string) =>
        `touch "${home}/${mine}"; while [ ! -e "${home}/${theirs}" ]; do sleep 0.02; done; echo met`
      const [a, b] = yield* Effect.all(
        [
          service.run(request("a", waitFor("a-started", "b-started"), { timeoutSeconds: 5 })),
          service.run(request("b", waitFor("b-started", "a-started"), { timeoutSeconds: 5 }))
        ],
        { concurrency: "unbounded" }
      )
      assert.strictEqual(a.status, "succeeded")
      assert.strictEqual(b.status, "succeeded")
      assert.strictEqual(a.logTail, "met\n")
      assert.strictEqual(b.logTail, "met\n")
    })
  )

  it.live("numbers runs on from the logs on disk after a restart", () =>
    Effect.gen(function* () {
      const home = realpathSync(yield* tempDir())
      const logsDir = join(home, "logs")
      const runOnce = Effect.scoped(
        Effect.gen(function* () {
          const context = yield* Layer.build(setupLayer(logsDir))
          return yield* Context.get(context, SetupScripts).run({
            threadId: thread("t1"),
            projectRoot: home,
            worktreePath: home,
            branch: null,
            script: "true",
            timeoutSeconds: 5
          })
        })
      )
      assert.strictEqual((yield* runOnce).run, 1)
      assert.strictEqual((yield* runOnce).run, 2)
      const missing = yield* Effect.flip(
        Effect.scoped(
          Effect.flatMap(Layer.build(setupLayer(logsDir)), (context) =>
            Context.get(context, SetupScripts).readLog(thread("t1"), 9)
          )
        )
      )
      assert.strictEqual(missing.reason, "not-found")
    })
  )
})
