// `spindle project update --git-hooks on|off` through the real bin against a real server.
import { resolve } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { gitRepo } from "../testing/fixtures.ts"
import { inProcessServer } from "../testing/inProcessServer.ts"
import { runProcess } from "../testing/serverProcess.ts"

const BIN = resolve(import.meta.dirname, "../../bin/spindle.mjs")

const spindle = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  runProcess(process.execPath, [BIN, ...args], { env })

describe("spindle project --git-hooks", () => {
  it.live(
    "keeps repository hooks off until the user turns them on, and shows who did",
    () =>
      Effect.gen(function* () {
        const server = yield* inProcessServer()
        const repo = yield* gitRepo
        const env = { SPINDLE_HOME: server.home }
        const added = yield* spindle(["project", "add", repo, "--id", "demo"], env)
        assert.strictEqual(added.code, 0, added.stderr)
        assert.include(added.stdout, "git hooks off")

        const on = yield* spindle(["project", "update", "demo", "--git-hooks", "on"], env)
        assert.strictEqual(on.code, 0, on.stderr)
        const shown = yield* spindle(["project", "show", "demo"], env)
        assert.match(shown.stdout, /git hooks on .* set by client token \S+ at \d{4}-/)

        const bad = yield* spindle(["project", "update", "demo", "--git-hooks", "yes"], env)
        assert.notStrictEqual(bad.code, 0)
        const off = yield* spindle(["project", "update", "demo", "--git-hooks", "off"], env)
        assert.strictEqual(off.code, 0, off.stderr)
        assert.include(off.stdout, "git hooks off")
      }),
    90_000
  )
})
