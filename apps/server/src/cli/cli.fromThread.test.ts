// `spindle thread start --from-thread <id> [--include-uncommitted]`, the real bin against a real
// server over the WebSocket: the new thread's branch starts at the named thread's HEAD (plus its
// uncommitted changes as one commit when asked), that thread's worktree stays byte for byte, and
// each refusal (flags that clash, a thread of another project, archived, without a worktree,
// unknown) names what was typed, exits as documented and changes nothing.
import { existsSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { Thread } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { commitFile, git, gitRepo } from "../testing/fixtures.ts"
import { inProcessServer } from "../testing/inProcessServer.ts"
import { eventsUntil } from "../testing/providers.ts"
import { runSpindle as spindle } from "../testing/serverProcess.ts"
import { worktreePrint } from "../testing/worktreePrint.ts"

const start = (project: string, threadId: string, ...extra: Array<string>) => [
  "thread",
  "start",
  "--project",
  project,
  "--prompt",
  "carry on",
  "--thread-id",
  threadId,
  ...extra
]

const state = (repo: string) => ({
  refs: git(repo, "for-each-ref", "--format=%(refname) %(objectname)"),
  worktrees: git(repo, "worktree", "list", "--porcelain"),
  objects: git(repo, "count-objects", "-v")
})

describe("spindle thread start --from-thread", () => {
  it.live(
    "starts from the thread's HEAD and uncommitted changes; refusals change nothing",
    () =>
      Effect.gen(function* () {
        const server = yield* inProcessServer()
        const repo = yield* gitRepo
        const elsewhere = yield* gitRepo
        commitFile(repo, ".gitignore", "*.log\n")
        const env = { SPINDLE_HOME: server.home }
        const run = (args: ReadonlyArray<string>) => spindle(args, env)
        for (const [path, id] of [
          [repo, "demo"],
          [elsewhere, "other"]
        ] as const) {
          const added = yield* run(["project", "add", path, "--id", id])
          assert.strictEqual(added.code, 0, added.stderr)
        }
        const threadOf = (result: { stdout: string }) => JSON.parse(result.stdout) as Thread

        // The thread to start from, at work: a commit, an edit, a new file, an ignored file.
        const parent = threadOf(yield* run(["--json", ...start("demo", "t-parent", "--no-setup")]))
        const wt = parent.workspace.worktreePath as string
        commitFile(wt, "committed.txt", "committed\n")
        writeFileSync(join(wt, "README.md"), "# edited, not committed\n")
        writeFileSync(join(wt, "untracked.txt"), "new\n")
        writeFileSync(join(wt, "debug.log"), "ignored\n")
        const head = git(wt, "rev-parse", "HEAD").trim()

        // Threads that cannot be started from: another project's, an archived one, one without a worktree.
        assert.strictEqual((yield* run(start("other", "t-other", "--no-setup"))).code, 0)
        assert.strictEqual((yield* run(start("demo", "t-archived", "--no-setup"))).code, 0)
        assert.strictEqual((yield* run(["thread", "archive", "t-archived"])).code, 0)
        const lock = join(repo, ".git", "refs", "heads", "locked.lock")
        writeFileSync(lock, "")
        assert.strictEqual(
          (yield* run(start("demo", "t-failed", "--no-setup", "--branch", "locked"))).code,
          1
        )
        rmSync(lock)
        const failed = threadOf(yield* run(["--json", "thread", "show", "t-failed"]))
        assert.isNull(failed.workspace.worktreePath)
        // A worktree swapped for a symlink to another (the parent's): git is not led there.
        const swapped = threadOf(yield* run(["--json", ...start("demo", "t-swapped", "--no-setup")]))
        const swappedPath = swapped.workspace.worktreePath as string
        renameSync(swappedPath, `${swappedPath}.moved`)
        symlinkSync(wt, swappedPath)

        const before = worktreePrint(wt)
        const repoBefore = state(repo)
        const threadCount = () =>
          Effect.map(
            run(["--json", "thread", "list"]),
            (r) => (JSON.parse(r.stdout) as Array<unknown>).length
          )
        const threads = yield* threadCount()
        const refusals: ReadonlyArray<[ReadonlyArray<string>, number, string]> = [
          [
            ["--include-uncommitted"],
            2,
            "--include-uncommitted applies only when starting from a thread's present (--from-thread)"
          ],
          [["--from-thread", "t-parent", "--base", "main"], 2, "--from-thread cannot be given with --base"],
          [["--from-thread", "t-parent", "--pr", "3"], 2, "--from-thread cannot be given with --pr"],
          [
            ["--from-thread", "t-parent", "--mode", "current_checkout"],
            2,
            "--from-thread does not apply with --mode current_checkout"
          ],
          [
            ["--from-thread", "t-other"],
            2,
            "--from-thread: Thread t-other belongs to project other, not demo"
          ],
          [["--from-thread", "t-failed"], 2, "Thread t-failed has no worktree"],
          [["--from-thread", "t-archived"], 1, "Thread t-archived is archived"],
          [["--from-thread", "t-swapped"], 1, "is missing or no longer a folder"],
          [["--from-thread", "t-nowhere"], 1, "Thread t-nowhere does not exist"],
          [["--from-thread", "../x"], 2, "--from-thread"]
        ]
        for (const [flags, code, said] of refusals) {
          const refused = yield* run(start("demo", "t-refused", ...flags))
          assert.strictEqual(refused.code, code, `${flags.join(" ")}: ${refused.stderr}`)
          assert.include(refused.stderr, said, flags.join(" "))
        }
        const json = yield* run(["--json", ...start("demo", "t-refused", "--from-thread", "t-other")])
        assert.deepInclude(JSON.parse(json.stdout).error, {
          reason: "validation",
          field: "bootstrap.workspace.fromThread"
        })
        assert.deepStrictEqual(worktreePrint(wt), before)
        assert.deepStrictEqual(state(repo), repoBefore)
        assert.strictEqual(yield* threadCount(), threads)

        // With its uncommitted changes, then without.
        const child = threadOf(
          yield* run([
            "--json",
            ...start("demo", "t-child", "--from-thread", "t-parent", "--include-uncommitted")
          ])
        )
        assert.deepStrictEqual(worktreePrint(wt), before)
        const childPath = child.workspace.worktreePath as string
        const startCommit = git(childPath, "rev-parse", "HEAD").trim()
        assert.strictEqual(git(repo, "rev-parse", `${startCommit}^`).trim(), head)
        assert.strictEqual(child.workspace.baseBranch, startCommit)
        assert.strictEqual(readFileSync(join(childPath, "committed.txt"), "utf8"), "committed\n")
        assert.strictEqual(readFileSync(join(childPath, "README.md"), "utf8"), "# edited, not committed\n")
        assert.strictEqual(readFileSync(join(childPath, "untracked.txt"), "utf8"), "new\n")
        assert.isFalse(existsSync(join(childPath, "debug.log")))
        // Started by a person, not an agent: no parent, and no setup on the other agent's files unless asked.
        assert.isNull(child.parentThreadId)
        assert.strictEqual(child.setup.status, "not-requested")
        const requested = yield* eventsUntil(
          server.engine,
          "t-child",
          (e) => e.type === "thread.turn-start-requested"
        )
        const first = requested.at(-1)
        assert.strictEqual(
          first?.type === "thread.turn-start-requested" ? first.payload.prompt : undefined,
          `You start from thread t-parent's HEAD ${head.slice(0, 12)} plus its uncommitted changes (commit ${startCommit.slice(0, 12)}).\n\ncarry on`
        )

        const plain = yield* run(start("demo", "t-plain", "--from-thread", "t-parent"))
        assert.strictEqual(plain.code, 0, plain.stderr)
        assert.include(plain.stdout, `from ${head}`)
        assert.include(plain.stderr, "Setup was not run: this worktree starts from thread t-parent's present")
        const plainThread = threadOf(yield* run(["--json", "thread", "show", "t-plain"]))
        const plainPath = plainThread.workspace.worktreePath as string
        assert.strictEqual(git(plainPath, "rev-parse", "HEAD").trim(), head)
        assert.strictEqual(readFileSync(join(plainPath, "README.md"), "utf8"), "# test repository\n")
        assert.isFalse(existsSync(join(plainPath, "untracked.txt")))
        assert.deepStrictEqual(worktreePrint(wt), before)

        // A person may ask for setup on it.
        const setup = threadOf(
          yield* run(["--json", ...start("demo", "t-setup", "--from-thread", "t-parent", "--setup")])
        )
        assert.notStrictEqual(setup.setup.status, "not-requested")
      }),
    // About twenty CLI processes in a row: 13 s alone, past 30 s beside the whole suite on 2 cores.
    { timeout: 90_000 }
  )
})
