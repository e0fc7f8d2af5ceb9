import { readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import { sawLine, setupFixture, thread, waitForGo } from "../testing/setup.ts"
import { TAIL_BYTES } from "./outputLog.ts"

describe("SetupScripts output", () => {
  it.live("caps a runaway log on disk, keeps draining, and keeps the tail bounded", () =>
    Effect.gen(function* () {
      const cap = 1024 * 1024
      const { service, request } = yield* setupFixture({ maxLogBytes: cap })
      const result = yield* service.run(
        request("t1", "head -c 52428800 /dev/zero | tr '\\0' 'x' | fold -w 100; echo; echo finished", {
          timeoutSeconds: 25
        })
      )
      assert.strictEqual(result.status, "succeeded")
      assert.isNotNull(result.logPath)
      const logPath = result.logPath ?? ""
      assert.isAtMost(statSync(logPath).size, cap)
      const log = readFileSync(logPath, "utf8")
      assert.isTrue(log.startsWith(`${"x".repeat(100)}\n`))
      assert.match(log, /Output truncated: the setup log reached its 1 MiB cap/)
      assert.notInclude(log, "finished")
      assert.isAtMost(Buffer.byteLength(result.logTail), TAIL_BYTES)
      assert.isTrue(result.logTail.endsWith(`${"x".repeat(100)}\nfinished\n`))
    })
  )

  it.live("streams live lines in order with their stream, ending with the run", () =>
    Effect.gen(function* () {
      const { service, request } = yield* setupFixture()
      const collected = yield* Effect.forkChild(Stream.runCollect(service.lines(thread("t1"))), {
        startImmediately: true
      })
      const script = Array.from({ length: 200 }, (_, i) => `echo out${i}; echo err${i} >&2`).join("; ")
      const result = yield* service.run(request("t1", script))
      const lines = yield* Fiber.join(collected)
      const of = (stream: string) => lines.filter((line) => line.stream === stream).map((line) => line.line)
      assert.deepStrictEqual(
        of("stdout"),
        Array.from({ length: 200 }, (_, i) => `out${i}`)
      )
      assert.deepStrictEqual(
        of("stderr"),
        Array.from({ length: 200 }, (_, i) => `err${i}`)
      )
      assert.isTrue(lines.every((line) => line.run === result.run))
    })
  )

  it.live("follow hands over the log so far, then every later line exactly once", () =>
    Effect.gen(function* () {
      const { service, worktree, request } = yield* setupFixture()
      const script = `echo one; echo two; ${waitForGo}; echo three; echo four`
      const first = yield* service.follow(thread("t1"))
      assert.strictEqual(first.run, null)
      const running = yield* Effect.forkChild(service.run(request("t1", script)))
      assert.isTrue(yield* sawLine(first.lines, "two"))
      const later = yield* service.follow(thread("t1"))
      assert.strictEqual(later.run, 1)
      assert.strictEqual(later.logSoFar, "one\ntwo\n")
      writeFileSync(join(worktree, "go"), "")
      const rest = yield* Stream.runCollect(later.lines)
      assert.deepStrictEqual(
        rest.map((line) => line.line),
        ["three", "four"]
      )
      assert.strictEqual((yield* Fiber.join(running)).status, "succeeded")
      assert.strictEqual(yield* service.readLog(thread("t1"), 1), "one\ntwo\nthree\nfour\n")
    })
  )
})
