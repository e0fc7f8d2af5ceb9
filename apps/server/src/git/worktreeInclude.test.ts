// `.worktreeinclude` copies only into fresh files inside the worktree: a destination reached
// through a symlink checked out from the base branch, or one that already exists, is refused with
// a warning and nothing is written anywhere else. Real repositories, real worktrees.
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync
} from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { commitFile, git, gitRepo, tempDir } from "../testing/fixtures.ts"
import { gitServices } from "../testing/git.ts"

/**
 * A repository whose main checkout has the ignored `config/.env` and `.env` listed in
 * `.worktreeinclude`, and a branch `base` made by `onBase` in a scratch worktree (what an agent
 * could commit and then ask to branch from).
 */
const setup = (onBase: (checkout: string) => void) =>
  Effect.gen(function* () {
    const repo = yield* gitRepo
    commitFile(repo, ".gitignore", "config/\n.env\n")
    commitFile(repo, ".worktreeinclude", "config/.env\n.env\n")
    mkdirSync(join(repo, "config"))
    writeFileSync(join(repo, "config", ".env"), "SECRET=nested\n")
    writeFileSync(join(repo, ".env"), "SECRET=top\n")
    const scratch = join(yield* tempDir(), "scratch")
    git(repo, "worktree", "add", "--quiet", "-b", "base", scratch)
    onBase(scratch)
    git(scratch, "add", "-A", "-f")
    git(scratch, "commit", "--quiet", "--allow-empty", "-m", "base branch")
    git(repo, "worktree", "remove", "--force", scratch)
    const { worktrees } = yield* gitServices(join(yield* tempDir(), "home"))
    return { repo, worktrees }
  })

/** Every entry under `dir` with its content (or link target), to compare before and after. */
const contents = (dir: string): Record<string, string> =>
  Object.fromEntries(
    readdirSync(dir, { recursive: true, encoding: "utf8" }).map((name) => {
      const path = join(dir, name)
      const stat = lstatSync(path)
      return [name, stat.isFile() ? readFileSync(path, "utf8") : stat.isDirectory() ? "<dir>" : "<link>"]
    })
  )

describe(".worktreeinclude destinations", () => {
  it.live("copies into a fresh worktree when nothing stands in the way", () =>
    Effect.gen(function* () {
      const { repo, worktrees } = yield* setup(() => {})
      const created = yield* worktrees.create({ repo, projectKey: "p", base: "base" })
      assert.strictEqual(
        readFileSync(join(created.worktreePath, "config", ".env"), "utf8"),
        "SECRET=nested\n"
      )
      assert.strictEqual(readFileSync(join(created.worktreePath, ".env"), "utf8"), "SECRET=top\n")
      assert.deepStrictEqual(created.warnings, [])
    })
  )

  it.live("refuses a folder the base branch made a symlink to a directory outside", () =>
    Effect.gen(function* () {
      const outside = yield* tempDir()
      writeFileSync(join(outside, "keep.txt"), "untouched\n")
      const before = contents(outside)
      const { repo, worktrees } = yield* setup((checkout) => symlinkSync(outside, join(checkout, "config")))
      const created = yield* worktrees.create({ repo, projectKey: "p", base: "base" })
      assert.deepStrictEqual(contents(outside), before)
      assert.isTrue(lstatSync(join(created.worktreePath, "config")).isSymbolicLink())
      assert.isTrue(
        created.warnings.some((w) => w.includes("config/.env") && w.includes("config is a symlink")),
        created.warnings.join("\n")
      )
      // The other entry is unaffected.
      assert.strictEqual(readFileSync(join(created.worktreePath, ".env"), "utf8"), "SECRET=top\n")
    })
  )

  it.live("refuses a relative symlinked folder that climbs out of the worktree", () =>
    Effect.gen(function* () {
      const outside = yield* tempDir()
      // Enough `..` to reach the root from any worktree, then down to `outside`.
      const climb = `${"../".repeat(64)}${outside.slice(1)}`
      const { repo, worktrees } = yield* setup((checkout) => symlinkSync(climb, join(checkout, "config")))
      const created = yield* worktrees.create({ repo, projectKey: "p", base: "base" })
      assert.deepStrictEqual(readdirSync(outside), [])
      assert.isTrue(created.warnings.some((w) => w.includes("config is a symlink")))
    })
  )

  it.live("refuses a dangling symlink as the target file and writes nothing where it points", () =>
    Effect.gen(function* () {
      const outside = yield* tempDir()
      const pointee = join(outside, "planted.env")
      const { repo, worktrees } = yield* setup((checkout) => symlinkSync(pointee, join(checkout, ".env")))
      const created = yield* worktrees.create({ repo, projectKey: "p", base: "base" })
      assert.isFalse(existsSync(pointee))
      assert.deepStrictEqual(readdirSync(outside), [])
      assert.isTrue(created.warnings.some((w) => w.includes("Skipped .env") && w.includes("symlink")))
      assert.strictEqual(
        readFileSync(join(created.worktreePath, "config", ".env"), "utf8"),
        "SECRET=nested\n"
      )
    })
  )

  it.live("refuses a symlinked folder even when it points inside the worktree", () =>
    Effect.gen(function* () {
      const { repo, worktrees } = yield* setup((checkout) => {
        mkdirSync(join(checkout, "real"))
        writeFileSync(join(checkout, "real", "tracked.txt"), "tracked\n")
        symlinkSync("real", join(checkout, "config"))
      })
      const created = yield* worktrees.create({ repo, projectKey: "p", base: "base" })
      assert.isFalse(existsSync(join(created.worktreePath, "real", ".env")))
      assert.deepStrictEqual(readdirSync(join(created.worktreePath, "real")), ["tracked.txt"])
      assert.isTrue(created.warnings.some((w) => w.includes("config is a symlink")))
    })
  )

  it.live("never overwrites a file the base branch tracks under the same name", () =>
    Effect.gen(function* () {
      const { repo, worktrees } = yield* setup((checkout) => {
        mkdirSync(join(checkout, "config"))
        writeFileSync(join(checkout, "config", ".env"), "COMMITTED=1\n")
      })
      const created = yield* worktrees.create({ repo, projectKey: "p", base: "base" })
      assert.strictEqual(readFileSync(join(created.worktreePath, "config", ".env"), "utf8"), "COMMITTED=1\n")
      assert.strictEqual(git(created.worktreePath, "status", "--porcelain", "--ignored", "config"), "")
      assert.isTrue(
        created.warnings.some((w) => w.includes("config/.env") && w.includes("never overwritten"))
      )
    })
  )

  it.live("refuses a folder component that is a file in the worktree", () =>
    Effect.gen(function* () {
      const { repo, worktrees } = yield* setup((checkout) =>
        writeFileSync(join(checkout, "config"), "a file\n")
      )
      const created = yield* worktrees.create({ repo, projectKey: "p", base: "base" })
      assert.strictEqual(readFileSync(join(created.worktreePath, "config"), "utf8"), "a file\n")
      assert.isTrue(created.warnings.some((w) => w.includes("config is not a folder")))
    })
  )
})
