import { realpathSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import { tempDir } from "../testing/fixtures.ts"
import {
  isAlive,
  readPid,
  sawLine,
  setupFixture,
  setupLayer,
  stubbornChild,
  thread
} from "../testing/setup.ts"
import { SetupScripts } from "./SetupScripts.ts"

describe("SetupScripts stopping", () => {
  it.live("on timeout kills the whole group, including a child that ignores SIGTERM", () =>
    Effect.gen(function* () {
      const { service, worktree, request } = yield* setupFixture({ killGrace: "300 millis" })
      const result = yield* service.run(request("t1", stubbornChild, { timeoutSeconds: 1 }))
      assert.strictEqual(result.status, "timed-out")
      assert.strictEqual(result.exitCode, null)
      assert.strictEqual(result.signal, "SIGTERM")
      assert.strictEqual(result.logTail, "started\n")
      const pid = readPid(worktree)
      assert.isAbove(pid, 0)
      assert.isFalse(isAlive(pid))
    })
  )

  it.live("cancel stops the run and its process group and reports cancelled", () =>
    Effect.gen(function* () {
      const { service, worktree, request } = yield* setupFixture()
      const { lines } = yield* service.follow(thread("t1"))
      const running = yield* Effect.forkChild(service.run(request("t1", stubbornChild)))
      assert.isTrue(yield* sawLine(lines, "started"))
      assert.isTrue(yield* service.cancel(thread("t1")))
      const result = yield* Fiber.join(running)
      assert.strictEqual(result.status, "cancelled")
      assert.strictEqual(result.signal, "SIGTERM")
      assert.isFalse(isAlive(readPid(worktree)))
      assert.isFalse(yield* service.cancel(thread("t1")))
    })
  )

  it.live("interrupting the only caller stops the run and its process group", () =>
    Effect.gen(function* () {
      const { service, worktree, request } = yield* setupFixture()
      const { lines } = yield* service.follow(thread("t1"))
      const running = yield* Effect.forkChild(service.run(request("t1", stubbornChild)))
      assert.isTrue(yield* sawLine(lines, "started"))
      const pid = readPid(worktree)
      assert.isTrue(isAlive(pid))
      yield* Fiber.interrupt(running)
      assert.isFalse(isAlive(pid))
      assert.isFalse(yield* service.cancel(thread("t1")))
    })
  )

  it.live("shutting the service down stops running scripts", () =>
    Effect.gen(function* () {
      const home = realpathSync(yield* tempDir())
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(setupLayer(join(home, "logs")), scope)
      const service = Context.get(context, SetupScripts)
      const { lines } = yield* service.follow(thread("t1"))
      const running = yield* Effect.forkChild(
        service.run({
          threadId: thread("t1"),
          projectRoot: home,
          worktreePath: home,
          branch: null,
          script: stubbornChild,
          timeoutSeconds: 30
        })
      )
      assert.isTrue(yield* sawLine(lines, "started"))
      yield* Scope.close(scope, Exit.void)
      assert.isTrue(Exit.hasInterrupts(yield* Fiber.await(running)))
      assert.isFalse(isAlive(readPid(home)))
      const late = yield* Effect.flip(
        service.run({
          threadId: thread("t2"),
          projectRoot: home,
          worktreePath: home,
          branch: null,
          script: "true",
          timeoutSeconds: 5
        })
      )
      assert.strictEqual(late.reason, "unavailable")
    })
  )

  it.live("ends a background child that keeps the output open after the script exits", () =>
    Effect.gen(function* () {
      const { service, worktree, request } = yield* setupFixture()
      // Without the group kill after the grace, the run would wait for `sleep` and time out.
      const result = yield* service.run(
        request("t1", 'sleep 60 & echo $! > "$SPINDLE_WORKTREE_PATH/pid"; echo bye', { timeoutSeconds: 20 })
      )
      assert.strictEqual(result.status, "succeeded")
      assert.strictEqual(result.logTail, "bye\n")
      assert.isFalse(isAlive(readPid(worktree)))
    })
  )
})
