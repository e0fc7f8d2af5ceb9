// A worktree's snapshot on real repositories: HEAD plus its uncommitted changes (edits staged or
// not, deletions, untracked files, a symlink kept as a link) but no ignored file, in one commit of
// Spindle's on top of HEAD; the worktree's files, its real index and its status stay exactly as
// they were; no ref is written; a huge file, a planted program or a foreign .git changes nothing.
import { chmodSync, mkdirSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { commitFile, git, gitRepo, tempDir } from "../testing/fixtures.ts"
import { gitServices } from "../testing/git.ts"
import {
  markersIn,
  PLANTED_ATTRIBUTES,
  plantDrivers,
  plantFakeGitDir,
  plantHooksPath
} from "../testing/planted.ts"
import { worktreePrint } from "../testing/worktreePrint.ts"
import { MAX_SNAPSHOT_FILE_BYTES } from "./worktreeSnapshot.ts"

const setup = Effect.gen(function* () {
  const repo = yield* gitRepo
  const dir = yield* tempDir()
  const services = yield* gitServices(join(dir, "home"))
  commitFile(repo, ".gitignore", "*.log\nbuild/\n")
  commitFile(repo, "a.txt", "a committed\n")
  commitFile(repo, "b.txt", "b committed\n")
  commitFile(repo, "c.txt", "c committed\n")
  const created = yield* services.worktrees.create({ repo, projectKey: "p" })
  const wt = created.worktreePath
  commitFile(wt, "work.txt", "committed in the worktree\n")
  return { repo, dir, wt, ...services }
})

/** Uncommitted work of every kind, and a file outside the repository the symlink names. */
const dirty = (wt: string, outside: string) => {
  writeFileSync(join(wt, "a.txt"), "a edited, not staged\n")
  writeFileSync(join(wt, "b.txt"), "b edited and staged\n")
  git(wt, "add", "b.txt")
  git(wt, "rm", "--quiet", "c.txt")
  writeFileSync(join(wt, "new.txt"), "untracked\n")
  mkdirSync(join(wt, "dir"))
  writeFileSync(join(wt, "dir", "nested.txt"), "untracked, nested\n")
  writeFileSync(join(wt, "run.sh"), "#!/bin/sh\necho hi\n")
  chmodSync(join(wt, "run.sh"), 0o755)
  writeFileSync(join(wt, "debug.log"), "ignored\n")
  mkdirSync(join(wt, "build"))
  writeFileSync(join(wt, "build", "out.bin"), "ignored too\n")
  writeFileSync(outside, "a secret outside the repository\n")
  symlinkSync(outside, join(wt, "outside"))
}

/** `<mode> <path>` → blob id, for every file in the commit's tree. */
const treeOf = (repo: string, commit: string) =>
  Object.fromEntries(
    git(repo, "ls-tree", "-r", "-z", commit)
      .split("\0")
      .filter((line) => line !== "")
      .map((line) => {
        const [meta, path] = line.split("\t") as [string, string]
        const [mode, , oid] = meta.split(" ") as [string, string, string]
        return [path, { mode, oid }]
      })
  )

const refs = (repo: string) => git(repo, "for-each-ref", "--format=%(refname) %(objectname)")
const objectCount = (repo: string) => git(repo, "count-objects", "-v")

describe("snapshotWorktree", () => {
  it.live("takes HEAD and the uncommitted changes, not ignored files; the worktree stays byte for byte", () =>
    Effect.gen(function* () {
      const { repo, dir, wt, repositories } = yield* setup
      const outside = join(dir, "secret.txt")
      dirty(wt, outside)
      const head = git(wt, "rev-parse", "HEAD").trim()
      const before = worktreePrint(wt)
      const refsBefore = refs(repo)

      const snapshot = yield* repositories.snapshotWorktree({
        repo,
        worktree: wt,
        includeUncommitted: true,
        message: "snapshot for the test"
      })

      assert.deepStrictEqual(worktreePrint(wt), before)
      assert.strictEqual(refs(repo), refsBefore)
      assert.strictEqual(snapshot.head, head)
      assert.isTrue(snapshot.uncommitted)
      assert.notStrictEqual(snapshot.commit, head)
      assert.strictEqual(git(repo, "rev-parse", `${snapshot.commit}^`).trim(), head)
      assert.strictEqual(
        git(repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%s", snapshot.commit).trim(),
        "Spindle <spindle@localhost>|Spindle <spindle@localhost>|snapshot for the test"
      )
      const tree = treeOf(repo, snapshot.commit)
      const show = (path: string) => git(repo, "show", `${snapshot.commit}:${path}`)
      assert.strictEqual(show("work.txt"), "committed in the worktree\n")
      assert.strictEqual(show("a.txt"), "a edited, not staged\n")
      assert.strictEqual(show("b.txt"), "b edited and staged\n")
      assert.notProperty(tree, "c.txt")
      assert.strictEqual(show("new.txt"), "untracked\n")
      assert.strictEqual(show("dir/nested.txt"), "untracked, nested\n")
      assert.strictEqual(tree["run.sh"]?.mode, "100755")
      // The link itself, never what it points at.
      assert.strictEqual(tree.outside?.mode, "120000")
      assert.strictEqual(show("outside"), outside)
      assert.notProperty(tree, "debug.log")
      assert.notProperty(tree, "build/out.bin")
    })
  )

  it.live("is HEAD itself without includeUncommitted, and for a clean worktree", () =>
    Effect.gen(function* () {
      const { repo, dir, wt, repositories } = yield* setup
      const head = git(wt, "rev-parse", "HEAD").trim()
      const clean = yield* repositories.snapshotWorktree({
        repo,
        worktree: wt,
        includeUncommitted: true,
        message: "m"
      })
      assert.deepStrictEqual(clean, { head, commit: head, uncommitted: false })
      dirty(wt, join(dir, "secret.txt"))
      const without = yield* repositories.snapshotWorktree({
        repo,
        worktree: wt,
        includeUncommitted: false,
        message: "m"
      })
      assert.deepStrictEqual(without, { head, commit: head, uncommitted: false })
      // Changes that add up to nothing are HEAD again: a file taken out of the index only, still
      // as committed in the worktree (status lists it twice, the files say it is unchanged).
      git(wt, "reset", "--quiet", "--hard")
      git(wt, "clean", "-fdq")
      git(wt, "rm", "--quiet", "--cached", "a.txt")
      assert.include(git(wt, "status", "--porcelain"), "D  a.txt")
      const undone = yield* repositories.snapshotWorktree({
        repo,
        worktree: wt,
        includeUncommitted: true,
        message: "m"
      })
      assert.strictEqual(undone.commit, head)
    })
  )

  it.live("refuses a file past the size limit before writing any object", () =>
    Effect.gen(function* () {
      const { repo, wt, repositories } = yield* setup
      writeFileSync(join(wt, "small.txt"), "small\n")
      const huge = join(wt, "huge.bin")
      writeFileSync(huge, "")
      truncateSync(huge, MAX_SNAPSHOT_FILE_BYTES + 1)
      const before = worktreePrint(wt)
      const objects = objectCount(repo)
      const refused = yield* repositories
        .snapshotWorktree({ repo, worktree: wt, includeUncommitted: true, message: "m" })
        .pipe(Effect.flip)
      assert.strictEqual(refused.reason, "too-large")
      assert.include(refused.message, "huge.bin")
      assert.strictEqual(objectCount(repo), objects)
      assert.deepStrictEqual(worktreePrint(wt), before)
      unlinkSync(huge)
    })
  )

  it.live("runs no hook, filter or fsmonitor the repository names, and no git behind a foreign .git", () =>
    Effect.gen(function* () {
      const { repo, dir, wt, repositories } = yield* setup
      commitFile(wt, ".gitattributes", PLANTED_ATTRIBUTES)
      writeFileSync(join(wt, "filtered.txt"), "raw content\n")
      const markers = join(dir, "markers")
      mkdirSync(markers)
      plantDrivers(repo, markers)
      plantHooksPath(repo, join(dir, "hooks"), markers)
      const snapshot = yield* repositories.snapshotWorktree({
        repo,
        worktree: wt,
        includeUncommitted: true,
        message: "m"
      })
      assert.deepStrictEqual(markersIn(markers), [])
      assert.strictEqual(git(repo, "cat-file", "blob", `${snapshot.commit}:filtered.txt`), "raw content\n")

      plantFakeGitDir(wt, markers)
      const refused = yield* repositories
        .snapshotWorktree({ repo, worktree: wt, includeUncommitted: true, message: "m" })
        .pipe(Effect.flip)
      assert.strictEqual(refused.reason, "foreign-gitdir")
      assert.deepStrictEqual(markersIn(markers), [])
    })
  )
})
