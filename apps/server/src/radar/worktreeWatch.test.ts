// The radar's worktree watch on real file-system events: a write in a nested folder is heard, a
// folder made later is watched too, `.git`, ignored folders and a symbolic link out of the
// worktree are not watched, past the folder limit the watch gives up, and close releases it.
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { tempDir } from "../testing/fixtures.ts"
import { watchWorktree } from "./worktreeWatch.ts"

/** Resolves when `check` holds, checked after each change the watch reports; bounded. */
const changes = () => {
  let seen = 0
  const waiting = new Set<() => void>()
  return {
    onChange: () => {
      seen++
      for (const wake of waiting) wake()
    },
    count: () => seen,
    until: (check: () => boolean) =>
      Effect.promise(
        () =>
          new Promise<void>((resolve) => {
            const wake = () => {
              if (check()) {
                waiting.delete(wake)
                resolve()
              }
            }
            waiting.add(wake)
            wake()
          })
      ).pipe(Effect.timeout("10 seconds"), Effect.orDie)
  }
}

describe("watchWorktree", () => {
  it.live("hears nested writes and new folders; skips .git, ignored folders and links out", () =>
    Effect.gen(function* () {
      const root = yield* tempDir()
      const worktree = join(root, "wt")
      const outside = join(root, "outside")
      for (const dir of ["a/b", ".git/objects", "node_modules/pkg/lib", "build"]) {
        mkdirSync(join(worktree, dir), { recursive: true })
      }
      mkdirSync(join(outside, "x/y/z"), { recursive: true })
      symlinkSync(outside, join(worktree, "link"))
      const heard = changes()
      const watch = yield* Effect.promise(() =>
        watchWorktree(worktree, {
          repo: root,
          ignored: new Set(["node_modules", "build"]),
          maxFolders: 100,
          onChange: heard.onChange,
          onOverflow: () => assert.fail("no overflow expected")
        })
      )
      yield* Effect.addFinalizer(() => Effect.sync(watch.close))
      // The worktree, a and a/b: not .git, node_modules, build, nor anything behind the link.
      assert.strictEqual(watch.folders(), 3)

      writeFileSync(join(worktree, "a/b/file.txt"), "x\n")
      yield* heard.until(() => heard.count() > 0)

      mkdirSync(join(worktree, "later"))
      yield* heard.until(() => watch.folders() === 4)
      const before = heard.count()
      writeFileSync(join(worktree, "later/file.txt"), "y\n")
      yield* heard.until(() => heard.count() > before)
      assert.strictEqual(watch.folders(), 4, "the link's folders stay unwatched")
    })
  )

  it.live("gives up past the folder limit", () =>
    Effect.gen(function* () {
      const worktree = yield* tempDir()
      for (const dir of ["a", "b", "c"]) mkdirSync(join(worktree, dir))
      let why: string | undefined
      const watch = yield* Effect.promise(() =>
        watchWorktree(worktree, {
          repo: worktree,
          ignored: new Set(),
          maxFolders: 2,
          onChange: () => {},
          onOverflow: (reason) => {
            why = reason
          }
        })
      )
      assert.strictEqual(why, "more than 2 folders")
      assert.strictEqual(watch.folders(), 0)
    })
  )
})
