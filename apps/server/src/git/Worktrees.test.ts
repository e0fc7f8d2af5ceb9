import {
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync
} from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { commitFile, git, gitRepo, initRepo, tempDir } from "../testing/fixtures.ts"
import { gitServices } from "../testing/git.ts"

const branches = (repo: string) =>
  git(repo, "branch", "--format=%(refname:short)")
    .trim()
    .split("\n")
    .filter((b) => b !== "")
    .sort()

const worktreeCount = (repo: string) =>
  git(repo, "worktree", "list", "--porcelain").split("\nworktree ").length

/** A repo, a home for the server, and the git services over them. */
const setup = Effect.gen(function* () {
  const repo = yield* gitRepo
  const home = join(yield* tempDir(), "home")
  const services = yield* gitServices(home)
  return { repo, home, ...services }
})

describe("Worktrees.create", () => {
  it.live("creates spindle/<8 hex> from the default branch under <home>/worktrees", () =>
    Effect.gen(function* () {
      const { repo, home, worktrees } = yield* setup
      const created = yield* worktrees.create({ repo, projectKey: "My Project" })
      assert.match(created.branch!, /^spindle\/[0-9a-f]{8}$/)
      assert.strictEqual(created.baseBranch, "main")
      assert.isTrue(created.createdByUs)
      assert.strictEqual(
        created.worktreePath,
        join(realpathSync(home), "worktrees", "my-project", created.branch!.replace("/", "-"))
      )
      assert.strictEqual(readFileSync(join(created.worktreePath, "README.md"), "utf8"), "# test repository\n")
      assert.strictEqual(
        git(created.worktreePath, "rev-parse", "--abbrev-ref", "HEAD").trim(),
        created.branch
      )
      // --no-track: the new branch does not follow main.
      assert.notInclude(git(repo, "config", "--list"), "branch.")
    })
  )

  it.live("checks out the default branch's real commit, not one an agent swapped in with git replace", () =>
    Effect.gen(function* () {
      const { repo, worktrees } = yield* setup
      const main = git(repo, "rev-parse", "main").trim()
      git(repo, "checkout", "--quiet", "-b", "agent")
      commitFile(repo, "package.json", '{"scripts":{"postinstall":"echo pwned"}}\n')
      git(repo, "replace", main, git(repo, "rev-parse", "agent").trim())
      git(repo, "checkout", "--quiet", "main")
      const created = yield* worktrees.create({ repo, projectKey: "p", base: "main" })
      assert.isFalse(existsSync(join(created.worktreePath, "package.json")))
      assert.strictEqual(git(created.worktreePath, "--no-replace-objects", "rev-parse", "HEAD").trim(), main)
    })
  )

  it.live("refuses a branch that already exists, and one checked out in another worktree", () =>
    Effect.gen(function* () {
      const { repo, worktrees } = yield* setup
      git(repo, "branch", "taken")
      const exists = yield* Effect.flip(worktrees.create({ repo, projectKey: "p", branch: "taken" }))
      assert.strictEqual(exists.reason, "branch-exists")
      const first = yield* worktrees.create({ repo, projectKey: "p", branch: "feature/x" })
      const checkedOut = yield* Effect.flip(worktrees.create({ repo, projectKey: "p", branch: "feature/x" }))
      assert.strictEqual(checkedOut.reason, "branch-checked-out")
      assert.include(checkedOut.message, first.worktreePath)
    })
  )

  it.live("refuses unsafe branch names before touching anything", () =>
    Effect.gen(function* () {
      const { repo, worktrees } = yield* setup
      for (const branch of ["--upload-pack=x", "bad..name", "with space", "tab\there", "ends.lock"]) {
        const error = yield* Effect.flip(worktrees.create({ repo, projectKey: "p", branch }))
        assert.strictEqual(error.reason, "invalid-branch-name", branch)
      }
      assert.deepStrictEqual(branches(repo), ["main"])
      assert.strictEqual(worktreeCount(repo), 1)
    })
  )

  it.live("picks a fresh path when the target directory exists, leaving it untouched", () =>
    Effect.gen(function* () {
      const { repo, home, worktrees } = yield* setup
      const occupied = join(home, "worktrees", "p", "feature-y")
      mkdirSync(occupied, { recursive: true })
      writeFileSync(join(occupied, "keep.txt"), "mine")
      const created = yield* worktrees.create({ repo, projectKey: "p", branch: "feature/y" })
      assert.strictEqual(created.worktreePath, `${realpathSync(occupied)}-2`)
      assert.strictEqual(readFileSync(join(occupied, "keep.txt"), "utf8"), "mine")
    })
  )

  it.live("refuses a repository with no commits", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir()
      git(dir, "init", "--quiet", "--initial-branch=main")
      const { worktrees } = yield* gitServices(join(dir, "..", `${dir.split("/").pop()}-home`))
      const error = yield* Effect.flip(worktrees.create({ repo: dir, projectKey: "p" }))
      assert.strictEqual(error.reason, "no-commits")
      assert.include(error.message, "first commit")
    })
  )

  it.live("refuses a base missing locally and on origin, leaving nothing behind", () =>
    Effect.gen(function* () {
      const { repo, worktrees } = yield* setup
      const origin = join(yield* tempDir(), "origin.git")
      git(repo, "clone", "--quiet", "--bare", repo, origin)
      git(repo, "remote", "add", "origin", origin)
      const error = yield* Effect.flip(
        worktrees.create({ repo, projectKey: "p", base: "nope", fetchBase: true })
      )
      assert.strictEqual(error.reason, "base-not-found")
      assert.deepStrictEqual(branches(repo), ["main"])
      assert.strictEqual(worktreeCount(repo), 1)
    })
  )

  it.live("uses the fetched origin/<base> when it exists there, and falls back with a warning when not", () =>
    Effect.gen(function* () {
      const { repo, worktrees } = yield* setup
      const origin = join(yield* tempDir(), "origin.git")
      git(repo, "clone", "--quiet", "--bare", repo, origin)
      git(repo, "remote", "add", "origin", origin)
      // A commit that exists only on origin's main.
      const other = join(yield* tempDir(), "other")
      git(repo, "clone", "--quiet", origin, other)
      commitFile(other, "remote.txt", "from origin")
      git(other, "push", "--quiet", "origin", "main")
      const fresh = yield* worktrees.create({ repo, projectKey: "p", base: "main", fetchBase: true })
      assert.strictEqual(fresh.baseBranch, "origin/main")
      assert.isTrue(existsSync(join(fresh.worktreePath, "remote.txt")))
      assert.deepStrictEqual(fresh.warnings, [])
      // A branch only local: the fetch fails, the local one is used, and the caller is told.
      git(repo, "branch", "local-only")
      const local = yield* worktrees.create({ repo, projectKey: "p", base: "local-only", fetchBase: true })
      assert.strictEqual(local.baseBranch, "local-only")
      assert.strictEqual(local.warnings.length, 1)
      assert.include(local.warnings[0]!, "using the local local-only")
    })
  )

  it.live("works from a detached HEAD and a dirty main checkout, leaving the checkout as it was", () =>
    Effect.gen(function* () {
      const { repo, worktrees } = yield* setup
      commitFile(repo, "src/a.txt", "v1")
      git(repo, "checkout", "--quiet", "--detach", "HEAD~1")
      writeFileSync(join(repo, "README.md"), "local edit\n")
      writeFileSync(join(repo, "scratch.txt"), "untracked\n")
      const before = git(repo, "status", "--porcelain")
      const created = yield* worktrees.create({ repo, projectKey: "p" })
      assert.strictEqual(created.baseBranch, "main")
      assert.strictEqual(git(created.worktreePath, "status", "--porcelain"), "")
      assert.strictEqual(readFileSync(join(created.worktreePath, "src/a.txt"), "utf8"), "v1")
      assert.strictEqual(git(repo, "status", "--porcelain"), before)
      assert.strictEqual(readFileSync(join(repo, "README.md"), "utf8"), "local edit\n")
    })
  )

  it.live("handles paths with spaces and non-ASCII characters", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir()
      const repo = initRepo(join(dir, "my répo ünïcode"))
      const { worktrees } = yield* gitServices(join(dir, "hôme with space"))
      const created = yield* worktrees.create({ repo, projectKey: "Projet Été", branch: "feature/ça-va" })
      assert.isTrue(existsSync(join(created.worktreePath, "README.md")))
      assert.include(created.worktreePath, "hôme with space")
      const adopted = yield* worktrees.adopt(repo, created.worktreePath)
      assert.strictEqual(adopted.branch, "feature/ça-va")
    })
  )

  it.live("from a checked plan asks git nothing again, and checks out with parallel workers", () =>
    Effect.gen(function* () {
      const repo = yield* gitRepo
      const calls: Array<{ args: ReadonlyArray<string>; config?: Readonly<Record<string, string>> }> = []
      const { worktrees } = yield* gitServices(join(yield* tempDir(), "home"), (git) => ({
        ...git,
        run: (args, options) => {
          calls.push({ args, ...(options.config === undefined ? {} : { config: options.config }) })
          return git.run(args, options)
        },
        runOk: (args, options) => {
          calls.push({ args, ...(options.config === undefined ? {} : { config: options.config }) })
          return git.runOk(args, options)
        }
      }))
      const plan = yield* worktrees.plan({ repo, projectKey: "p", branch: "planned" })
      calls.length = 0
      const created = yield* worktrees.createPlanned(plan)
      assert.strictEqual(git(created.worktreePath, "rev-parse", "--abbrev-ref", "HEAD").trim(), "planned")
      // Only the user's checkout.workers setting is read (once a minute), then the worktree added.
      assert.deepStrictEqual(
        calls.map((c) => c.args.slice(0, 2).join(" ")),
        ["config --get", "worktree add"]
      )
      const workers = calls[1]!.config?.["checkout.workers"]
      assert.isTrue(Number(workers) >= 1)
      calls.length = 0
      yield* worktrees.create({ repo, projectKey: "p" })
      // The setting is cached: a second create within the minute does not read it again.
      assert.notInclude(
        calls.map((c) => c.args.join(" ")),
        "config --get checkout.workers"
      )
    })
  )

  it.live("leaves checkout.workers to the user's git config when it sets one", () =>
    Effect.gen(function* () {
      const { repo, worktrees } = yield* setup
      git(repo, "config", "checkout.workers", "1")
      assert.deepStrictEqual(yield* worktrees.checkoutConfig(repo), {})
      const other = yield* gitRepo
      assert.deepStrictEqual(Object.keys(yield* worktrees.checkoutConfig(other)), ["checkout.workers"])
    })
  )

  it.live("runs 16 concurrent creates in one repository, all with distinct branches and paths", () =>
    Effect.gen(function* () {
      const { repo, worktrees } = yield* setup
      const created = yield* Effect.all(
        Array.from({ length: 16 }, (_, i) =>
          worktrees.create({ repo, projectKey: "p", ...(i % 2 === 0 ? { branch: `same-slug/${i}` } : {}) })
        ),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(new Set(created.map((c) => c.branch)).size, 16)
      assert.strictEqual(new Set(created.map((c) => c.worktreePath)).size, 16)
      assert.strictEqual(worktreeCount(repo), 17)
      for (const c of created) assert.isTrue(existsSync(join(c.worktreePath, "README.md")))
    })
  )
})

describe(".worktreeinclude", () => {
  it.live("copies ignored files it lists and refuses a symlink out of the repository", () =>
    Effect.gen(function* () {
      const { repo, worktrees } = yield* setup
      commitFile(repo, ".gitignore", ".env\nsecrets/\nescape.txt\nnot-listed.txt\n")
      commitFile(repo, ".worktreeinclude", ".env\nsecrets/\nescape.txt\nuntracked-listed.txt\n")
      writeFileSync(join(repo, "untracked-listed.txt"), "listed but not ignored\n")
      writeFileSync(join(repo, ".env"), "TOKEN=local\n")
      mkdirSync(join(repo, "secrets"))
      writeFileSync(join(repo, "secrets", "key.pem"), "KEY\n")
      writeFileSync(join(repo, "not-listed.txt"), "stays\n")
      const outside = join(yield* tempDir(), "outside.txt")
      writeFileSync(outside, "must not be copied\n")
      symlinkSync(outside, join(repo, "escape.txt"))
      const created = yield* worktrees.create({ repo, projectKey: "p" })
      assert.strictEqual(readFileSync(join(created.worktreePath, ".env"), "utf8"), "TOKEN=local\n")
      assert.strictEqual(readFileSync(join(created.worktreePath, "secrets", "key.pem"), "utf8"), "KEY\n")
      assert.isFalse(existsSync(join(created.worktreePath, "not-listed.txt")))
      assert.isFalse(existsSync(join(created.worktreePath, "untracked-listed.txt")))
      assert.isFalse(existsSync(join(created.worktreePath, "escape.txt")))
      assert.isTrue(
        created.warnings.some((w) => w.includes("escape.txt") && w.includes("outside the repository"))
      )
    })
  )
})

describe("Worktrees.adopt", () => {
  it.live("accepts a registered worktree by any spelling of its path and reports its branch", () =>
    Effect.gen(function* () {
      const { repo, worktrees } = yield* setup
      const created = yield* worktrees.create({ repo, projectKey: "p", branch: "adopt-me" })
      const dir = yield* tempDir()
      mkdirSync(join(dir, "sub"))
      symlinkSync(created.worktreePath, join(dir, "link"))
      const adopted = yield* worktrees.adopt(repo, `${dir}/sub/../link`)
      assert.strictEqual(adopted.worktreePath, created.worktreePath)
      assert.strictEqual(adopted.branch, "adopt-me")
      assert.isFalse(adopted.createdByUs)
    })
  )

  it.live("reports a detached worktree with a null branch and a warning", () =>
    Effect.gen(function* () {
      const { repo, worktrees } = yield* setup
      const path = join(yield* tempDir(), "detached")
      git(repo, "worktree", "add", "--quiet", "--detach", path)
      const adopted = yield* worktrees.adopt(repo, path)
      assert.isNull(adopted.branch)
      assert.strictEqual(adopted.warnings.length, 1)
    })
  )

  it.live(
    "refuses a plain directory, the repository root, and a symlink to another repository's worktree",
    () =>
      Effect.gen(function* () {
        const { repo, worktrees } = yield* setup
        const plain = join(yield* tempDir(), "plain")
        mkdirSync(plain)
        assert.strictEqual((yield* Effect.flip(worktrees.adopt(repo, plain))).reason, "not-a-worktree")
        const root = yield* Effect.flip(worktrees.adopt(repo, repo))
        assert.strictEqual(root.reason, "not-a-worktree")
        assert.include(root.message, "current_checkout")
        const other = yield* gitRepo
        const otherWorktree = join(yield* tempDir(), "other-wt")
        git(other, "worktree", "add", "--quiet", "-b", "x", otherWorktree)
        const link = join(repo, "..", `${repo.split("/").pop()}-smuggle`)
        symlinkSync(otherWorktree, link)
        assert.strictEqual((yield* Effect.flip(worktrees.adopt(repo, link))).reason, "not-a-worktree")
      })
  )
})

describe("Worktrees.remove", () => {
  it.live("refuses a dirty worktree and one with commits found nowhere else", () =>
    Effect.gen(function* () {
      const { repo, worktrees } = yield* setup
      const dirty = yield* worktrees.create({ repo, projectKey: "p", branch: "dirty" })
      writeFileSync(join(dirty.worktreePath, "wip.txt"), "work in progress\n")
      const refused = yield* Effect.flip(
        worktrees.remove({ repo, worktreePath: dirty.worktreePath, branch: "dirty", deleteBranch: true })
      )
      assert.strictEqual(refused.reason, "dirty")
      assert.isTrue(existsSync(join(dirty.worktreePath, "wip.txt")))

      const ahead = yield* worktrees.create({ repo, projectKey: "p", branch: "ahead" })
      commitFile(ahead.worktreePath, "new.txt", "new work")
      const unpushed = yield* Effect.flip(
        worktrees.remove({ repo, worktreePath: ahead.worktreePath, branch: "ahead", deleteBranch: true })
      )
      assert.strictEqual(unpushed.reason, "dirty")
      assert.include(unpushed.message, "1 commit")
      // Forced: the worktree goes, but the branch with the new commit is kept.
      const forced = yield* worktrees.remove({
        repo,
        worktreePath: ahead.worktreePath,
        branch: "ahead",
        deleteBranch: true,
        force: true
      })
      assert.isFalse(forced.branchDeleted)
      assert.isFalse(existsSync(ahead.worktreePath))
      assert.include(branches(repo), "ahead")
    })
  )

  it.live("removes a clean worktree and deletes its branch only when asked", () =>
    Effect.gen(function* () {
      const { repo, worktrees } = yield* setup
      const ours = yield* worktrees.create({ repo, projectKey: "p", branch: "ours" })
      const removed = yield* worktrees.remove({
        repo,
        worktreePath: ours.worktreePath,
        branch: "ours",
        deleteBranch: true
      })
      assert.isTrue(removed.branchDeleted)
      assert.isFalse(existsSync(ours.worktreePath))
      assert.notInclude(branches(repo), "ours")
      const theirs = yield* worktrees.create({ repo, projectKey: "p", branch: "theirs" })
      const kept = yield* worktrees.remove({
        repo,
        worktreePath: theirs.worktreePath,
        branch: "theirs",
        deleteBranch: false
      })
      assert.isFalse(kept.branchDeleted)
      assert.include(branches(repo), "theirs")
      assert.strictEqual(worktreeCount(repo), 1)
    })
  )
})

describe("lock contention", () => {
  it.live("retries a transient ref lock and succeeds once it is released", () =>
    Effect.gen(function* () {
      const repo = yield* gitRepo
      const home = join(yield* tempDir(), "home")
      const lock = join(repo, ".git", "refs", "heads", "locked.lock")
      writeFileSync(lock, "")
      let adds = 0
      const { worktrees } = yield* gitServices(home, (git) => ({
        ...git,
        runOk: (args, options) =>
          git.runOk(args, options).pipe(
            Effect.tapError(() =>
              Effect.sync(() => {
                // Another git process finishes: its lock disappears after our first attempt.
                if (args[0] === "worktree" && args[1] === "add" && ++adds === 1) rmSyncQuiet(lock)
              })
            )
          )
      }))
      const created = yield* worktrees.create({ repo, projectKey: "p", branch: "locked" })
      assert.strictEqual(adds, 1)
      assert.strictEqual(created.branch, "locked")
      assert.strictEqual(git(created.worktreePath, "rev-parse", "--abbrev-ref", "HEAD").trim(), "locked")
    })
  )

  it.live("gives up on a lock that stays, leaving no branch or directory behind", () =>
    Effect.gen(function* () {
      const { repo, home, worktrees } = yield* setup
      writeFileSync(join(repo, ".git", "refs", "heads", "stuck.lock"), "")
      const error = yield* Effect.flip(worktrees.create({ repo, projectKey: "p", branch: "stuck" }))
      assert.strictEqual(error.reason, "command-failed")
      assert.deepStrictEqual(branches(repo), ["main"])
      assert.strictEqual(worktreeCount(repo), 1)
      assert.isFalse(existsSync(join(home, "worktrees", "p", "stuck")))
    })
  )
})

const rmSyncQuiet = (path: string) => rmSync(path, { force: true })
