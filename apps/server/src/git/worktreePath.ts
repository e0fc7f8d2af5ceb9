// Where a new worktree goes: `<home>/worktrees/<project>/<branch>`, a free name, never inside the
// repository it belongs to.
import { existsSync } from "node:fs"
import { mkdir, realpath } from "node:fs/promises"
import { join, sep } from "node:path"
import { slugify } from "@spindle/shared/slug"
import * as Effect from "effect/Effect"
import { GitError } from "./GitError.ts"

const inside = (root: string, path: string) => path === root || path.startsWith(root + sep)

/** `<root>/<project>/<branch>`, with `-2`, `-3`… when taken; never inside the repository. */
export const choosePath = Effect.fn("Worktrees.choosePath")(function* (
  worktreesRoot: string,
  repo: string,
  projectKey: string,
  branch: string
) {
  const parent = join(worktreesRoot, slugify(projectKey))
  yield* Effect.tryPromise({
    try: () => mkdir(parent, { recursive: true, mode: 0o700 }),
    catch: (error) =>
      new GitError({
        reason: "command-failed",
        path: parent,
        message: `Could not create the worktrees folder ${parent}: ${(error as Error).message}. Check its permissions and free space, or start the server with another --home.`
      })
  })
  const realParent = yield* Effect.promise(() => realpath(parent).catch(() => parent))
  if (inside(repo, realParent)) {
    return yield* new GitError({
      reason: "path-exists",
      path: realParent,
      message: `Worktrees would be created in ${realParent}, inside the repository ${repo}. Start the server with a --home outside the repository.`
    })
  }
  const base = slugify(branch)
  for (let n = 1; n < 1_000; n++) {
    const candidate = join(realParent, n === 1 ? base : `${base}-${n}`)
    if (!existsSync(candidate)) return candidate
  }
  return yield* new GitError({
    reason: "path-exists",
    path: join(realParent, base),
    message: `Too many worktrees named ${base} in ${realParent}. Remove old ones or choose another branch name.`
  })
})
