// The invariant checker can fail: against a real server whose home we break on purpose (a worktree
// and a spindle/* branch no thread owns, a stray folder, a token in a log, a user's file removed,
// a subscriber that missed and repeated events), it names every one of them.
import { execFileSync } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { tempDir } from "../src/testing/fixtures.ts"
import { checkInvariants } from "./harness/invariants.ts"
import { startSpindle } from "./harness/spindle.ts"
import { newTracker, trackerViolations } from "./harness/tracker.ts"
import { adminClient, createProject, seededRepo } from "./harness/world.ts"

describe("reliability: the invariant checker", () => {
  it("names a subscriber's repeats, reorderings and misses", () => {
    const tracker = newTracker("t")
    tracker.seen.push(1, 3, 3, 2, 5)
    const problems = trackerViolations(tracker, 6)
    assert.strictEqual(problems.length, 3, problems.join("; "))
    assert.include(problems.join("; "), "more than once")
    assert.include(problems.join("; "), "out of order")
    assert.include(problems.join("; "), "missed 2 events (first 4, 6)")
    assert.deepStrictEqual(trackerViolations({ ...newTracker("ok"), seen: [1, 2, 3] }, 3), [])
  })

  it.live("catches orphaned worktrees and branches, stray folders, leaked tokens and removed files", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir("spindle-checker-")
      const server = yield* startSpindle(join(dir, "home"))
      const client = yield* adminClient(server)
      const { repo, seeded } = seededRepo(dir, "repo")
      yield* createProject(client, "px", repo)
      const clean = yield* checkInvariants({ home: server.home, url: server.url, client, seeded })
      assert.deepStrictEqual(clean.violations, [])

      const root = join(server.home, "worktrees", "px")
      mkdirSync(root, { recursive: true })
      execFileSync("git", ["worktree", "add", "--quiet", "-b", "spindle/orphan", join(root, "orphan")], {
        cwd: repo
      })
      mkdirSync(join(root, "leftover"))
      mkdirSync(join(server.home, "logs"), { recursive: true })
      writeFileSync(join(server.home, "logs", "leak.log"), `oops ${server.ownerToken}\n`)
      const report = yield* checkInvariants({
        home: server.home,
        url: server.url,
        client,
        seeded: [...seeded, { path: join(repo, "GONE.md"), content: "x" }],
        secrets: [server.ownerToken]
      })
      const text = report.violations.join("\n")
      assert.include(text, "orphan (branch spindle/orphan) belongs to no live thread")
      assert.include(text, "branch spindle/orphan in px has no thread")
      assert.include(text, "leftover is under <home>/worktrees but is not a git worktree")
      assert.include(text, "leak.log holds a token")
      assert.include(text, "GONE.md (a user's or agent's change) was removed")
      assert.notInclude(text, server.ownerToken, "a report never repeats the secret it found")
    })
  )
})
