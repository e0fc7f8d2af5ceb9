// A tracked git call hands over its process group before git does anything, so a journal can hold
// it before a crash could orphan the git; the group is the one git then runs in.
import { spawn } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { groupOf, isSameGroupRunning, type ProcessGroup, settleGroup } from "@spindle/shared/processGroup"
import * as Effect from "effect/Effect"
import { git, gitRepo, tempDir } from "../testing/fixtures.ts"
import { gitServices } from "../testing/git.ts"

describe("GitCli tracked calls", () => {
  it.live("record runs with git's group, before git has made anything; git then runs in that group", () =>
    Effect.gen(function* () {
      const repo = yield* gitRepo
      const dir = yield* tempDir()
      const { git: cli } = yield* gitServices(join(dir, "home"))
      const path = join(dir, "wt")
      const seen: Array<{ group: ProcessGroup; made: boolean; running: boolean }> = []
      let groupWhileRunning: number | undefined
      yield* cli.runOk(["worktree", "add", "-b", "tracked", "--", path, "main"], {
        cwd: repo,
        tracked: {
          // A journal write may take a while; an ungated git would have made the worktree meanwhile.
          record: (group) =>
            Effect.andThen(
              Effect.sleep("500 millis"),
              Effect.sync(() => {
                seen.push({ group, made: existsSync(path), running: isSameGroupRunning(group) })
              })
            ),
          running: Effect.sync(() => {
            // Past the gate the same process is git, in the recorded group.
            const stat = readFileSync(`/proc/${seen[0]?.group.pgid}/stat`, "latin1")
            groupWhileRunning = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2])
          })
        }
      })
      assert.strictEqual(seen.length, 1)
      const [recorded] = seen
      assert.isFalse(recorded?.made, "git had made the worktree before its group was recorded")
      assert.isTrue(recorded?.running)
      assert.isNotNull(recorded?.group.startTime ?? null)
      assert.strictEqual(groupWhileRunning, recorded?.group.pgid)
      assert.include(git(repo, "worktree", "list"), path)
      // Finished, the recorded group is no longer taken for a running one.
      assert.isFalse(isSameGroupRunning(recorded!.group))
    })
  )

  it.live("a recorded group whose leader's pid now belongs to another process is not ours", () =>
    Effect.gen(function* () {
      const child = spawn("sleep", ["30"], { detached: true, stdio: "ignore" })
      yield* Effect.addFinalizer(() => Effect.sync(() => child.kill("SIGKILL")))
      const pid = child.pid as number
      const group = groupOf(pid)
      assert.isTrue(isSameGroupRunning(group))
      // The same pid recorded with another start time: a pid reused since, never signalled.
      assert.isFalse(isSameGroupRunning({ pgid: pid, startTime: `${Number(group.startTime) - 1}` }))
      assert.strictEqual(yield* settleGroup({ pgid: pid, startTime: "1" }), "none")
      assert.isTrue(isSameGroupRunning(group))
      assert.strictEqual(yield* settleGroup(group, { grace: "2 seconds" }), "ended")
      assert.isFalse(isSameGroupRunning(group))
    })
  )
})
