// Merging a branch into another without a checkout, on real repositories: a preview writes no ref;
// fast-forward, merge and squash move the target alone; every commit of the source stays reachable
// (from the target, or for squash from the source's own branch); a conflict names the files and
// their hunks and changes nothing; a target that moved meanwhile is not overwritten.
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { commitFile, git, gitRepo, tempDir } from "../testing/fixtures.ts"
import { gitServices } from "../testing/git.ts"
import { conflictHunks, previewMerge } from "./branchMerge.ts"
import { commitMerge, commitMergeInCheckout } from "./mergeCheckout.ts"
import { withReplay } from "./mergeReplay.ts"

const MAIN = "refs/heads/main"
const FEATURE = "refs/heads/feature"

/** The refs, the index and the checkout's files: what a refused or previewed merge must not change. */
const snapshot = (repo: string) => ({
  refs: git(repo, "for-each-ref", "--format=%(refname) %(objectname)"),
  index: git(repo, "ls-files", "--stage"),
  status: git(repo, "status", "--porcelain=v1", "--untracked-files=all"),
  head: git(repo, "rev-parse", "HEAD")
})

/** A commit on main made without a checkout of it. */
const commitOnMain = (repo: string, name: string) => {
  git(repo, "checkout", "--quiet", "--detach", MAIN)
  commitFile(repo, name, `${name}\n`)
  git(repo, "update-ref", MAIN, "HEAD")
}

const commitsOf = (repo: string, range: string) =>
  git(repo, "rev-list", range).trim().split("\n").filter(Boolean)

const setup = Effect.gen(function* () {
  const repo = yield* gitRepo
  const { git: cli } = yield* gitServices(join(yield* tempDir(), "home"))
  writeFileSync(
    join(repo, "shared.txt"),
    `${Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join("\n")}\n`
  )
  git(repo, "add", "shared.txt")
  git(repo, "commit", "--quiet", "-m", "shared")
  git(repo, "branch", "feature")
  // Two commits on the feature branch, made in a worktree of it.
  const worktree = join(yield* tempDir(), "feature")
  git(repo, "worktree", "add", "--quiet", worktree, "feature")
  commitFile(worktree, "feature-a.txt", "a\n")
  commitFile(worktree, "feature-b.txt", "b\nb\n")
  // The repository's own checkout leaves main, which is then checked out nowhere.
  git(repo, "checkout", "--quiet", "--detach")
  return { repo, cli, worktree }
})

describe("merging a branch without a checkout", () => {
  it.live("previews without writing, then fast-forwards the target alone", () =>
    Effect.gen(function* () {
      const { repo, cli } = yield* setup
      const before = snapshot(repo)
      const preview = yield* previewMerge(cli, repo, MAIN, FEATURE)
      assert.isTrue(preview.fastForward)
      assert.isFalse(preview.upToDate)
      assert.deepStrictEqual(
        preview.files.map((f) => [f.path, f.added, f.removed]),
        [
          ["feature-a.txt", 1, 0],
          ["feature-b.txt", 2, 0]
        ]
      )
      assert.deepStrictEqual(snapshot(repo), before, "a preview changes nothing")

      const commit = yield* commitMerge(cli, repo, preview, "ff-only", "unused")
      assert.strictEqual(commit, preview.sourceOid)
      assert.strictEqual(git(repo, "rev-parse", MAIN).trim(), preview.sourceOid)
      assert.deepStrictEqual(commitsOf(repo, `${MAIN}..${FEATURE}`), [], "every feature commit is on main")
      const again = yield* previewMerge(cli, repo, MAIN, FEATURE)
      assert.isTrue(again.upToDate)
    })
  )

  it.live("merges or squashes a target that moved; refuses ff-only there", () =>
    Effect.gen(function* () {
      const { repo, cli } = yield* setup
      commitOnMain(repo, "main-only.txt")
      const preview = yield* previewMerge(cli, repo, MAIN, FEATURE)
      assert.isFalse(preview.fastForward)
      const refused = yield* Effect.flip(commitMerge(cli, repo, preview, "ff-only", "x"))
      assert.include(refused.message, "cannot fast-forward")
      assert.strictEqual(git(repo, "rev-parse", MAIN).trim(), preview.targetOid)

      const merged = yield* commitMerge(cli, repo, preview, "merge", "Merge thread t-1 (feature work)")
      assert.deepStrictEqual(git(repo, "rev-list", "--parents", "-n", "1", MAIN).trim().split(" ").slice(1), [
        preview.targetOid,
        preview.sourceOid
      ])
      assert.strictEqual(
        git(repo, "log", "-1", "--format=%s", merged).trim(),
        "Merge thread t-1 (feature work)"
      )
      assert.deepStrictEqual(commitsOf(repo, `${MAIN}..${FEATURE}`), [])
      assert.deepStrictEqual(git(repo, "ls-tree", "--name-only", MAIN).trim().split("\n").sort(), [
        "README.md",
        "feature-a.txt",
        "feature-b.txt",
        "main-only.txt",
        "shared.txt"
      ])
    })
  )

  it.live("squashes into one commit with the target as its only parent; the source keeps its commits", () =>
    Effect.gen(function* () {
      const { repo, cli } = yield* setup
      commitOnMain(repo, "elsewhere.txt")
      const preview = yield* previewMerge(cli, repo, MAIN, FEATURE)
      const squashed = yield* commitMerge(cli, repo, preview, "squash", "Squash thread t-1")
      assert.deepStrictEqual(
        git(repo, "rev-list", "--parents", "-n", "1", squashed).trim().split(" ").slice(1),
        [preview.targetOid]
      )
      assert.include(git(repo, "ls-tree", "--name-only", squashed), "feature-b.txt")
      // Squash leaves the source's commits off the target, but on its own branch.
      assert.strictEqual(commitsOf(repo, `${MAIN}..${FEATURE}`).length, 2)
      assert.strictEqual(git(repo, "rev-parse", FEATURE).trim(), preview.sourceOid)
    })
  )

  it.live("rebases: the source's commits replayed on the moved target, authors and messages kept", () =>
    Effect.gen(function* () {
      const { repo, cli, worktree } = yield* setup
      // A commit by someone else, so the replay must carry its author over.
      writeFileSync(join(worktree, "feature-c.txt"), "c\n")
      git(worktree, "add", "feature-c.txt")
      git(
        worktree,
        "commit",
        "--quiet",
        "--author=Ada Author <ada@example.test>",
        "--date=2001-02-03T04:05:06Z",
        "-m",
        "add c\n\nwith a body"
      )
      commitOnMain(repo, "main-only.txt")
      const before = snapshot(repo)
      const preview = yield* withReplay(cli, repo, yield* previewMerge(cli, repo, MAIN, FEATURE))
      assert.isString(preview.replayed)
      assert.deepStrictEqual(snapshot(repo), before, "replaying writes no ref")
      assert.deepStrictEqual(
        preview.files.map((f) => f.path),
        ["feature-a.txt", "feature-b.txt", "feature-c.txt"]
      )
      const tip = yield* commitMerge(cli, repo, preview, "rebase", "unused")
      assert.strictEqual(tip, preview.replayed)
      assert.strictEqual(git(repo, "rev-parse", MAIN).trim(), tip)
      // Linear: three new commits on top of main's old tip, none of them a merge.
      assert.deepStrictEqual(git(repo, "rev-list", "--merges", `${preview.targetOid}..${MAIN}`).trim(), "")
      assert.strictEqual(commitsOf(repo, `${preview.targetOid}..${MAIN}`).length, 3)
      assert.strictEqual(
        git(repo, "log", "-1", "--format=%an <%ae> %aI|%B", MAIN).trim(),
        "Ada Author <ada@example.test> 2001-02-03T04:05:06+00:00|add c\n\nwith a body"
      )
      assert.strictEqual(git(repo, "log", "-1", "--format=%cn", MAIN).trim(), "Spindle")
      assert.deepStrictEqual(git(repo, "ls-tree", "--name-only", MAIN).trim().split("\n").sort(), [
        "README.md",
        "feature-a.txt",
        "feature-b.txt",
        "feature-c.txt",
        "main-only.txt",
        "shared.txt"
      ])
      // The source keeps its own commits, untouched, on its branch.
      assert.strictEqual(git(repo, "rev-parse", FEATURE).trim(), preview.sourceOid)
    })
  )

  it.live("a rebase onto a target that has not moved keeps the source's commits as they are", () =>
    Effect.gen(function* () {
      const { repo, cli } = yield* setup
      const preview = yield* withReplay(cli, repo, yield* previewMerge(cli, repo, MAIN, FEATURE))
      assert.strictEqual(preview.replayed, preview.sourceOid)
      assert.strictEqual(yield* commitMerge(cli, repo, preview, "rebase", "unused"), preview.sourceOid)
    })
  )

  it.live("a rebase whose commit conflicts names its files and changes nothing", () =>
    Effect.gen(function* () {
      const { repo, cli, worktree } = yield* setup
      writeFileSync(join(worktree, "shared.txt"), "feature's shared\n")
      git(worktree, "commit", "--quiet", "-am", "feature rewrites shared")
      git(repo, "checkout", "--quiet", "--detach", MAIN)
      writeFileSync(join(repo, "shared.txt"), "main's shared\n")
      git(repo, "commit", "--quiet", "-am", "main rewrites shared")
      git(repo, "update-ref", MAIN, "HEAD")
      const before = snapshot(repo)
      const preview = yield* withReplay(cli, repo, yield* previewMerge(cli, repo, MAIN, FEATURE))
      assert.isNull(preview.replayed)
      assert.deepStrictEqual(
        preview.conflicts.map((c) => c.path),
        ["shared.txt"]
      )
      const refused = yield* Effect.flip(commitMerge(cli, repo, preview, "rebase", "x"))
      assert.include(refused.message, "does not merge cleanly")
      assert.deepStrictEqual(snapshot(repo), before)
    })
  )

  it.live("a conflict names the files and their hunks and changes nothing", () =>
    Effect.gen(function* () {
      const { repo, cli, worktree } = yield* setup
      const edit = (dir: string, line: number, text: string) => {
        const lines = readFileSync(join(dir, "shared.txt"), "utf8").split("\n")
        lines[line - 1] = text
        writeFileSync(join(dir, "shared.txt"), lines.join("\n"))
        git(dir, "commit", "--quiet", "-am", `edit line ${line}`)
      }
      edit(worktree, 3, "feature 3")
      edit(worktree, 15, "feature 15")
      git(repo, "checkout", "--quiet", "--detach", MAIN)
      edit(repo, 3, "main 3")
      edit(repo, 15, "main 15")
      git(repo, "update-ref", MAIN, "HEAD")
      const before = snapshot(repo)
      const preview = yield* previewMerge(cli, repo, MAIN, FEATURE)
      assert.isNull(preview.tree)
      assert.deepStrictEqual(preview.conflicts, [
        {
          path: "shared.txt",
          hunks: [
            { startLine: 3, endLine: 7 },
            { startLine: 19, endLine: 23 }
          ]
        }
      ])
      const refused = yield* Effect.flip(commitMerge(cli, repo, preview, "merge", "x"))
      assert.include(refused.message, "does not merge cleanly")
      assert.deepStrictEqual(snapshot(repo), before, "refs, index and files as before")
    })
  )

  it.live("a target that moved after the preview is not overwritten", () =>
    Effect.gen(function* () {
      const { repo, cli } = yield* setup
      const preview = yield* previewMerge(cli, repo, MAIN, FEATURE)
      commitOnMain(repo, "meanwhile.txt")
      const moved = git(repo, "rev-parse", MAIN).trim()
      const refused = yield* Effect.flip(commitMerge(cli, repo, preview, "ff-only", "x"))
      assert.include(refused.message, "moved while it was being merged into")
      assert.strictEqual(git(repo, "rev-parse", MAIN).trim(), moved)
    })
  )

  it.live("a target checked out in a worktree is refused, naming where to merge", () =>
    Effect.gen(function* () {
      const { repo, cli } = yield* setup
      git(repo, "checkout", "--quiet", "main")
      const before = snapshot(repo)
      const preview = yield* previewMerge(cli, repo, MAIN, FEATURE)
      const refused = yield* Effect.flip(commitMerge(cli, repo, preview, "ff-only", "x"))
      assert.strictEqual(refused.reason, "branch-checked-out")
      assert.include(refused.message, `is checked out in ${repo}`)
      assert.deepStrictEqual(snapshot(repo), before)
    })
  )

  it.live("refs that name no commit, or branches with no shared history, are refused by name", () =>
    Effect.gen(function* () {
      const { repo, cli } = yield* setup
      const missing = yield* Effect.flip(previewMerge(cli, repo, MAIN, "refs/heads/nope"))
      assert.include(missing.message, "refs/heads/nope does not name a commit")
      git(repo, "checkout", "--quiet", "--orphan", "island")
      git(repo, "commit", "--quiet", "-m", "island")
      const unrelated = yield* Effect.flip(previewMerge(cli, repo, MAIN, "refs/heads/island"))
      assert.include(unrelated.message, "share no history")
    })
  )

  it("finds conflict markers' line ranges", () => {
    assert.deepStrictEqual(conflictHunks("a\n<<<<<<< x\nb\n=======\nc\n>>>>>>> y\nd\n"), [
      { startLine: 2, endLine: 6 }
    ])
    assert.deepStrictEqual(conflictHunks("no markers\n"), [])
  })
})

describe("merging into a checkout of the target", () => {
  it.live("moves the checkout's files and index with the branch, and leaves it clean", () =>
    Effect.gen(function* () {
      const { repo, cli } = yield* setup
      commitOnMain(repo, "main-only.txt")
      git(repo, "checkout", "--quiet", "main")
      const preview = yield* previewMerge(cli, repo, MAIN, FEATURE)
      const merged = yield* commitMergeInCheckout(cli, repo, repo, preview, "merge", "Merge thread t-1")
      assert.strictEqual(git(repo, "rev-parse", "HEAD").trim(), merged)
      assert.strictEqual(readFileSync(join(repo, "feature-b.txt"), "utf8"), "b\nb\n")
      assert.strictEqual(git(repo, "status", "--porcelain=v1", "--untracked-files=all"), "")
      assert.deepStrictEqual(commitsOf(repo, `${MAIN}..${FEATURE}`), [])
    })
  )

  it.live(
    "a target that moved in its checkout after the preview is not overwritten, and the files are put back",
    () =>
      Effect.gen(function* () {
        const { repo, cli } = yield* setup
        git(repo, "checkout", "--quiet", "main")
        const preview = yield* previewMerge(cli, repo, MAIN, FEATURE)
        // main moves without a file changing: the files can move, the branch cannot.
        git(repo, "commit", "--quiet", "--allow-empty", "-m", "main moved")
        const before = snapshot(repo)
        const refused = yield* Effect.flip(commitMergeInCheckout(cli, repo, repo, preview, "ff-only", "x"))
        assert.include(refused.message, "moved while it was being merged into")
        assert.deepStrictEqual(snapshot(repo), before, "nothing changed")
      })
  )

  it.live("refuses a checkout with changes, one mid-merge, or one whose untracked file is in the way", () =>
    Effect.gen(function* () {
      const { repo, cli } = yield* setup
      git(repo, "checkout", "--quiet", "main")
      const preview = yield* previewMerge(cli, repo, MAIN, FEATURE)
      const refusedWith = (expected: string) =>
        Effect.gen(function* () {
          const before = snapshot(repo)
          const refused = yield* Effect.flip(commitMergeInCheckout(cli, repo, repo, preview, "ff-only", "x"))
          assert.strictEqual(refused.reason, "dirty")
          assert.include(refused.message, expected)
          assert.deepStrictEqual(snapshot(repo), before, "nothing changed")
        })

      writeFileSync(join(repo, "README.md"), "changed by the user\n")
      yield* refusedWith("uncommitted changes")
      git(repo, "checkout", "--quiet", "--", "README.md")

      writeFileSync(join(repo, "feature-a.txt"), "the user's own file\n")
      yield* refusedWith("would overwrite files")
      assert.strictEqual(readFileSync(join(repo, "feature-a.txt"), "utf8"), "the user's own file\n")
      git(repo, "clean", "--quiet", "-f", "--", "feature-a.txt")

      writeFileSync(join(repo, ".git", "MERGE_HEAD"), `${preview.sourceOid}\n`)
      yield* refusedWith("under way")
    })
  )
})
