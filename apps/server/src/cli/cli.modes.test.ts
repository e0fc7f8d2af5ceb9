// What the CLI says about what an agent may do: `thread start` prints its thread's mode (and the
// project's default decides it), `project add|update --default-runtime-mode` sets the default,
// `project show` shows it, and `--help` says what each mode lets the agent do. The real bin against
// a real server.
import { resolve } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { gitRepo } from "../testing/fixtures.ts"
import { inProcessServer } from "../testing/inProcessServer.ts"
import { runProcess } from "../testing/serverProcess.ts"

const BIN = resolve(import.meta.dirname, "../../bin/spindle.mjs")

const spindle = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  runProcess(process.execPath, [BIN, ...args], { env })

const start = (threadId: string, ...extra: Array<string>) => [
  "thread",
  "start",
  "--project",
  "demo",
  "--prompt",
  "go",
  "--thread-id",
  threadId,
  "--no-setup",
  ...extra
]

describe("spindle and runtime modes", () => {
  it.live(
    "a new project's threads start sandboxed and thread start says so; --default-runtime-mode and --runtime-mode change it",
    () =>
      Effect.gen(function* () {
        const server = yield* inProcessServer()
        const repo = yield* gitRepo
        const env = { SPINDLE_HOME: server.home }
        const added = yield* spindle(["project", "add", repo, "--id", "demo"], env)
        assert.strictEqual(added.code, 0, added.stderr)
        assert.include(added.stdout, "threads start sandboxed: runs commands freely in a sandbox")

        const sandboxed = yield* spindle(start("t1"), env)
        assert.strictEqual(sandboxed.code, 0, sandboxed.stderr)
        assert.include(
          sandboxed.stdout,
          "  agent sandboxed: runs commands freely in a sandbox that writes only its worktree and temp dirs, with no network"
        )
        const json = yield* spindle(["--json", ...start("t2")], env)
        assert.strictEqual(JSON.parse(json.stdout).runtimeMode, "sandboxed")

        const updated = yield* spindle(
          ["project", "update", "demo", "--default-runtime-mode", "approval-required"],
          env
        )
        assert.strictEqual(updated.code, 0, updated.stderr)
        const shown = yield* spindle(["project", "show", "demo"], env)
        assert.include(shown.stdout, "threads start approval-required: asks before each command")
        const careful = yield* spindle(start("t3"), env)
        assert.include(
          careful.stdout,
          "  agent approval-required: asks before each command and each file edit"
        )

        const free = yield* spindle(start("t4", "--runtime-mode", "full-access", "--follow"), env)
        assert.strictEqual(free.code, 0, free.stderr)
        assert.include(free.stdout, "✓ thread t4 (full-access): turn requested")

        const bad = yield* spindle(["project", "update", "demo", "--default-runtime-mode", "yolo"], env)
        assert.strictEqual(bad.code, 2)
        assert.include(bad.stderr, "sandboxed")
      }),
    60_000
  )

  it.live("--help says what each mode lets the agent do", () =>
    Effect.gen(function* () {
      for (const args of [
        ["thread", "start", "--help"],
        ["project", "add", "--help"]
      ]) {
        const help = (yield* spindle(args, {})).stdout
        for (const mode of [
          "approval-required: asks before each command and each file edit",
          "auto-accept-edits: edits files freely, asks before each command",
          "sandboxed: runs commands freely in a sandbox that writes only its worktree and temp dirs, with no network; asks to step outside",
          "full-access: runs anything as you, anywhere, with the network; never asks",
          "The command provider has no sandbox and no approvals"
        ])
          assert.include(help, mode, args.join(" "))
      }
    })
  )
})
