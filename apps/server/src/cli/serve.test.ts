import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { tempDir } from "../testing/fixtures.ts"
import { getJson } from "../testing/http.ts"
import { runProcess, startNpm, startServer } from "../testing/serverProcess.ts"

const BIN = join(import.meta.dirname, "../../bin/spindle.mjs")
const spindle = (args: ReadonlyArray<string>) => runProcess(process.execPath, [BIN, ...args])

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

  it.live("npm start: SIGTERM to npm stops the server too, and Ctrl-C (SIGINT to the group) exits 0", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir()
      for (const [how, signal] of [
        ["npm alone", "SIGTERM"],
        ["the terminal's group", "SIGINT"]
      ] as const) {
        const home = join(dir, how.replaceAll(" ", "-"))
        const server = yield* startServer(home)
        const { pid } = JSON.parse(readFileSync(join(home, "server.json"), "utf8")) as { pid: number }
        if (how === "npm alone") server.child.kill(signal)
        else server.terminate(signal)
        assert.strictEqual(yield* waitExit(server.exited), 0, `${how}: ${server.output()}`)
        yield* Effect.promise(() => new Promise((r) => setTimeout(r, 200)))
        assert.throws(() => process.kill(pid, 0), /ESRCH/, `${how}: the server (pid ${pid}) was left behind`)
        assert.isFalse(existsSync(join(home, "server.json")), how)
      }
    })
  )

  // npm writes its "> spindle@… spindle" banner to stdout before any script runs (only its --silent
  // removes it), so the README names the two ways that print the command's output alone.
  it.live(
    "npx spindle … --json and npm run -s spindle -- … --json print JSON and nothing else on stdout",
    () =>
      Effect.gen(function* () {
        // No server in an empty home: the answer is an error, as JSON, exit 3.
        const home = yield* tempDir()
        for (const args of [
          ["spindle", "project", "list", "--json"],
          ["run", "-s", "spindle", "--", "project", "list", "--json"]
        ]) {
          const ran = yield* runProcess(args[0] === "spindle" ? "npx" : "npm", args, {
            env: { SPINDLE_HOME: home }
          })
          assert.strictEqual(ran.code, 3, ran.stderr)
          let parsed: { error?: { reason?: string } } = {}
          try {
            parsed = JSON.parse(ran.stdout)
          } catch {
            assert.fail(`not JSON from ${args.join(" ")}:\n${ran.stdout}`)
          }
          assert.strictEqual(parsed.error?.reason, "no-server")
        }
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

  it.live(
    "reads <home>/config.json: its settings apply, a flag wins over it, a bad key is named (exit 2)",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir()
        const home = join(dir, "home")
        mkdirSync(home, { mode: 0o700 })
        writeFileSync(join(home, "config.json"), JSON.stringify({ logFormat: "json", providers: "off" }))
        const fromFile = yield* startServer(home)
        assert.isTrue(
          fromFile
            .output()
            .split("\n")
            .some((line) => line.startsWith("{") && line.includes("ready on"))
        )
        fromFile.terminate()
        yield* waitExit(fromFile.exited)
        const flagWins = yield* startServer(home, ["--log-format", "pretty"])
        assert.isFalse(
          flagWins
            .output()
            .split("\n")
            .some((line) => line.startsWith("{"))
        )
        flagWins.terminate()
        yield* waitExit(flagWins.exited)

        for (const [config, named] of [
          [{ prot: 5757 }, "'prot'"],
          [{ port: "abc" }, "'port'"],
          [{ logLevel: "loud" }, "'logLevel'"],
          [{ threadPorts: "1-2" }, "config.json key 'threadPorts'"]
        ] as const) {
          writeFileSync(join(home, "config.json"), JSON.stringify(config))
          const bad = yield* spindle(["serve", "--home", home, "--port", "0"])
          assert.strictEqual(bad.code, 2, bad.output)
          assert.include(bad.stderr, named)
          assert.include(bad.stderr, "config.json")
        }
        writeFileSync(join(home, "config.json"), "{ not json")
        const broken = yield* spindle(["serve", "--home", home, "--port", "0"])
        assert.strictEqual(broken.code, 2)
        assert.include(broken.stderr, "not valid JSON")
      })
  )

  it.live(
    "spindle status reports the running server; spindle stop stops it (exit 0) and status then says none",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir()
        const home = join(dir, "home")
        const server = yield* startServer(home)
        const status = yield* spindle(["status", "--home", home, "--json"])
        assert.strictEqual(status.code, 0, status.stderr)
        const info = JSON.parse(status.stdout)
        assert.strictEqual(info.url, server.url)
        assert.strictEqual(info.version, "0.1.0")
        assert.isNumber(info.pid)
        assert.isAtLeast(info.uptimeMs, 0)
        assert.deepStrictEqual(info.threads, { total: 0, byState: {} })
        // Its store and host (the embedded store, the id kept in the home).
        assert.strictEqual(info.store, "sqlite")
        assert.strictEqual(info.host.id, readFileSync(join(home, "host-id"), "utf8").trim())
        const stopped = yield* spindle(["--home", home, "stop"])
        assert.strictEqual(stopped.code, 0, stopped.stderr)
        assert.include(stopped.stdout, `pid ${info.pid}`)
        assert.strictEqual(yield* waitExit(server.exited), 0)
        assert.isFalse(existsSync(join(home, "server.json")))
        const after = yield* spindle(["status", "--home", home])
        assert.strictEqual(after.code, 3)
        assert.include(after.stderr, "no server is running")
      })
  )
})
