// Reading `git diff --unified=0`: hunk headers to the fork point's line ranges (insertions as the
// gap before a line), file headers to paths (quoted names too), binary files as the whole file,
// mode-only changes left out; and a footprint read from a real worktree.
import { symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { WHOLE_FILE_END } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { commitFile, git, gitRepo, tempDir, tempHome } from "../testing/fixtures.ts"
import { gitServices } from "../testing/git.ts"
import { footprintOf, headerPath, hunkRange, lineCounts, parseUnifiedZero } from "./footprint.ts"

describe("parseUnifiedZero", () => {
  it("hunks, quoted paths, binary files and mode changes", () => {
    assert.deepStrictEqual(hunkRange("@@ -10,3 +10,4 @@ fn"), { start: 10, end: 12 })
    assert.deepStrictEqual(hunkRange("@@ -7 +7 @@"), { start: 7, end: 7 })
    assert.deepStrictEqual(hunkRange("@@ -5,0 +6,2 @@"), { start: 6, end: 5 })
    assert.deepStrictEqual(hunkRange("@@ -0,0 +1,3 @@"), { start: 1, end: 0 })
    assert.strictEqual(headerPath("diff --git a/src/a b.ts b/src/a b.ts"), "src/a b.ts")
    assert.strictEqual(headerPath('diff --git "a/tab\\there" "b/tab\\there"'), "tab\there")
    assert.strictEqual(headerPath('diff --git "a/caf\\303\\251" "b/caf\\303\\251"'), "café")
    const patch = [
      "diff --git a/x.ts b/x.ts",
      "index 1..2 100644",
      "--- a/x.ts",
      "+++ b/x.ts",
      "@@ -3 +3 @@",
      "-old",
      "+++ an added line that looks like a header",
      "@@ -9,0 +10 @@",
      "+new",
      "diff --git a/img.png b/img.png",
      "Binary files a/img.png and b/img.png differ",
      "diff --git a/run.sh b/run.sh",
      "old mode 100644",
      "new mode 100755",
      ""
    ].join("\n")
    assert.deepStrictEqual(
      [...parseUnifiedZero(patch)],
      [
        [
          "x.ts",
          [
            { start: 3, end: 3 },
            { start: 10, end: 9 }
          ]
        ],
        ["img.png", [{ start: 1, end: WHOLE_FILE_END }]]
      ]
    )
  })

  it.live("a real worktree: committed, staged, unstaged and untracked changes against the fork point", () =>
    Effect.gen(function* () {
      const repo = yield* gitRepo
      commitFile(repo, "a.txt", "1\n2\n3\n4\n5\n")
      const worktree = join(yield* tempDir(), "wt")
      git(repo, "worktree", "add", "--quiet", "-b", "feature", worktree)
      commitFile(worktree, "a.txt", "1\nTWO\n3\n4\n5\n")
      writeFileSync(join(worktree, "a.txt"), "1\nTWO\n3\n4\nFIVE\n")
      writeFileSync(join(worktree, "new.txt"), "fresh\n")
      // main moves on: the fork point stays where the branch left it.
      commitFile(repo, "later.txt", "later\n")
      const cli = (yield* gitServices(yield* tempHome)).git
      const print = yield* footprintOf(cli, repo, worktree, "main", new Map())
      assert.deepStrictEqual(
        [...print.files],
        [
          [
            "a.txt",
            [
              { start: 2, end: 2 },
              { start: 5, end: 5 }
            ]
          ],
          ["new.txt", [{ start: 1, end: 0 }]]
        ]
      )
      assert.strictEqual(print.forkPoint, git(repo, "rev-parse", "main~1").trim())
      // Two lines replaced (2 and 5), and the untracked file's one line added.
      assert.deepStrictEqual([print.added, print.removed], [3, 2])
    })
  )

  it.live("an untracked file's lines count as added, but not through a link out of the worktree", () =>
    Effect.gen(function* () {
      const repo = yield* gitRepo
      const worktree = join(yield* tempDir(), "wt")
      git(repo, "worktree", "add", "--quiet", "-b", "feature", worktree)
      const outside = join(yield* tempDir(), "secret.txt")
      writeFileSync(outside, "a\nb\nc\nd\n")
      symlinkSync(outside, join(worktree, "link.txt"))
      const folder = yield* tempDir()
      writeFileSync(join(folder, "inner.txt"), "x\ny\n")
      symlinkSync(folder, join(worktree, "linked"))
      writeFileSync(join(worktree, "two.txt"), "one\ntwo")
      writeFileSync(join(worktree, "blob.bin"), Buffer.from([1, 0, 2, 10]))
      const cli = (yield* gitServices(yield* tempHome)).git
      const print = yield* footprintOf(cli, repo, worktree, "main", new Map())
      assert.includeMembers([...print.files.keys()], ["link.txt", "two.txt", "blob.bin"])
      assert.deepStrictEqual([print.added, print.removed], [2, 0], "only two.txt's lines count")
    })
  )
})

describe("lineCounts", () => {
  it("sums the hunk headers' counts, a missing count being one line", () => {
    const patch = ["@@ -3 +3 @@", "-a", "+b", "@@ -9,0 +10,2 @@", "+x", "+y", "@@ -20,4 +21,0 @@"].join("\n")
    assert.deepStrictEqual(lineCounts(patch), { added: 3, removed: 5 })
  })
})
