// Malformed thread and project ids are bad usage, found before connecting: the real bin with no
// server at all exits 2 naming the argument or flag and what an id looks like, for every command
// that takes one, with no stack trace (it used to die in the RPC client: "Schema validation
// failed", reason internal).
import { resolve } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { tempHome } from "../testing/fixtures.ts"
import { runProcess } from "../testing/serverProcess.ts"

const BIN = resolve(import.meta.dirname, "../../bin/spindle.mjs")
const BAD = "../../etc"
const spindle = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  runProcess(process.execPath, [BIN, ...args], { env, timeout: "90 seconds" })

/** Each command line with a malformed id, and the argument or flag its message must name. */
const CASES: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
  ...[
    "show",
    "path",
    "open",
    "logs",
    "follow",
    "diff",
    "children",
    "stop",
    "interrupt",
    "approve",
    "decline",
    "archive",
    "unarchive",
    "delete"
  ].map((command) => [["thread", command, BAD], "<thread>"] as const),
  [["thread", "send", BAD, "--prompt", "x"], "<thread>"],
  [["thread", "wait", "t-ok", BAD], "<thread>"],
  [["thread", "start", "--project", BAD, "--prompt", "x"], "--project"],
  [["thread", "start", "--project", "demo", "--prompt", "x", "--thread-id", BAD], "--thread-id"],
  [["thread", "list", "--project", BAD], "--project"],
  [["thread", "list", "--parent", "a b"], "--parent"],
  [["setup", "rerun", BAD], "<thread>"],
  [["token", "issue-mcp", "--thread", BAD], "--thread"],
  [["project", "show", BAD], "<project>"],
  [["project", "update", "x.y", "--pool-size", "1"], "<project>"],
  [["project", "remove", BAD], "<project>"],
  [["project", "add", ".", "--id", "my project"], "--id"],
  [["worktrees", "--project", BAD], "--project"]
]

describe("spindle CLI ids (no server)", () => {
  it.live(
    "a malformed thread or project id exits 2 naming the argument, without connecting or a stack trace",
    () =>
      Effect.gen(function* () {
        // No server.json, no URL, no token: a command that tried to connect would exit 3.
        const env = { SPINDLE_HOME: yield* tempHome, SPINDLE_URL: "", SPINDLE_TOKEN: "" }
        const runs = yield* Effect.forEach(
          CASES,
          ([args, names]) => Effect.map(spindle(args, env), (run) => ({ args, names, run })),
          { concurrency: 2 }
        )
        for (const { args, names, run } of runs) {
          const label = args.join(" ")
          assert.strictEqual(run.code, 2, `${label}: ${run.stderr}`)
          assert.include(run.stderr, names, label)
          assert.include(run.stderr, "1-128 letters, digits, '-' or '_'", label)
          assert.notInclude(run.stderr, "    at ", label)
          assert.notInclude(run.stderr, "Schema validation failed", label)
          assert.strictEqual(run.stdout, "", label)
        }
        const json = yield* spindle(["--json", "thread", "show", BAD], env)
        assert.strictEqual(json.code, 2, json.stderr)
        const error = (JSON.parse(json.stdout) as { error: { reason: string; message: string } }).error
        assert.strictEqual(error.reason, "usage")
        assert.include(error.message, `<thread>: "${BAD}"`)
        assert.include(error.message, "spindle thread list")
        // The value is quoted back as text: an escape sequence in it reaches no terminal.
        const escaped = yield* spindle(["thread", "show", "\u001b]0;pwned\u0007"], env)
        assert.strictEqual(escaped.code, 2)
        assert.include(escaped.stderr, '"\\u001b]0;pwned\\u0007"')
        // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
        assert.notMatch(escaped.stderr, /[\u0007\u001b]/u)
      }),
    300_000
  )
})
