// The committed setup script runs only as the blob the user approved (at registration or with
// `project update --approve-setup`), and a start warns when the default branch was rewritten
// since the user last saw it. An agent moves the branch the way it can: from its own worktree.
import { existsSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { bootstrapWorld, threadId } from "../testing/bootstrap.ts"
import { commitFile, git, gitRepo, serverActor, tempDir } from "../testing/fixtures.ts"
import { approveSetup, rerun, setupEnded, writeSetupFile } from "../testing/setupRunner.ts"

const APPROVE = "spindle project update p1 --approve-setup"
const REWRITTEN = "history was rewritten"

/** What an agent does in its worktree: commit a setup script, then point main at that commit. */
const agentMovesMain = (worktree: string, marker: string) => {
  writeSetupFile(worktree, `#!/bin/sh\ntouch '${marker}'\necho agent script ran\n`)
  git(worktree, "add", ".spindle/setup.sh")
  git(worktree, "commit", "--quiet", "-m", "agent setup")
  git(worktree, "update-ref", "refs/heads/main", "HEAD")
}

describe("SetupRunner: the approved setup script", () => {
  it.live(
    "the pinned script runs; one an agent puts on main does not, and the start warns with the approve command; approved, it runs",
    () =>
      Effect.gen(function* () {
        const repo = yield* gitRepo
        commitFile(repo, ".spindle/setup.sh", "echo pinned\n")
        const world = yield* bootstrapWorld({ repo })
        const marker = join(yield* tempDir(), "agent-ran")

        const first = yield* world.bootstrap("t1")
        assert.strictEqual(first.setup.status, "succeeded")
        assert.strictEqual((yield* setupEnded(world, "t1", 1)).logTail, "pinned\n")

        agentMovesMain(first.worktreePath, marker)
        const moved = yield* world.bootstrap("t2")
        assert.strictEqual(moved.setup.status, "unapproved")
        assert.strictEqual(moved.turn.status, "not-started")
        assert.isFalse(existsSync(marker), "the agent's script ran")
        assert.isTrue(
          moved.warnings.some((w) => w.includes(APPROVE)),
          `no approve command in: ${moved.warnings.join(" | ")}`
        )
        // Moving main forward is not a rewrite.
        assert.isFalse(moved.warnings.some((w) => w.includes(REWRITTEN)))
        const ended = yield* setupEnded(world, "t2", 1)
        assert.strictEqual(ended.status, "unapproved")
        assert.include(ended.logTail, APPROVE)
        // A rerun of the first thread does not run it either.
        yield* rerun(world, "t1", "rerun-t1")
        assert.strictEqual((yield* setupEnded(world, "t1", 2)).status, "unapproved")
        assert.isFalse(existsSync(marker))

        // The user reviews it and approves it: now it runs.
        yield* approveSetup(world, "approve-1")
        const approved = (yield* world.engine.getProject("p1" as never))!.setupApproval!
        assert.strictEqual(approved.setupBlob, git(repo, "rev-parse", "main:.spindle/setup.sh").trim())
        assert.strictEqual(approved.branchCommit, git(repo, "rev-parse", "refs/heads/main").trim())
        yield* rerun(world, "t2", "rerun-t2")
        assert.strictEqual((yield* setupEnded(world, "t2", 2)).status, "succeeded")
        assert.isTrue(existsSync(marker))
        const third = yield* world.bootstrap("t3")
        assert.strictEqual(third.setup.status, "succeeded")
        assert.isFalse(third.warnings.some((w) => w.includes(APPROVE)))
      })
  )

  it.live(
    "a project registered without a committed script pins none: one added later waits for approval",
    () =>
      Effect.gen(function* () {
        const world = yield* bootstrapWorld()
        assert.strictEqual((yield* world.engine.getProject("p1" as never))!.setupApproval!.setupBlob, null)
        commitFile(world.repo, ".spindle/setup.sh", "echo added later\n")
        const started = yield* world.bootstrap("t1")
        assert.strictEqual(started.setup.status, "unapproved")
        assert.include((yield* setupEnded(world, "t1", 1)).logTail, "had no committed setup script")
        yield* approveSetup(world, "approve")
        yield* rerun(world, "t1", "rerun")
        assert.strictEqual((yield* setupEnded(world, "t1", 2)).logTail, "added later\n")
      })
  )

  it.live("a non-fast-forward move of the default branch warns on a start; a fast-forward does not", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld()
      const rewritten = (w: ReadonlyArray<string>) => w.filter((line) => line.includes(REWRITTEN))

      commitFile(world.repo, "work.txt", "ordinary work\n")
      const forward = yield* world.bootstrap("t1", { runSetupScript: false })
      assert.deepStrictEqual(rewritten(forward.warnings), [])

      // An unrelated commit: main no longer holds the commit the user saw at registration.
      const seen = (yield* world.engine.getProject("p1" as never))!.setupApproval!.branchCommit!
      git(world.repo, "checkout", "--quiet", "--orphan", "elsewhere")
      git(world.repo, "commit", "--quiet", "--allow-empty", "-m", "unrelated history")
      git(world.repo, "update-ref", "refs/heads/main", "refs/heads/elsewhere")
      const moved = yield* world.bootstrap("t2", { runSetupScript: false })
      assert.strictEqual(rewritten(moved.warnings).length, 1, moved.warnings.join(" | "))
      assert.include(rewritten(moved.warnings)[0]!, seen.slice(0, 12))
      assert.include(rewritten(moved.warnings)[0]!, APPROVE)

      // Approving records the commit as seen: the next start is quiet.
      yield* approveSetup(world, "approve")
      const after = yield* world.bootstrap("t3", { runSetupScript: false })
      assert.deepStrictEqual(rewritten(after.warnings), [])
      assert.isDefined(yield* world.engine.getThread(threadId("t3")))
    })
  )

  it.live(
    "a client cannot send the approval itself; approving a project with no default branch is refused",
    () =>
      Effect.gen(function* () {
        const world = yield* bootstrapWorld()
        const forged = yield* world.commands
          .dispatch(
            {
              type: "project.update",
              commandId: "forge",
              projectId: "p1",
              setupApproval: {
                setupBlob: "0".repeat(40),
                branchCommit: null,
                approvedAt: "2026-01-01T00:00:00.000Z"
              }
            },
            serverActor
          )
          .pipe(Effect.flip)
        assert.strictEqual(forged.reason, "validation")
        assert.include(forged.message, "setupApproval")
        assert.isNull((yield* world.engine.getProject("p1" as never))!.setupApproval!.setupBlob)

        yield* world.commands.dispatch(
          { type: "project.update", commandId: "no-branch", projectId: "p1", defaultBranch: null },
          serverActor
        )
        const refused = yield* approveSetup(world, "approve").pipe(Effect.flip)
        assert.strictEqual(refused.reason, "validation")
        assert.include(refused.message, "--default-branch")
      })
  )
})
