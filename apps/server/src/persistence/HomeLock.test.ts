import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { tempDir, tempHome } from "../testing/fixtures.ts"
import { getJson } from "../testing/http.ts"
import { startNpm, startServer } from "../testing/serverProcess.ts"
import { HomeLockError, holdHomeLock } from "./HomeLock.ts"

const waitExit = (exited: Promise<number | string>) =>
  Effect.promise(() => exited).pipe(Effect.timeout("30 seconds"))

const refusal = (home: string) =>
  Effect.flip(Effect.scoped(holdHomeLock(home))).pipe(
    Effect.map((error) => {
      assert.instanceOf(error, HomeLockError)
      return error
    })
  )

describe("HomeLock", () => {
  it.live("is exclusive while held and free again once released, naming the holder", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      const scope = yield* Scope.make()
      yield* holdHomeLock(home).pipe(Scope.provide(scope))
      const refused = yield* refusal(home)
      assert.strictEqual(refused.reason, "in-use")
      // The holder is this process (from the kernel's lock table); no server.json yet, so no url.
      assert.strictEqual(
        refused.message,
        `another Spindle (pid ${process.pid}, url unknown) is using ${home}. Stop it first, or pass another --home.`
      )
      // A server.json left by a dead server is stale: its url is not reported.
      writeFileSync(join(home, "server.json"), JSON.stringify({ pid: 2 ** 22 + 1, url: "http://stale" }))
      assert.include((yield* refusal(home)).message, "url unknown")
      yield* Scope.close(scope, Exit.void)
      yield* Effect.scoped(holdHomeLock(home))
    })
  )

  it.live("a second server on a home in use exits 1 and touches nothing; kill -9 frees the home", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir()
      const home = join(dir, "home")
      const first = yield* startServer(home)
      const info = readFileSync(join(home, "server.json"), "utf8")
      const pid = (JSON.parse(info) as { pid: number }).pid
      const filesBefore = readdirSync(home).sort()

      const second = startNpm(["start", "--", "--port", "0", "--home", home])
      assert.strictEqual(yield* waitExit(second.exited), 1)
      assert.include(second.stderr(), `another Spindle (pid ${pid}, url ${first.url}) is using ${home}`)
      assert.notInclude(second.output(), "Database migrated")
      assert.notInclude(second.output(), "ready on")
      assert.strictEqual(readFileSync(join(home, "server.json"), "utf8"), info)
      assert.deepStrictEqual(readdirSync(home).sort(), filesBefore)
      const health = yield* getJson(`${first.url}/health`)
      assert.strictEqual(health.status, 200)
      assert.strictEqual(health.body.status, "ready")

      // kill -9 leaves server.json behind, but the kernel drops the lock with the process.
      process.kill(pid, "SIGKILL")
      yield* waitExit(first.exited)
      const third = yield* startServer(home)
      const health3 = yield* getJson(`${third.url}/health`)
      assert.strictEqual(health3.body.status, "ready")
      assert.notStrictEqual(
        (JSON.parse(readFileSync(join(home, "server.json"), "utf8")) as { pid: number }).pid,
        pid
      )
    })
  )

  it.live("an unusable lock file fails with its path instead of starting", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      mkdirSync(join(home, "server.lock"))
      const refused = yield* refusal(home)
      assert.strictEqual(refused.reason, "unavailable")
      assert.include(refused.message, join(home, "server.lock"))
    })
  )
})
