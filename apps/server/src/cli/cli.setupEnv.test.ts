// `spindle project add/update --setup-env NAME=VALUE` through the real bin against a real server.
import { resolve } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { gitRepo } from "../testing/fixtures.ts"
import { inProcessServer } from "../testing/inProcessServer.ts"
import { runProcess } from "../testing/serverProcess.ts"

const BIN = resolve(import.meta.dirname, "../../bin/spindle.mjs")

const spindle = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  runProcess(process.execPath, [BIN, ...args], { env })

const setupEnvOf = (stdout: string) =>
  (JSON.parse(stdout) as Array<{ id: string; setupEnv: Record<string, string> }>).find((p) => p.id === "demo")
    ?.setupEnv

describe("spindle project --setup-env", () => {
  it.live(
    "sets, replaces and clears a project's setup variables; refuses bad ones",
    () =>
      Effect.gen(function* () {
        const server = yield* inProcessServer()
        const repo = yield* gitRepo
        const env = { SPINDLE_HOME: server.home }
        const added = yield* spindle(
          [
            "project",
            "add",
            repo,
            "--id",
            "demo",
            "--setup-env",
            "REGISTRY=http://127.0.0.1:1/",
            "--setup-env",
            "EMPTY="
          ],
          env
        )
        assert.strictEqual(added.code, 0, added.stderr)
        assert.include(added.stdout, "setup env: REGISTRY, EMPTY")
        const list = () => spindle(["project", "list", "--json"], env)
        assert.deepStrictEqual(setupEnvOf((yield* list()).stdout), {
          REGISTRY: "http://127.0.0.1:1/",
          EMPTY: ""
        })

        const replaced = yield* spindle(["project", "update", "demo", "--setup-env", "A=b=c"], env)
        assert.strictEqual(replaced.code, 0, replaced.stderr)
        assert.deepStrictEqual(setupEnvOf((yield* list()).stdout), { A: "b=c" })

        const refused = yield* spindle(["project", "update", "demo", "--setup-env", "1BAD=x"], env)
        assert.notStrictEqual(refused.code, 0)
        assert.include(refused.stderr, "setup variable names")
        const reserved = yield* spindle(
          ["project", "update", "demo", "--setup-env", "SPINDLE_THREAD_ID=x"],
          env
        )
        assert.notStrictEqual(reserved.code, 0)
        assert.include(reserved.stderr, "Spindle sets")
        const malformed = yield* spindle(["project", "update", "demo", "--setup-env", "novalue"], env)
        assert.notStrictEqual(malformed.code, 0)
        assert.include(malformed.stderr, "NAME=VALUE")
        assert.deepStrictEqual(setupEnvOf((yield* list()).stdout), { A: "b=c" })

        const cleared = yield* spindle(["project", "update", "demo", "--clear-setup-env"], env)
        assert.strictEqual(cleared.code, 0, cleared.stderr)
        assert.deepStrictEqual(setupEnvOf((yield* list()).stdout), {})
      }),
    90_000
  )
})
