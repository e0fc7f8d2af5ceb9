// The real `spindle` bin without a server: help and --version exit 0 for every command, mistyped
// commands and flags get a suggestion, and every usage mistake exits 2 before any connection
// (a listener at SPINDLE_URL counts the connections: there must be none).
import { createServer, type Socket } from "node:net"
import { resolve } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { tempHome } from "../testing/fixtures.ts"
import { runProcess } from "../testing/serverProcess.ts"

const BIN = resolve(import.meta.dirname, "../../bin/spindle.mjs")
const spindle = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  runProcess(process.execPath, [BIN, ...args], { env })

/** The subcommands a group's help lists (its SUBCOMMANDS section). */
const subcommandsIn = (help: string) => {
  const section = help.split("SUBCOMMANDS\n")[1] ?? ""
  return [...section.matchAll(/^ {2}([a-z][a-z-]*) {2,}/gm)].map((m) => m[1]!)
}

/** A loopback listener that counts who connects to it. */
const countingListener = Effect.acquireRelease(
  Effect.callback<{ url: string; connections: () => number; close: () => void }>((resume) => {
    let connections = 0
    const sockets: Array<Socket> = []
    const server = createServer((socket) => {
      connections++
      sockets.push(socket)
      socket.destroy()
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number }
      resume(
        Effect.succeed({
          url: `http://127.0.0.1:${port}`,
          connections: () => connections,
          close: () => {
            for (const s of sockets) s.destroy()
            server.close()
          }
        })
      )
    })
  }),
  (listener) => Effect.sync(() => listener.close())
)

describe("spindle CLI usage (no server)", () => {
  it.live(
    "--help exits 0 for every command, found by walking the groups' help; --version too",
    () =>
      Effect.gen(function* () {
        const paths: Array<Array<string>> = []
        const walk = (path: Array<string>): Effect.Effect<void> =>
          Effect.gen(function* () {
            const help = yield* spindle([...path, "--help"])
            assert.strictEqual(help.code, 0, `${path.join(" ")} --help: ${help.stderr}`)
            assert.include(help.stdout, `USAGE\n  spindle${path.map((p) => ` ${p}`).join("")}`)
            paths.push(path)
            yield* Effect.forEach(subcommandsIn(help.stdout), (sub) => walk([...path, sub]), {
              concurrency: 4
            })
          })
        yield* walk([])
        const names = paths.map((p) => p.join(" "))
        for (const expected of [
          "serve",
          "status",
          "stop",
          "project add",
          "project show",
          "project update",
          "project remove",
          "thread start",
          "thread list",
          "thread show",
          "thread path",
          "thread open",
          "thread follow",
          "thread wait",
          "setup rerun",
          "worktrees",
          "token issue-mcp",
          "completion"
        ]) {
          assert.include(names, expected)
        }
        assert.isAbove(paths.length, 35)
        // -h too, and help after global flags.
        assert.strictEqual((yield* spindle(["thread", "list", "-h"])).code, 0)
        assert.strictEqual((yield* spindle(["--json", "thread", "--help"])).code, 0)
        const root = yield* spindle(["--help"])
        assert.include(root.stdout, "2 bad usage")
        assert.include(root.stdout, "4 timed out")
        for (const args of [["--version"], ["-v"], ["thread", "list", "--version"]]) {
          const version = yield* spindle(args)
          assert.strictEqual(version.code, 0, version.stderr)
          assert.strictEqual(version.stdout, "spindle 0.1.0\n")
        }
      }),
    120_000
  )

  it.live("mistyped commands and flags get their suggestion, exit 2", () =>
    Effect.gen(function* () {
      for (const [args, suggestion] of [
        [["thred", "list"], "thread"],
        [["statsu"], "status"],
        [["thread", "lst"], "list"],
        [["thread", "strat"], "start"],
        [["project", "ad", "."], "add"],
        [["token", "revok", "x"], "revoke"],
        [["worktree"], "worktrees"],
        [["thread", "list", "--projct", "p"], "--project"],
        [["thread", "start", "--promt", "x"], "--prompt"]
      ] as const) {
        const run = yield* spindle(args)
        assert.strictEqual(run.code, 2, `${args.join(" ")}: ${run.stderr}`)
        assert.include(run.stderr, `Did you mean: ${suggestion}`, args.join(" "))
        assert.include(run.stderr, "--help' for its usage")
      }
    })
  )

  it.live(
    "every usage error exits 2, naming the flag and its allowed values, before connecting",
    () =>
      Effect.gen(function* () {
        const listener = yield* countingListener
        const home = yield* tempHome
        const env = { SPINDLE_URL: listener.url, SPINDLE_TOKEN: "spc_unused", SPINDLE_HOME: home }
        const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
          [["thread", "start", "--project", "p"], "--prompt"],
          [["thread", "start", "--project", "p", "--prompt", "x", "--mode", "bogus"], "existing_worktree"],
          [["thread", "start", "--project", "p", "--prompt", "x", "--provider", "gpt"], "command"],
          [["thread", "start", "--project", "p", "--prompt", "x", "--pr", "abc"], "--pr"],
          [["thread", "start", "--project", "p", "--prompt", "x", "--pr", "0"], "pull request number"],
          [
            ["thread", "start", "--project", "nope", "--prompt", "x", "--follow", "--runtime-mode", "yolo"],
            "full-access"
          ],
          [["thread", "list", "--state", "bogus"], "waiting-for-setup"],
          [["thread", "list", "--limit", "0"], "--limit"],
          [["thread", "show"], "thread"],
          [["thread", "show", "a", "b"], "Unexpected"],
          [["thread", "wait", "a", "--for", "bogus"], "needs-approval"],
          [["thread", "wait", "a", "--timeout", "99999"], "86400"],
          [["thread", "decline", "t", "r", "--for-session"], "--for-session"],
          [["project", "add", ".", "--setup-env", "NOEQUALS"], "NAME=VALUE"],
          [["project", "add", ".", "--agent-command", "[1]"], "array of strings"],
          [["project", "add", ".", "--codex-config", "nokey"], "KEY=VALUE"],
          [["project", "update", "p", "--remove-archived-after", "soon"], "never"],
          [["project", "update", "p", "--pool-size", "-3"], "--pool-size"],
          [["token", "create", "--scope", "root"], "operate"],
          [["token", "issue-mcp"], "--thread"],
          [["completion", "tcsh"], "fish"],
          [["serve", "--port", "nope"], "--port must be a number"],
          [["serve", "--providers", "maybe"], "on, off"]
        ]
        for (const [args, names] of cases) {
          const run = yield* spindle(args, env)
          assert.strictEqual(run.code, 2, `${args.join(" ")}: ${run.stderr}`)
          assert.include(run.stderr, names, args.join(" "))
          assert.strictEqual(run.stdout, "", args.join(" "))
        }
        const badUrl = yield* spindle(["thread", "list", "--url", "nonsense"], env)
        assert.strictEqual(badUrl.code, 2)
        assert.include(badUrl.stderr, "http://127.0.0.1:5757")
        // With --json, the error is JSON on stdout, with the same code.
        const json = yield* spindle(["--json", "thread", "list", "--state", "bogus"], env)
        assert.strictEqual(json.code, 2)
        const error = JSON.parse(json.stdout).error
        assert.strictEqual(error.reason, "usage")
        assert.include(error.message, "--state")
        assert.strictEqual(listener.connections(), 0)
      }),
    120_000
  )

  it.live("no server: exit 3 naming how to start one, also for status; stop says none runs", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      const env = { SPINDLE_HOME: home }
      const list = yield* spindle(["thread", "list"], env)
      assert.strictEqual(list.code, 3)
      assert.include(list.stderr, "spindle serve")
      const status = yield* spindle(["--json", "status"], env)
      assert.strictEqual(status.code, 3)
      assert.strictEqual(JSON.parse(status.stdout).error.reason, "no-server")
      assert.strictEqual((yield* spindle(["stop"], env)).code, 3)
    })
  )

  it.live("completion scripts load in bash and name the commands", () =>
    Effect.gen(function* () {
      const bash = yield* runProcess("bash", [
        "-c",
        `source <("${process.execPath}" "${BIN}" completion bash) && complete -p spindle`
      ])
      assert.strictEqual(bash.code, 0, bash.stderr)
      assert.include(bash.stdout, "spindle")
      for (const shell of ["zsh", "fish"]) {
        const script = yield* spindle(["completion", shell])
        assert.strictEqual(script.code, 0)
        assert.include(script.stdout, "thread")
        assert.include(script.stdout, "worktrees")
      }
    })
  )
})
