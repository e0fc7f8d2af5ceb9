// Which setup script runs: the project's setting, else `.spindle/setup.sh` as committed on the
// default branch; never a copy an agent could write (its base branch, its worktree, the checkout).
import { existsSync, mkdirSync, rmSync, symlinkSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { CommandId, ProjectId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { bootstrapWorld, threadId } from "../testing/bootstrap.ts"
import { commitFile, git, serverActor, tempDir } from "../testing/fixtures.ts"
import { approveSetup, rerun, setupEnded, writeSetupFile } from "../testing/setupRunner.ts"

/** A script that leaves a mark where the test can look, if it ever runs. */
const marking = (marker: string) => `#!/bin/sh\ntouch '${marker}'\necho agent script ran\n`

describe("SetupRunner: which script runs", () => {
  it.live("a base branch's own committed setup.sh never runs; the default branch's does", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld()
      const marker = join(yield* tempDir(), "agent-ran")
      git(world.repo, "checkout", "--quiet", "-b", "agent-branch")
      writeSetupFile(world.repo, marking(marker))
      git(world.repo, "add", ".spindle")
      git(world.repo, "commit", "--quiet", "-m", "agent setup")
      git(world.repo, "checkout", "--quiet", "main")

      const none = yield* world.bootstrap("t1", { workspace: { baseBranch: "agent-branch" } })
      assert.strictEqual(none.baseBranch, "agent-branch")
      assert.isTrue(existsSync(join(none.worktreePath, ".spindle", "setup.sh")))
      assert.strictEqual(none.setup.status, "no-script")
      assert.isFalse(existsSync(marker))

      // Committed on main, not executable: it runs anyway, with /bin/sh.
      commitFile(world.repo, ".spindle/setup.sh", 'echo "from main in $(pwd)"\n')
      yield* approveSetup(world, "approve")
      // A tag named like the default branch, pointing at the agent's commit, is not what is read.
      git(world.repo, "update-ref", "refs/tags/main", git(world.repo, "rev-parse", "agent-branch").trim())
      const main = yield* world.bootstrap("t2", { workspace: { baseBranch: "agent-branch" } })
      assert.strictEqual(main.setup.status, "succeeded")
      assert.strictEqual(
        (yield* world.engine.getThread(threadId("t2")))!.setup.logTail,
        `from main in ${main.worktreePath}\n`
      )
      assert.isFalse(existsSync(marker))
    })
  )

  it.live(
    "a setup.sh written into the checkout or a worktree, or committed on the thread's branch, is not run",
    () =>
      Effect.gen(function* () {
        const world = yield* bootstrapWorld()
        const marker = join(yield* tempDir(), "agent-ran")
        writeSetupFile(world.repo, marking(marker))
        const checkout = yield* world.bootstrap("t1", {
          workspace: { mode: "current_checkout" },
          runSetupScript: true
        })
        assert.strictEqual(checkout.setup.status, "no-script")
        assert.isFalse(existsSync(marker))

        rmSync(join(world.repo, ".spindle"), { recursive: true })
        commitFile(world.repo, ".spindle/setup.sh", "echo committed on main\n")
        yield* approveSetup(world, "approve")
        writeSetupFile(world.repo, marking(marker))
        const changed = yield* world.bootstrap("t2", {
          workspace: { mode: "current_checkout" },
          runSetupScript: true
        })
        assert.strictEqual(changed.setup.status, "succeeded")
        assert.strictEqual(
          (yield* world.engine.getThread(threadId("t2")))!.setup.logTail,
          "committed on main\n"
        )
        assert.isFalse(existsSync(marker))
        git(world.repo, "checkout", "--quiet", "--", ".spindle/setup.sh")

        // An agent in its own worktree rewrites and commits the file, then asks for a rerun.
        const own = yield* world.bootstrap("t3")
        writeSetupFile(own.worktreePath, marking(marker))
        git(
          own.worktreePath,
          "-c",
          "user.name=a",
          "-c",
          "user.email=a@b.invalid",
          "commit",
          "--quiet",
          "-am",
          "mine"
        )
        yield* rerun(world, "t3", "rerun-t3")
        const again = yield* setupEnded(world, "t3", 2)
        assert.strictEqual(again.status, "succeeded")
        assert.strictEqual(again.logTail, "committed on main\n")
        assert.isFalse(existsSync(marker))
      })
  )

  it.live("the project's setting wins over the committed file", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld({ setupScript: "echo from the setting" })
      commitFile(world.repo, ".spindle/setup.sh", "echo from the file\n")
      yield* approveSetup(world, "approve")
      yield* world.bootstrap("t1")
      assert.strictEqual((yield* setupEnded(world, "t1", 1)).logTail, "from the setting\n")
      // Cleared, the committed file takes over.
      yield* world.engine.dispatch(
        {
          type: "project.update",
          commandId: CommandId.make("clear"),
          projectId: ProjectId.make("p1"),
          setupScript: null
        },
        serverActor
      )
      yield* rerun(world, "t1", "rerun-1")
      assert.strictEqual((yield* setupEnded(world, "t1", 2)).logTail, "from the file\n")
    })
  )

  it.live(
    "only the project's named default branch is read, never one detected at run time; a symlinked setup.sh fails the run",
    () =>
      Effect.gen(function* () {
        const world = yield* bootstrapWorld()
        git(world.repo, "checkout", "--quiet", "-b", "trunk")
        commitFile(world.repo, ".spindle/setup.sh", "echo from trunk\n")
        // With no default branch set, the checkout's HEAD (trunk, which an agent could move) is not asked.
        const update = (commandId: string, defaultBranch: string | null) =>
          world.engine.dispatch(
            {
              type: "project.update",
              commandId: CommandId.make(commandId),
              projectId: ProjectId.make("p1"),
              defaultBranch
            },
            serverActor
          )
        yield* update("clear", null)
        yield* world.bootstrap("t0", { workspace: { mode: "current_checkout" }, runSetupScript: true })
        assert.strictEqual((yield* setupEnded(world, "t0", 1)).status, "no-script")
        yield* world.commands.dispatch(
          { type: "thread.archive", commandId: "arch-t0", threadId: "t0" },
          serverActor
        )
        // Naming a default branch (through the command door, as the CLI does) approves its script.
        yield* world.commands.dispatch(
          { type: "project.update", commandId: "trunk", projectId: "p1", defaultBranch: "trunk" },
          serverActor
        )
        yield* world.bootstrap("t1", { workspace: { mode: "current_checkout" }, runSetupScript: true })
        assert.strictEqual((yield* setupEnded(world, "t1", 1)).logTail, "from trunk\n")

        git(world.repo, "rm", "--quiet", ".spindle/setup.sh")
        git(world.repo, "commit", "--quiet", "-m", "drop")
        const link = join(world.repo, ".spindle", "setup.sh")
        mkdirSync(join(world.repo, ".spindle"))
        symlinkSync("/bin/true", link)
        git(world.repo, "add", ".spindle/setup.sh")
        git(world.repo, "commit", "--quiet", "-m", "link")
        yield* rerun(world, "t1", "rerun-1")
        const refused = yield* setupEnded(world, "t1", 2)
        assert.strictEqual(refused.status, "failed")
        assert.include(refused.logTail, "symbolic link")
      })
  )

  it.live(
    "the project's setupEnv reaches the script through a bootstrap and a rerun, server secrets do not",
    () =>
      Effect.gen(function* () {
        const saved = process.env.SPINDLE_TOKEN
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            if (saved === undefined) delete process.env.SPINDLE_TOKEN
            else process.env.SPINDLE_TOKEN = saved
          })
        )
        process.env.SPINDLE_TOKEN = "spt_not_for_scripts"
        const world = yield* bootstrapWorld({
          setupScript: 'echo "registry=$REGISTRY token=$(printenv SPINDLE_TOKEN || echo unset)"',
          setupEnv: { REGISTRY: "http://127.0.0.1:1/" }
        })
        yield* world.bootstrap("t1")
        assert.strictEqual(
          (yield* setupEnded(world, "t1", 1)).logTail,
          "registry=http://127.0.0.1:1/ token=unset\n"
        )
        yield* world.engine.dispatch(
          {
            type: "project.update",
            commandId: CommandId.make("env"),
            projectId: ProjectId.make("p1"),
            setupEnv: { REGISTRY: "changed" }
          },
          serverActor
        )
        yield* rerun(world, "t1", "rerun-1")
        assert.strictEqual((yield* setupEnded(world, "t1", 2)).logTail, "registry=changed token=unset\n")
      })
  )
})
