// Installed like a tool: `npm install -g --prefix <tmp> <checkout>/apps/server` (what `npm link`
// does) puts a `spindle` on PATH that works from another directory, also when the first node on
// PATH is older than Spindle needs (it re-runs itself on the checkout's pinned Node).
import { execFileSync } from "node:child_process"
import { existsSync } from "node:fs"
import { join, resolve } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { tempDir } from "../testing/fixtures.ts"
import { runProcess } from "../testing/serverProcess.ts"

const SERVER_PACKAGE = resolve(import.meta.dirname, "../..")
const SYSTEM_NODE = "/usr/bin/node"

const versionOf = (node: string) => {
  try {
    return execFileSync(node, ["--version"], { encoding: "utf8" }).trim()
  } catch {
    return undefined
  }
}

describe("spindle installed on PATH", () => {
  it.live(
    "npm install -g --prefix puts a working spindle on PATH, run from elsewhere with an old Node first",
    () =>
      Effect.gen(function* () {
        const prefix = yield* tempDir("spindle-prefix-")
        const elsewhere = yield* tempDir("spindle-cwd-")
        const home = yield* tempDir("spindle-home-")
        const npm = yield* runProcess("npm", ["install", "-g", "--prefix", prefix, SERVER_PACKAGE], {
          timeout: "120 seconds"
        })
        assert.strictEqual(npm.code, 0, npm.output)
        const bin = join(prefix, "bin", "spindle")
        assert.isTrue(existsSync(bin))
        // Node 20 first (when the system has it): the bin must re-run itself on the pinned Node.
        const path = [join(prefix, "bin"), existsSync(SYSTEM_NODE) ? "/usr/bin" : "", "/bin"]
          .filter((dir) => dir !== "")
          .join(":")
        const systemNode = versionOf(SYSTEM_NODE)
        const run = (args: ReadonlyArray<string>) =>
          runProcess("/bin/sh", ["-c", `cd "${elsewhere}" && exec spindle "$@"`, "sh", ...args], {
            env: { PATH: path, SPINDLE_HOME: home, SPINDLE_URL: "", SPINDLE_TOKEN: "" }
          })
        const version = yield* run(["--version"])
        assert.strictEqual(version.code, 0, `${systemNode}: ${version.stderr}`)
        assert.strictEqual(version.stdout, "spindle 0.1.0\n")
        const help = yield* run(["thread", "list", "--help"])
        assert.strictEqual(help.code, 0, help.stderr)
        assert.include(help.stdout, "spindle thread list")
        // Exit codes pass through the re-run: no server in that home is 3.
        const none = yield* run(["status"])
        assert.strictEqual(none.code, 3, none.stderr)
        assert.include(none.stderr, "spindle serve")
        const usage = yield* run(["thread", "lst"])
        assert.strictEqual(usage.code, 2)
      }),
    180_000
  )
})
