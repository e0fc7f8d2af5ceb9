// Reading a file as committed on a ref: the blob, never the checkout; symlinks, folders, submodules and big blobs refused.
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { commitFile, git, gitRepo, tempDir } from "../testing/fixtures.ts"
import { gitServices } from "../testing/git.ts"

const SETUP = ".spindle/setup.sh"

describe("Repositories.readCommittedFile", () => {
  it.live("reads the blob as committed on the ref, not the checkout or another branch", () =>
    Effect.gen(function* () {
      const repo = yield* gitRepo
      const { repositories } = yield* gitServices(join(yield* tempDir(), "home"))
      commitFile(repo, SETUP, "echo from main\n")
      git(repo, "checkout", "--quiet", "-b", "topic")
      commitFile(repo, SETUP, "echo from topic\n")
      chmodSync(join(repo, SETUP), 0o755)
      git(repo, "commit", "--quiet", "-am", "executable")
      writeFileSync(join(repo, SETUP), "echo from the checkout\n")
      const main = yield* repositories.readCommittedFile(repo, "refs/heads/main", SETUP, 1000)
      assert.deepInclude(main, { _tag: "file", content: "echo from main\n", mode: "100644" })
      const topic = yield* repositories.readCommittedFile(repo, "refs/heads/topic", SETUP, 1000)
      assert.deepInclude(topic, { _tag: "file", content: "echo from topic\n", mode: "100755" })
    })
  )

  it.live("ignores replace refs: a commit an agent swaps in with `git replace` is not what is read", () =>
    Effect.gen(function* () {
      const repo = yield* gitRepo
      const { repositories } = yield* gitServices(join(yield* tempDir(), "home"))
      commitFile(repo, SETUP, "echo from main\n")
      const main = git(repo, "rev-parse", "main").trim()
      git(repo, "checkout", "--quiet", "-b", "agent")
      commitFile(repo, SETUP, "echo from the agent\n")
      // refs/replace/* is writable from any worktree: main's commit now reads as the agent's.
      git(repo, "replace", main, git(repo, "rev-parse", "agent").trim())
      assert.include(git(repo, "show", `main:${SETUP}`), "from the agent")
      const read = yield* repositories.readCommittedFile(repo, "refs/heads/main", SETUP, 1000)
      assert.deepInclude(read, { _tag: "file", content: "echo from main\n" })
    })
  )

  it.live("asks git once per commit: the same commit is answered from memory, a new one is read", () =>
    Effect.gen(function* () {
      const repo = yield* gitRepo
      let calls = 0
      const { repositories } = yield* gitServices(join(yield* tempDir(), "home"), (git) => ({
        ...git,
        run: (args, options) =>
          Effect.andThen(
            Effect.sync(() => calls++),
            git.run(args, options)
          ),
        runOk: (args, options) =>
          Effect.andThen(
            Effect.sync(() => calls++),
            git.runOk(args, options)
          )
      }))
      commitFile(repo, SETUP, "echo one\n")
      const read = () => repositories.readCommittedFile(repo, "refs/heads/main", SETUP, 1000)
      assert.deepInclude(yield* read(), { content: "echo one\n" })
      assert.strictEqual(calls, 2) // ls-tree, cat-file
      assert.deepInclude(yield* read(), { content: "echo one\n" })
      assert.strictEqual(calls, 2)
      commitFile(repo, SETUP, "echo two\n")
      assert.deepInclude(yield* read(), { content: "echo two\n" })
      assert.strictEqual(calls, 4)
      // Packed refs are read from disk as well.
      git(repo, "pack-refs", "--all")
      commitFile(repo, "other.txt", "x\n")
      git(repo, "pack-refs", "--all")
      assert.deepInclude(yield* read(), { content: "echo two\n" })
      assert.strictEqual(calls, 6)
      assert.deepInclude(yield* read(), { content: "echo two\n" })
      assert.strictEqual(calls, 6)
    })
  )

  it.live("answers undefined for a missing ref, a missing path, or a path under a symlinked folder", () =>
    Effect.gen(function* () {
      const repo = yield* gitRepo
      const { repositories } = yield* gitServices(join(yield* tempDir(), "home"))
      assert.isUndefined(yield* repositories.readCommittedFile(repo, "refs/heads/main", SETUP, 1000))
      assert.isUndefined(yield* repositories.readCommittedFile(repo, "refs/heads/nope", "README.md", 1000))
      mkdirSync(join(repo, "real"))
      writeFileSync(join(repo, "real", "setup.sh"), "echo through a link\n")
      symlinkSync("real", join(repo, ".spindle"))
      git(repo, "add", "real", ".spindle")
      git(repo, "commit", "--quiet", "-m", "linked folder")
      assert.isUndefined(yield* repositories.readCommittedFile(repo, "refs/heads/main", SETUP, 1000))
      const top = yield* repositories.readCommittedFile(repo, "refs/heads/main", "README.md", 1000)
      assert.deepInclude(top, { _tag: "file", content: "# test repository\n" })
    })
  )

  it.live("refuses a symlink, a folder, a submodule-like entry and a blob over the size cap", () =>
    Effect.gen(function* () {
      const repo = yield* gitRepo
      const { repositories } = yield* gitServices(join(yield* tempDir(), "home"))
      const read = (path: string, max = 1000) =>
        repositories.readCommittedFile(repo, "refs/heads/main", path, max)
      mkdirSync(join(repo, ".spindle"))
      symlinkSync("/etc/passwd", join(repo, SETUP))
      mkdirSync(join(repo, ".spindle", "folder"))
      writeFileSync(join(repo, ".spindle", "folder", "x"), "x")
      writeFileSync(join(repo, ".spindle", "big.sh"), "x".repeat(2000))
      git(repo, "add", ".spindle")
      const head = git(repo, "rev-parse", "HEAD").trim()
      git(repo, "update-index", "--add", "--cacheinfo", `160000,${head},.spindle/module`)
      git(repo, "commit", "--quiet", "-m", "odd entries")
      const link = yield* read(SETUP)
      assert.strictEqual(link?._tag, "refused")
      assert.include(link?._tag === "refused" ? link.message : "", "symbolic link")
      assert.strictEqual((yield* read(".spindle/folder"))?._tag, "refused")
      assert.strictEqual((yield* read(".spindle/module"))?._tag, "refused")
      const big = yield* read(".spindle/big.sh")
      assert.include(big?._tag === "refused" ? big.message : "", "over the 1000-byte limit")
      assert.strictEqual((yield* read(".spindle/big.sh", 5000))?._tag, "file")
      assert.strictEqual((yield* read("../outside"))?._tag, "refused")
    })
  )
})
