// A slot's watch sees every kind of change that would make the slot differ from its check, and
// stays quiet while nothing happens (including a read-only `git status`).
import { appendFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { git, gitRepo, tempDir } from "../testing/fixtures.ts"
import { settleWatches, watchSlot } from "./slotWatch.ts"

const changes: Record<string, (slot: string) => void> = {
  "a file's content": (slot) => appendFileSync(join(slot, "README.md"), "more\n"),
  "a new file in a new nested folder": (slot) => {
    mkdirSync(join(slot, "a", "b"), { recursive: true })
    writeFileSync(join(slot, "a", "b", "c.txt"), "x\n")
  },
  "a file deleted": (slot) => rmSync(join(slot, "src", "main.ts")),
  "a file renamed": (slot) => renameSync(join(slot, "src", "main.ts"), join(slot, "src", "moved.ts")),
  "the index (a staged removal)": (slot) => git(slot, "rm", "--quiet", "--cached", "README.md"),
  "HEAD (a branch checked out)": (slot) => git(slot, "switch", "--quiet", "-c", "elsewhere")
}

const slotOf = Effect.gen(function* () {
  const repo = yield* gitRepo
  mkdirSync(join(repo, "src"))
  writeFileSync(join(repo, "src", "main.ts"), "export {}\n")
  git(repo, "add", "src")
  git(repo, "commit", "--quiet", "-m", "src")
  const slot = join(yield* tempDir(), "slot")
  git(repo, "worktree", "add", "--quiet", "--detach", slot, "main")
  return slot
})

describe("watchSlot", () => {
  for (const [what, change] of Object.entries(changes)) {
    it.live(`sees ${what}`, () =>
      Effect.gen(function* () {
        const slot = yield* slotOf
        const watch = yield* Effect.promise(() => watchSlot(slot))
        assert.isDefined(watch)
        yield* Effect.promise(settleWatches)
        assert.isFalse(watch!.touched())
        change(slot)
        yield* Effect.promise(settleWatches)
        assert.isTrue(watch!.touched())
        watch!.close()
      })
    )
  }

  it.live("stays quiet through a read-only status, and does not watch a slot over its folder limit", () =>
    Effect.gen(function* () {
      const slot = yield* slotOf
      const watch = yield* Effect.promise(() => watchSlot(slot))
      git(slot, "--no-optional-locks", "status", "--porcelain")
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 50)))
      assert.isFalse(watch!.touched())
      watch!.close()
      assert.isTrue(watch!.touched())
      assert.isUndefined(yield* Effect.promise(() => watchSlot(slot, 1)))
    })
  )
})
