// Whether a folder about to become a project is a repository Spindle already knows: a project is
// one repository, so a linked worktree of a registered repository (one of Spindle's own under its
// worktrees root in particular), or the main checkout of a repository registered through one of
// its worktrees, is refused naming the project it belongs to. Repositories are compared by their
// git common dir, which every worktree of one repository shares.
import { realpath } from "node:fs/promises"
import { sep } from "node:path"
import { type Project, SpindleError } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import type { GitCli } from "../git/GitCli.ts"

const realPath = (path: string) => Effect.promise(() => realpath(path).catch(() => path))

const inside = (root: string, path: string) => path === root || path.startsWith(root + sep)

/** The real path of the git common dir of the repository at `path`; undefined when git cannot say. */
const commonDirOf = (git: GitCli["Service"], path: string) =>
  git.run(["rev-parse", "--path-format=absolute", "--git-common-dir"], { cwd: path }).pipe(
    Effect.flatMap((result) => {
      const dir = result.stdout.trim()
      return result.exitCode === 0 && dir !== "" ? realPath(dir) : Effect.succeed(undefined)
    }),
    Effect.orElseSucceed(() => undefined)
  )

/**
 * Fails with `conflict` (naming the project) or `validation` (a repository with no commit, or
 * inside Spindle's worktrees) when `root` must not be a new project.
 */
export const checkNewProjectRoot = Effect.fn("Commands.checkNewProjectRoot")(function* (
  git: GitCli["Service"],
  worktreesRoot: string,
  root: string,
  projects: Iterable<Project>
) {
  const common = yield* commonDirOf(git, root)
  if (common !== undefined) {
    for (const project of projects) {
      // The same folder is the decider's to refuse, with its own message.
      if (project.workspaceRoot === root) continue
      if ((yield* commonDirOf(git, project.workspaceRoot)) !== common) continue
      return yield* new SpindleError({
        reason: "conflict",
        projectId: project.id,
        path: root,
        message:
          `${root} is a worktree of the same repository as project ${project.id} (${project.workspaceRoot}); ` +
          `a repository is one project. Use project ${project.id}: its threads each get a worktree of their own.`
      })
    }
  }
  // A thread's worktree starts from a commit: a repository with none could start no thread.
  const head = yield* git
    .run(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], { cwd: root })
    .pipe(Effect.orElseSucceed(() => undefined))
  if (head !== undefined && head.exitCode !== 0 && common !== undefined) {
    return yield* new SpindleError({
      reason: "validation",
      field: "workspaceRoot",
      path: root,
      message: `${root} has no commit yet, and a thread's worktree starts from one. Make a first commit (git -C '${root}' commit --allow-empty -m 'First commit'), then add the project again.`
    })
  }
  const spindleWorktrees = yield* realPath(worktreesRoot)
  if (inside(spindleWorktrees, root)) {
    return yield* new SpindleError({
      reason: "validation",
      field: "workspaceRoot",
      path: root,
      message: `${root} is inside Spindle's own worktrees folder (${spindleWorktrees}), where threads' worktrees live. Register the repository it was made from instead.`
    })
  }
})
