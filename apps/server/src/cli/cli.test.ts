import { execFileSync } from "node:child_process"
import { resolve } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { closedPort } from "../testing/closedPort.ts"
import { gitRepo, tempDir, tempHome } from "../testing/fixtures.ts"
import { inProcessServer } from "../testing/inProcessServer.ts"
import { mcpClient } from "../testing/mcp.ts"
import { runProcess } from "../testing/serverProcess.ts"

const BIN = resolve(import.meta.dirname, "../../bin/spindle.mjs")

/** Runs the real `spindle` bin; answers its exit code and output. */
const spindle = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  runProcess(process.execPath, [BIN, ...args], { env })

describe("spindle CLI against a real server", () => {
  it.live("adds a project and starts a thread, following workspace, setup output in order and the turn", () =>
    Effect.gen(function* () {
      const server = yield* inProcessServer()
      const repo = yield* gitRepo
      const env = { SPINDLE_HOME: server.home }
      const added = yield* spindle(
        ["project", "add", repo, "--id", "demo", "--setup-script", "echo first; echo second; echo third"],
        env
      )
      assert.strictEqual(added.code, 0, added.stderr)
      assert.include(added.stdout, "Registered project demo")
      const started = yield* spindle(
        ["thread", "start", "--project", "demo", "--prompt", "do it", "--thread-id", "t1", "--follow"],
        env
      )
      assert.strictEqual(started.code, 0, started.stderr)
      const lines = started.stdout.split("\n")
      const at = (text: string) => lines.findIndex((line) => line.includes(text))
      assert.isAbove(at("workspace ready"), at("thread t1 created"))
      assert.isAbove(at("│ first"), at("setup run 1 started"))
      assert.isAbove(at("│ second"), at("│ first"))
      assert.isAbove(at("│ third"), at("│ second"))
      assert.isAbove(at("setup succeeded"), at("│ third"))
      assert.isAbove(at("turn requested"), at("setup succeeded"))

      const listed = yield* spindle(["thread", "list", "--json"], env)
      assert.strictEqual(listed.code, 0)
      const threads = JSON.parse(listed.stdout) as Array<{ id: string; setup: { status: string } }>
      assert.deepStrictEqual(
        threads.map((t) => [t.id, t.setup.status]),
        [["t1", "succeeded"]]
      )
      const shown = yield* spindle(["thread", "show", "t1", "--json"], env)
      assert.strictEqual(JSON.parse(shown.stdout).latestTurn.status, "requested")
      const logs = yield* spindle(["thread", "logs", "t1"], env)
      assert.strictEqual(logs.stdout, "first\nsecond\nthird\n")

      // An MCP token for an agent in that thread, which the MCP endpoint accepts.
      const issued = yield* spindle(["token", "issue-mcp", "--thread", "t1", "--json"], env)
      assert.strictEqual(issued.code, 0, issued.stderr)
      const mcp = JSON.parse(issued.stdout) as { token: string; mcpUrl: string; capabilities: Array<string> }
      assert.match(mcp.token, /^spn_/)
      assert.strictEqual(mcp.mcpUrl, `${server.url}/mcp`)
      assert.deepStrictEqual(mcp.capabilities, ["thread-management", "thread-read"])
      const client = yield* mcpClient(server.url, mcp.token)
      const { tools } = yield* Effect.promise(() => client.listTools())
      assert.include(
        tools.map((t) => t.name),
        "t3_thread_start"
      )
    })
  )

  it.live("project add on a repository with no commit says so at once and registers nothing", () =>
    Effect.gen(function* () {
      const server = yield* inProcessServer()
      const env = { SPINDLE_HOME: server.home }
      const empty = yield* tempDir("spindle-empty-repo-")
      execFileSync("git", ["init", "-q", empty])
      const added = yield* spindle(["project", "add", empty, "--id", "empty", "--json"], env)
      assert.strictEqual(added.code, 1, added.stderr)
      const error = JSON.parse(added.stdout).error
      assert.strictEqual(error.reason, "validation")
      assert.include(error.message, "has no commit yet")
      assert.include(error.message, "commit --allow-empty")
      const listed = yield* spindle(["project", "list", "--json"], env)
      assert.deepStrictEqual(JSON.parse(listed.stdout), [])
    })
  )

  it.live("exit codes: 1 for a failed operation, 2 for bad usage, 3 unreachable or unauthorized", () =>
    Effect.gen(function* () {
      const server = yield* inProcessServer()
      const repo = yield* gitRepo
      const env = { SPINDLE_HOME: server.home }
      yield* spindle(["project", "add", repo, "--id", "demo", "--setup-script", "echo broken; exit 3"], env)
      const failedSetup = yield* spindle(
        ["thread", "start", "--project", "demo", "--prompt", "x", "--follow"],
        env
      )
      assert.strictEqual(failedSetup.code, 1)
      assert.include(failedSetup.stdout, "│ broken")
      assert.include(failedSetup.stderr, "setup rerun")
      const missing = yield* spindle(["thread", "show", "nope", "--json"], env)
      assert.strictEqual(missing.code, 1)
      assert.strictEqual(JSON.parse(missing.stdout).error.reason, "not-found")
      const usage = yield* spindle(["thread", "start", "--project", "demo"], env)
      assert.strictEqual(usage.code, 2)
      assert.include(usage.stderr, "--prompt")
      const unknownFlag = yield* spindle(["project", "list", "--bogus"], env)
      assert.strictEqual(unknownFlag.code, 2)
      const badToken = yield* spindle(["project", "list", "--token", "spc_wrong"], env)
      assert.strictEqual(badToken.code, 3)
      assert.include(badToken.stderr, `the server at ${server.url} refused the token: `)
      assert.notInclude(badToken.stderr, "cannot reach")
      const nowhere = yield* spindle(["project", "list"], { SPINDLE_HOME: yield* tempHome })
      assert.strictEqual(nowhere.code, 3)
      assert.include(nowhere.stderr, "npm start")
      const port = yield* closedPort
      const nothingListening = yield* spindle(
        ["project", "list", "--json", "--url", `http://127.0.0.1:${port}`],
        env
      )
      assert.strictEqual(nothingListening.code, 3)
      assert.match(
        JSON.parse(nothingListening.stdout).error.message,
        /^no server at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/
      )
      // A read-only token may read but not operate: forbidden is an operation failure.
      const token = JSON.parse(
        (yield* spindle(["token", "create", "--name", "ro", "--scope", "read", "--json"], env)).stdout
      ).token as string
      const readOnly = { ...env, SPINDLE_TOKEN: token }
      assert.strictEqual((yield* spindle(["project", "list"], readOnly)).code, 0)
      const forbidden = yield* spindle(["thread", "start", "--project", "demo", "--prompt", "x"], readOnly)
      assert.strictEqual(forbidden.code, 1)
      assert.include(forbidden.stderr, "forbidden")
    })
  )
})
