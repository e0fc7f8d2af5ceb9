import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { tempDir } from "../testing/fixtures.ts"
import { getJson } from "../testing/http.ts"
import { startNpm, startServer } from "../testing/serverProcess.ts"

const waitExit = (exited: Promise<number | string>) => Effect.promise(() => exited)

describe("spindle serve (real process through npm start)", () => {
  it.live("reaches ready, answers /health, and exits 0 when its process gets SIGTERM", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir()
      const home = join(dir, "home")
      const server = yield* startServer(home)
      const health = yield* getJson(`${server.url}/health`)
      assert.strictEqual(health.status, 200)
      assert.strictEqual(health.body.status, "ready")
      assert.strictEqual(health.body.version, "0.1.0")
      assert.strictEqual(statSync(home).mode & 0o777, 0o700)
      const info = JSON.parse(readFileSync(join(home, "server.json"), "utf8"))
      assert.strictEqual(info.url, server.url)
      // SIGTERM to the server's own process (the pid it wrote); npm passes its exit code through.
      process.kill(info.pid, "SIGTERM")
      assert.strictEqual(yield* waitExit(server.exited), 0)
      assert.include(server.output(), "Spindle stopped")
      assert.isFalse(existsSync(join(home, "server.json")))
      assert.isTrue(existsSync(join(home, "spindle.db")))
    })
  )

  it.live("writes one JSON object per log line with --log-format json", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir()
      const server = yield* startServer(join(dir, "home"), ["--log-format", "json"])
      const lines = server
        .output()
        .split("\n")
        .filter((line) => line.startsWith("{"))
      assert.isAtLeast(lines.length, 1)
      const entries = lines.map((line) => JSON.parse(line) as { message: unknown; level: string })
      assert.isTrue(entries.some((entry) => String(entry.message).includes("ready on")))
    })
  )

  it.live("exits 2 with a usage message for a bad flag", () =>
    Effect.gen(function* () {
      const started = startNpm(["start", "--", "--port", "not-a-port"])
      assert.strictEqual(yield* waitExit(started.exited), 2)
      assert.include(started.output(), "--port must be a number")
    })
  )

  it.live("exits 1 and leaves a corrupt database file untouched", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir()
      const home = join(dir, "home")
      mkdirSync(home, { mode: 0o700 })
      const junk = "not a database at all ".repeat(200)
      writeFileSync(join(home, "spindle.db"), junk)
      const started = startNpm(["start", "--", "--port", "0", "--home", home])
      assert.strictEqual(yield* waitExit(started.exited), 1)
      assert.include(started.output(), "Spindle does not overwrite it")
      assert.strictEqual(readFileSync(join(home, "spindle.db"), "utf8"), junk)
    })
  )

  it.live("exits 1 naming the fix when the port is taken", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir()
      const blocker = createServer()
      const port = yield* Effect.callback<number>((resume) => {
        blocker.listen(0, "127.0.0.1", () =>
          resume(Effect.succeed((blocker.address() as { port: number }).port))
        )
      })
      yield* Effect.addFinalizer(() => Effect.sync(() => blocker.close()))
      const started = startNpm(["start", "--", "--port", String(port), "--home", join(dir, "home")])
      assert.strictEqual(yield* waitExit(started.exited), 1)
      assert.include(started.output(), "--port 0")
    })
  )
})
