// What a repository or an agent wrote reaches a person's terminal as text, never as a command to
// it: the real bin against a real server, with file names, file contents and setup output holding
// ESC/BEL sequences, C1 and bidi controls. Human output shows them as \uXXXX escapes; --json
// output stays exact JSON (the same strings once parsed) without a raw control character either.
import { writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { commitFile, gitRepo } from "../testing/fixtures.ts"
import { inProcessServer } from "../testing/inProcessServer.ts"
import { runProcess } from "../testing/serverProcess.ts"

const BIN = resolve(import.meta.dirname, "../../bin/spindle.mjs")
const spindle = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  runProcess(process.execPath, [BIN, ...args], { env, timeout: "60 seconds" })

/** Retitles the terminal (OSC 0 ... BEL), the way a hostile file name would. */
const UNTRACKED = "a\u001b]0;pwned\u0007b"
/** Clears the screen, then a one-character CSI (C1) and a right-to-left override. */
const COMMITTED = "c\u001b[2J\u009b31m\u202egnp.exe"
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u

/** The raw control characters in `text`, as code points (none is the pass). */
const rawControls = (text: string) =>
  [...text.matchAll(new RegExp(RAW.source, "gu"))].map((m) => `U+${m[0].codePointAt(0)!.toString(16)}`)

describe("spindle CLI output is safe for a terminal", () => {
  it.live(
    "thread show, worktrees, diff, logs and follow print escape sequences from a repository as text",
    () =>
      Effect.gen(function* () {
        const server = yield* inProcessServer()
        const repo = yield* gitRepo
        const env = { SPINDLE_HOME: server.home }
        const added = yield* spindle(
          ["project", "add", repo, "--id", "demo", "--setup-script", "printf 'set\\033[2Jup\\007\\n'"],
          env
        )
        assert.strictEqual(added.code, 0, added.stderr)
        const started = yield* spindle(
          ["thread", "start", "--project", "demo", "--prompt", "x", "--thread-id", "t1", "--follow"],
          env
        )
        assert.strictEqual(started.code, 0, started.stderr)
        assert.deepStrictEqual(rawControls(started.stdout), [], "thread start --follow (setup output)")
        assert.include(started.stdout, "│ set\\u001b[2Jup\\u0007")
        const worktree = (yield* spindle(["thread", "path", "t1"], env)).stdout.trim()

        // What the agent leaves in its worktree: a committed file and an untracked one.
        commitFile(worktree, COMMITTED, "line \u001b]0;pwned\u0007\n")
        writeFileSync(join(worktree, UNTRACKED), "x\n")

        const show = yield* spindle(["thread", "show", "t1"], env)
        assert.strictEqual(show.code, 0, show.stderr)
        assert.deepStrictEqual(rawControls(show.stdout), [], "thread show")
        assert.include(show.stdout, "? a\\u001b]0;pwned\\u0007b")
        assert.include(show.stdout, "M c\\u001b[2J\\u009b31m\\u202egnp.exe")

        const worktrees = yield* spindle(["worktrees"], env)
        assert.strictEqual(worktrees.code, 0, worktrees.stderr)
        assert.deepStrictEqual(rawControls(worktrees.stdout), [], "worktrees")
        assert.include(worktrees.stdout, "a\\u001b]0;pwned\\u0007b")

        const diff = yield* spindle(["thread", "diff", "t1"], env)
        assert.strictEqual(diff.code, 0, diff.stderr)
        assert.deepStrictEqual(rawControls(diff.stdout), [], "thread diff")
        assert.include(diff.stdout, "+line \\u001b]0;pwned\\u0007")

        const logs = yield* spindle(["thread", "logs", "t1"], env)
        assert.deepStrictEqual(rawControls(logs.stdout), [], "thread logs")
        assert.strictEqual(logs.stdout, "set\\u001b[2Jup\\u0007\n")

        // JSON: no raw control character either (C1 and bidi included, which JSON.stringify
        // leaves as they are), and the very same strings once parsed.
        const json = yield* spindle(["--json", "worktrees"], env)
        assert.strictEqual(json.code, 0, json.stderr)
        assert.deepStrictEqual(rawControls(json.stdout), [], "worktrees --json")
        const details = (JSON.parse(json.stdout) as Array<{ details: Array<string> }>).flatMap(
          (e) => e.details
        )
        assert.isTrue(
          details.some((d) => d.includes(UNTRACKED)),
          JSON.stringify(details)
        )
        const jsonDiff = yield* spindle(["--json", "thread", "diff", "t1"], env)
        assert.deepStrictEqual(rawControls(jsonDiff.stdout), [], "thread diff --json")
        assert.include(
          (JSON.parse(jsonDiff.stdout) as { patch: string }).patch,
          "+line \u001b]0;pwned\u0007\n"
        )
      }),
    120_000
  )

  it.live(
    "a title with a bidi control is refused (validation); a default title from the prompt drops them",
    () =>
      Effect.gen(function* () {
        const server = yield* inProcessServer()
        const repo = yield* gitRepo
        const env = { SPINDLE_HOME: server.home }
        assert.strictEqual((yield* spindle(["project", "add", repo, "--id", "demo"], env)).code, 0)
        const start = (extra: ReadonlyArray<string>) =>
          spindle(
            ["--json", "thread", "start", "--project", "demo", "--mode", "current_checkout", ...extra],
            env
          )
        const refused = yield* start([
          "--prompt",
          "x",
          "--title",
          "invoice \u202egnp.exe",
          "--thread-id",
          "t1"
        ])
        // A bad --title is bad usage (exit 2), said with the flag's name.
        assert.strictEqual(refused.code, 2, refused.stderr)
        const error = (JSON.parse(refused.stdout) as { error: { reason: string; message: string } }).error
        assert.strictEqual(error.reason, "validation")
        assert.include(error.message, "--title")
        assert.include(error.message, "bidirectional controls")
        assert.strictEqual((yield* spindle(["thread", "list", "--json"], env)).stdout.trim(), "[]")

        const started = yield* start([
          "--prompt",
          "fix \u202ethe\u202c login\u200f page",
          "--thread-id",
          "t2"
        ])
        assert.strictEqual(started.code, 0, started.stderr)
        assert.strictEqual((JSON.parse(started.stdout) as { title: string }).title, "fix the login page")
      }),
    120_000
  )
})
