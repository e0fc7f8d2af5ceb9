// Worktrees.adopt against forged registrations, the warm pool, Spindle's home and folders outside
// the allowed roots, with real repositories whose checkout's parent is a temp dir of their own.
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import type { ServerSettings } from "../config/ServerConfig.ts"
import { git, initRepo, tempDir } from "../testing/fixtures.ts"
import { gitServices } from "../testing/git.ts"

/** `<dir>/repo` (so the checkout's parent is `<dir>`), a home elsewhere, and the git services. */
const setup = (settings?: Partial<ServerSettings>) =>
  Effect.gen(function* () {
    const dir = yield* tempDir()
    const repo = initRepo(join(dir, "repo"))
    const home = join(yield* tempDir(), "home")
    const services = yield* gitServices(home, undefined, settings)
    return { dir, repo, home, ...services }
  })

/** Writes `.git/worktrees/<name>` by hand, as an agent with write access to `.git` could. */
const forgeRegistration = (repo: string, name: string, target: string) => {
  const admin = join(repo, ".git", "worktrees", name)
  mkdirSync(admin, { recursive: true })
  writeFileSync(join(admin, "gitdir"), `${join(target, ".git")}\n`)
  writeFileSync(join(admin, "commondir"), "../..\n")
  writeFileSync(join(admin, "HEAD"), `${git(repo, "rev-parse", "HEAD").trim()}\n`)
  return admin
}

describe("Worktrees.adopt: where a worktree may be adopted from", () => {
  it.live("adopts a real worktree under the checkout's parent", () =>
    Effect.gen(function* () {
      const { dir, repo, worktrees } = yield* setup()
      const path = join(dir, "feature")
      git(repo, "worktree", "add", "--quiet", "-b", "feature", path)
      const adopted = yield* worktrees.adopt(repo, path)
      assert.strictEqual(adopted.worktreePath, path)
      assert.strictEqual(adopted.branch, "feature")
    })
  )

  it.live("refuses a forged registration of a folder outside the roots (git lists it)", () =>
    Effect.gen(function* () {
      const { repo, worktrees } = yield* setup()
      const outside = yield* tempDir()
      writeFileSync(join(outside, "passwd"), "root:x:0:0\n")
      forgeRegistration(repo, "etc", outside)
      assert.include(git(repo, "worktree", "list", "--porcelain"), `worktree ${outside}\n`)
      const refused = yield* Effect.flip(worktrees.adopt(repo, outside))
      assert.strictEqual(refused.reason, "worktree-not-allowed")
      assert.include(refused.message, "--worktree-root")
    })
  )

  it.live("refuses a forged registration under the roots that the folder does not confirm", () =>
    Effect.gen(function* () {
      const { dir, repo, worktrees } = yield* setup()
      // A plain folder next to the checkout, and one whose .git names another worktree's entry.
      const plain = join(dir, "notes")
      mkdirSync(plain)
      forgeRegistration(repo, "notes", plain)
      const real = join(dir, "real")
      git(repo, "worktree", "add", "--quiet", "-b", "real", real)
      const borrowed = join(dir, "borrowed")
      mkdirSync(borrowed)
      writeFileSync(join(borrowed, ".git"), `gitdir: ${join(repo, ".git", "worktrees", "real")}\n`)
      forgeRegistration(repo, "borrowed", borrowed)
      for (const path of [plain, borrowed]) {
        const refused = yield* Effect.flip(worktrees.adopt(repo, path))
        assert.strictEqual(refused.reason, "worktree-unconfirmed", path)
      }
      // The real one still is.
      assert.strictEqual((yield* worktrees.adopt(repo, real)).branch, "real")
    })
  )

  it.live("refuses a warm pool slot and a folder in Spindle's home outside its worktrees", () =>
    Effect.gen(function* () {
      const { repo, home, worktrees } = yield* setup()
      const slot = join(home, "worktrees", ".pool", "p", "a1b2c3d4")
      git(repo, "worktree", "add", "--quiet", "--detach", slot)
      const pooled = yield* Effect.flip(worktrees.adopt(repo, slot))
      assert.strictEqual(pooled.reason, "worktree-not-allowed")
      assert.include(pooled.message, "pool")
      const inHome = join(home, "logs-wt")
      git(repo, "worktree", "add", "--quiet", "--detach", inHome)
      assert.strictEqual((yield* Effect.flip(worktrees.adopt(repo, inHome))).reason, "worktree-not-allowed")
    })
  )

  it.live("refuses a real worktree outside the roots until the server's settings add its folder", () =>
    Effect.gen(function* () {
      const elsewhere = yield* tempDir()
      const path = join(elsewhere, "wt")
      const narrow = yield* setup()
      git(narrow.repo, "worktree", "add", "--quiet", "-b", "far", path)
      const refused = yield* Effect.flip(narrow.worktrees.adopt(narrow.repo, path))
      assert.strictEqual(refused.reason, "worktree-not-allowed")
      assert.include(refused.message, narrow.dir)

      const wide = yield* setup({ worktreeRoots: [elsewhere] })
      const other = join(elsewhere, "wt2")
      git(wide.repo, "worktree", "add", "--quiet", "-b", "far", other)
      assert.strictEqual((yield* wide.worktrees.adopt(wide.repo, other)).worktreePath, other)
    })
  )
})
