// `spindle project add`, `project show` and `project update --approve-setup`: the setup script's
// pinned blob and the default branch's commit as seen, through the real bin against a real server.
import { resolve } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { commitFile, git, gitRepo } from "../testing/fixtures.ts"
import { inProcessServer } from "../testing/inProcessServer.ts"
import { runProcess } from "../testing/serverProcess.ts"

const BIN = resolve(import.meta.dirname, "../../bin/spindle.mjs")

const spindle = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  runProcess(process.execPath, [BIN, ...args], { env })

interface Approval {
  readonly setupBlob: string | null
  readonly branchCommit: string | null
}

describe("spindle project --approve-setup", () => {
  it.live(
    "add pins the committed script; show prints the pin; update --approve-setup pins what main holds now",
    () =>
      Effect.gen(function* () {
        const server = yield* inProcessServer()
        const repo = yield* gitRepo
        commitFile(repo, ".spindle/setup.sh", "echo first\n")
        const env = { SPINDLE_HOME: server.home }
        const blobNow = () => git(repo, "rev-parse", "refs/heads/main:.spindle/setup.sh").trim()
        const commitNow = () => git(repo, "rev-parse", "refs/heads/main").trim()
        const first = blobNow()

        const added = yield* spindle(["project", "add", repo, "--id", "demo"], env)
        assert.strictEqual(added.code, 0, added.stderr)
        assert.include(added.stdout, `approved setup: blob ${first}`)

        // Someone commits another script on main: show still names the approved blob.
        commitFile(repo, ".spindle/setup.sh", "echo second\n")
        const shown = yield* spindle(["project", "show", "demo"], env)
        assert.strictEqual(shown.code, 0, shown.stderr)
        assert.include(shown.stdout, `approved setup: blob ${first}`)
        const json = yield* spindle(["project", "show", "demo", "--json"], env)
        const approval = (JSON.parse(json.stdout) as { setupApproval: Approval }).setupApproval
        assert.strictEqual(approval.setupBlob, first)
        assert.notStrictEqual(approval.branchCommit, commitNow())

        const approved = yield* spindle(["project", "update", "demo", "--approve-setup"], env)
        assert.strictEqual(approved.code, 0, approved.stderr)
        assert.include(approved.stdout, `approved setup: blob ${blobNow()}`)
        assert.include(approved.stdout, `branch seen at ${commitNow()}`)
        const after = (
          JSON.parse((yield* spindle(["project", "show", "demo", "--json"], env)).stdout) as {
            setupApproval: Approval
          }
        ).setupApproval
        assert.deepStrictEqual(
          { setupBlob: after.setupBlob, branchCommit: after.branchCommit },
          { setupBlob: blobNow(), branchCommit: commitNow() }
        )
      }),
    90_000
  )
})
