// Creates (from a checked plan: a checkout with parallel workers, or a warm pool slot moved into
// place), adopts and removes the worktrees threads work in. Metadata changes go through the
// repository's lock (RepoLocks); copying `.worktreeinclude` files runs outside it. A failed
// create leaves no branch or directory behind; remove never deletes work that is not elsewhere.
import { existsSync, rmSync } from "node:fs"
import { realpath } from "node:fs/promises"
import { join } from "node:path"
import { randomHex } from "@spindle/shared/random"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { ServerConfig } from "../config/ServerConfig.ts"
import { type AdoptionRoots, confirmAdoptable } from "./adoptionCheck.ts"
import { commitArg } from "./baseRefs.ts"
import { makeCheckoutConfig } from "./checkoutWorkers.ts"
import { GitCli, type TrackedGit } from "./GitCli.ts"
import { GitError } from "./GitError.ts"
import { RepoLocks, retryTransient } from "./RepoLocks.ts"
import { Repositories, type ResolvedBase } from "./Repositories.ts"
import { initAllowedSubmodules } from "./submodules.ts"
import { moveWorktree, pointHeadAt } from "./worktreeFiles.ts"
import { copyIncludedFiles } from "./worktreeInclude.ts"
import { choosePath } from "./worktreePath.ts"

export interface CreateOptions {
  readonly repo: string
  /** Names the folder under `<home>/worktrees/` (a project id or title). */
  readonly projectKey: string
  /** The new branch; `spindle/<8 hex>` when absent. */
  readonly branch?: string
  /** The ref to branch from; the repository's default branch when absent. */
  readonly base?: string
  /** Fetch the base from origin first (bounded; falls back to the local ref with a warning). */
  readonly fetchBase?: boolean
  readonly initSubmodules?: boolean
  /** The submodule URLs the user allowed; submodules with any other URL are not initialised. */
  readonly submoduleUrls?: ReadonlyArray<string>
  /** Run the repository's hooks on the checkout (the project turned them on). */
  readonly gitHooks?: boolean
  readonly onPlanned?: WorktreePlan["onPlanned"]
}

/**
 * A worktree to create, everything about it already checked once (the bootstrap's plan, or
 * `Worktrees.plan`): `createPlanned` asks git nothing again.
 */
export interface WorktreePlan {
  /** The repository's top level. */
  readonly repo: string
  readonly projectKey: string
  /** A valid branch name that did not exist when checked (git refuses it if it appeared since). */
  readonly branch: string
  readonly base: ResolvedBase
  readonly initSubmodules?: boolean
  /** The submodule URLs the user allowed (Project.submoduleUrls); others are skipped with a warning. */
  readonly submoduleUrls?: ReadonlyArray<string>
  /** The command that records the allowed URLs again, named in a skipped submodule's warning. */
  readonly refreshSubmodules?: string
  /**
   * Run the repository's hooks on the checkout (the project turned them on); a pool slot, checked
   * out before, would skip them, so none is claimed.
   */
  readonly gitHooks?: boolean
  /**
   * Called under the repository's lock once the branch and path are chosen, before git creates
   * anything: the moment to journal them, so a rollback knows exactly what this create made.
   */
  readonly onPlanned?: (planned: { readonly branch: string; readonly path: string }) => Effect.Effect<void>
  /** The `git worktree add` a crash could orphan: its process group, to journal (GitCli `tracked`). */
  readonly tracked?: TrackedGit
  /**
   * Called under the repository's lock: a checked, detached worktree at `base.sha` (a warm pool
   * slot) to move into place instead of a checkout, or undefined for a checkout.
   */
  readonly claimSlot?: Effect.Effect<string | undefined>
}

export interface PreparedWorktree {
  readonly worktreePath: string
  /** null on a detached HEAD (adopted worktrees only). */
  readonly branch: string | null
  readonly baseBranch: string | null
  readonly createdByUs: boolean
  readonly warnings: ReadonlyArray<string>
}

export interface RemoveOptions {
  readonly repo: string
  readonly worktreePath: string
  readonly branch: string | null
  /** Delete the branch too, if it holds nothing that is not on another branch. */
  readonly deleteBranch: boolean
  /** Remove even with uncommitted changes or commits found nowhere else (the branch is then kept). */
  readonly force?: boolean
  /** Commits whose history counts as held elsewhere (Inspection.held). */
  readonly held?: ReadonlyArray<string>
  /** The `git worktree remove` a crash could orphan: its process group, to journal (GitCli `tracked`). */
  readonly tracked?: TrackedGit
}

const realPath = (path: string) => Effect.promise(() => realpath(path).catch(() => path))

export class Worktrees extends Context.Service<
  Worktrees,
  {
    /** Checks a create once (repository, base, branch) and answers what `createPlanned` needs. */
    readonly plan: (options: CreateOptions) => Effect.Effect<WorktreePlan, GitError>
    /** Creates the planned worktree (from a pool slot when `claimSlot` gives one, else a checkout). */
    readonly createPlanned: (plan: WorktreePlan) => Effect.Effect<PreparedWorktree, GitError>
    /** `plan`, then `createPlanned`. */
    readonly create: (options: CreateOptions) => Effect.Effect<PreparedWorktree, GitError>
    /**
     * Checks that `path` is a linked worktree of `repo` that may be adopted (under an allowed
     * root, not the pool or Spindle's home, registered from both sides) and reads its branch.
     */
    readonly adopt: (repo: string, path: string) => Effect.Effect<PreparedWorktree, GitError>
    readonly remove: (options: RemoveOptions) => Effect.Effect<{ readonly branchDeleted: boolean }, GitError>
    /** Deletes a branch no worktree has checked out, only if all its commits are on another ref. */
    readonly deleteBranch: (repo: string, branch: string) => Effect.Effect<boolean, GitError>
    /** `git worktree prune`: forgets worktrees whose directory is gone, nothing else. */
    readonly pruneMissing: (repo: string) => Effect.Effect<void, GitError>
    /** Forces away worktrees Spindle made that hold nothing of anyone's (the caller holds the repository's lock). */
    readonly discardMade: (repo: string, paths: ReadonlyArray<string>, branch?: string) => Effect.Effect<void>
    /** `-c checkout.workers=<cores>` for git commands that check files out, unless the user's config sets it. */
    readonly checkoutConfig: (repo: string) => Effect.Effect<Readonly<Record<string, string>>>
    /** Where new worktrees go: `<home>/worktrees`. */
    readonly root: string
  }
>()("spindle/git/Worktrees") {
  static readonly layer = Layer.effect(
    Worktrees,
    Effect.gen(function* () {
      const git = yield* GitCli
      const repositories = yield* Repositories
      const locks = yield* RepoLocks
      const config = yield* ServerConfig
      const worktreesRoot = join(config.home, "worktrees")
      const adoptionRoots: AdoptionRoots = {
        home: config.home,
        worktreesRoot,
        // The pool's folder (pool/WorktreePool.ts POOL_DIR; pool/ sits above git/).
        poolRoot: join(worktreesRoot, ".pool"),
        extraRoots: config.worktreeRoots ?? []
      }

      const chooseBranch = Effect.fn("Worktrees.chooseBranch")(function* (repo: string, requested?: string) {
        if (requested !== undefined) {
          yield* repositories.checkBranchName(repo, requested)
          if (yield* repositories.branchExists(repo, requested)) {
            const holder = (yield* repositories.listWorktrees(repo)).find((w) => w.branch === requested)
            return yield* holder === undefined
              ? new GitError({
                  reason: "branch-exists",
                  message: `Branch ${requested} already exists. Choose another branch name, or adopt its worktree with mode existing_worktree.`
                })
              : new GitError({
                  reason: "branch-checked-out",
                  path: holder.path,
                  message: `Branch ${requested} is already checked out in ${holder.path}. Use that worktree (mode existing_worktree) or choose another branch name.`
                })
          }
          return requested
        }
        // 32 random bits: not asked of git (which refuses the branch in the unlikely case it exists).
        return `spindle/${yield* randomHex(4)}`
      })

      const plan = Effect.fn("Worktrees.plan")(function* (options: CreateOptions) {
        const repo = yield* repositories.root(options.repo)
        // Asked only when the base cannot be found, to say why: an empty repository.
        const noCommits = Effect.gen(function* () {
          if (yield* repositories.hasCommits(repo)) return undefined
          return new GitError({
            reason: "no-commits",
            path: repo,
            message: `The repository ${repo} has no commits yet, so there is nothing to branch from. Make a first commit, then retry.`
          })
        })
        const baseName = options.base ?? (yield* repositories.defaultBranch(repo))
        if (baseName === undefined) {
          return yield* (yield* noCommits) ??
            new GitError({
              reason: "base-not-found",
              path: repo,
              message: `Could not tell the default branch of ${repo} (detached HEAD, no main or master). Pass a base branch.`
            })
        }
        const base = yield* repositories
          .resolveBase(repo, baseName, {
            fetch: options.fetchBase === true,
            branch: options.base === undefined
          })
          .pipe(Effect.catch((error) => Effect.flatMap(noCommits, (empty) => Effect.fail(empty ?? error))))
        return {
          repo,
          projectKey: options.projectKey,
          branch: yield* chooseBranch(repo, options.branch),
          base,
          ...(options.initSubmodules === undefined ? {} : { initSubmodules: options.initSubmodules }),
          ...(options.submoduleUrls === undefined ? {} : { submoduleUrls: options.submoduleUrls }),
          ...(options.gitHooks === undefined ? {} : { gitHooks: options.gitHooks }),
          ...(options.onPlanned === undefined ? {} : { onPlanned: options.onPlanned })
        } satisfies WorktreePlan
      })

      const checkoutConfig = makeCheckoutConfig(git)

      /**
       * Forces away worktrees Spindle just made that hold nothing of anyone's (a failed create, a
       * pool slot), forgets them in git, and deletes `branch` when given and present. The caller
       * holds the repository's lock.
       */
      const discardMade = (repo: string, paths: ReadonlyArray<string>, branch?: string) =>
        Effect.gen(function* () {
          for (const path of paths) {
            if (!existsSync(path)) continue
            // Twice: a checkout killed mid-way is still locked ("initializing").
            yield* git.run(["worktree", "remove", "--force", "--force", "--", path], { cwd: repo })
            rmSync(path, { recursive: true, force: true })
          }
          yield* git.run(["worktree", "prune"], { cwd: repo })
          if (branch !== undefined && (yield* repositories.branchExists(repo, branch))) {
            yield* git.run(["branch", "-D", "--", branch], { cwd: repo })
          }
        }).pipe(Effect.ignore({ log: "Warn", message: "Could not clean up after a failed worktree add" }))

      /** A slot moved to `path` and given the branch; false (slot discarded) when that failed. */
      const placeSlot = (repo: string, slot: string, path: string, branch: string, sha: string) =>
        Effect.gen(function* () {
          // On git's files where that is plain (worktreeFiles.ts), else by git.
          if (!(yield* Effect.try(() => moveWorktree(slot, path)))) {
            yield* git.runOk(["worktree", "move", "--", slot, path], { cwd: repo })
          }
          // What `git worktree add -b` does before its checkout, which the slot already has: the
          // branch at the slot's commit, then the slot's HEAD on it (the index is not touched).
          yield* git.runOk(["branch", "--no-track", "--", branch, commitArg(sha)], { cwd: repo })
          if (!(yield* Effect.try(() => pointHeadAt(path, branch)))) {
            yield* git.runOk(["symbolic-ref", "HEAD", `refs/heads/${branch}`], {
              cwd: path,
              worktreeOf: repo
            })
          }
          return true
        }).pipe(Effect.catch(() => Effect.as(discardMade(repo, [slot, path], branch), false)))

      const createPlanned = Effect.fn("Worktrees.createPlanned")(function* (planned: WorktreePlan) {
        const { repo, branch, base } = planned
        const warnings = [...base.warnings]
        const config = yield* checkoutConfig(repo)

        const added = yield* locks.withLock(
          repo,
          Effect.gen(function* () {
            const path = yield* choosePath(worktreesRoot, repo, planned.projectKey, branch)
            if (planned.onPlanned !== undefined) yield* planned.onPlanned({ branch, path })
            const hooks = planned.gitHooks === true
            const slot = planned.claimSlot === undefined || hooks ? undefined : yield* planned.claimSlot
            if (slot !== undefined && (yield* placeSlot(repo, slot, path, branch, base.sha))) {
              return { branch, path }
            }
            let refused = false
            // Undo a failed attempt completely, so a retry (or the caller) starts clean; a branch
            // git refused because it exists was not made by us and stays.
            const cleanup = Effect.suspend(() => discardMade(repo, [path], refused ? undefined : branch))
            yield* retryTransient(
              git
                // By its commit, never a bare id: git's branch creation reads a ref named like the
                // id (`refs/heads/<sha>`, which anyone can make) before the object.
                .runOk(["worktree", "add", "--no-track", "-b", branch, "--", path, commitArg(base.sha)], {
                  cwd: repo,
                  config,
                  hooks,
                  ...(planned.tracked === undefined ? {} : { tracked: planned.tracked })
                })
                .pipe(
                  Effect.mapError((error) => {
                    if (!/already exists/.test(error.stderr ?? "") || existsSync(path)) return error
                    refused = true
                    return new GitError({
                      reason: "branch-exists",
                      message: `Branch ${branch} already exists (it was made while this thread started). Choose another branch name.`
                    })
                  })
                ),
              cleanup
            )
            return { branch, path }
          })
        )

        const included = yield* copyIncludedFiles(git, repo, added.path)
        warnings.push(...included.warnings)
        if (planned.initSubmodules === true) {
          const submodules = yield* initAllowedSubmodules(
            git,
            {
              repo,
              worktree: added.path,
              sha: base.sha,
              allowedUrls: planned.submoduleUrls ?? [],
              refresh: planned.refreshSubmodules ?? "spindle project update <project> --init-submodules on",
              hooks: planned.gitHooks === true,
              config
            },
            (effect) => locks.withLock(repo, effect)
          )
          warnings.push(...submodules)
        }
        return {
          worktreePath: added.path,
          branch: added.branch,
          baseBranch: base.name,
          createdByUs: true,
          warnings
        } satisfies PreparedWorktree
      })

      const create = (options: CreateOptions) => Effect.flatMap(plan(options), createPlanned)

      const adopt = Effect.fn("Worktrees.adopt")(function* (repoPath: string, path: string) {
        const repo = yield* repositories.root(repoPath)
        const wanted = yield* realPath(path)
        const entries = yield* repositories.listWorktrees(repo)
        const resolved = yield* Effect.forEach(entries, (entry) =>
          Effect.map(realPath(entry.path), (real) => ({ ...entry, real }))
        )
        const match = resolved.find((entry) => entry.real === wanted && !entry.bare)
        if (match === undefined) {
          return yield* new GitError({
            reason: "not-a-worktree",
            path,
            message: `${path} is not a worktree of ${repo}. List them with 'git -C ${repo} worktree list', or use mode new_worktree.`
          })
        }
        if (match === resolved[0]) {
          return yield* new GitError({
            reason: "not-a-worktree",
            path,
            message: `${path} is the repository's main checkout, not a linked worktree. Use mode current_checkout for it.`
          })
        }
        yield* confirmAdoptable(git, adoptionRoots, repo, match.real, path)
        const warnings =
          match.branch === null
            ? [`${match.real} has a detached HEAD; commits made there belong to no branch.`]
            : []
        return {
          worktreePath: match.real,
          branch: match.branch,
          baseBranch: null,
          createdByUs: false,
          warnings
        } satisfies PreparedWorktree
      })

      const remove = Effect.fn("Worktrees.remove")(function* (options: RemoveOptions) {
        const repo = yield* repositories.root(options.repo)
        const path = yield* realPath(options.worktreePath)
        const force = options.force === true
        const present = existsSync(path)
        if (present && !force) {
          const status = yield* repositories.status(path, undefined, repo)
          if (status.changedFiles > 0) {
            return yield* new GitError({
              reason: "dirty",
              path,
              message: `${path} has ${status.changedFiles} uncommitted change(s). Commit or stash them, or remove it with force.`
            })
          }
        }
        const branch = options.branch
        const unique =
          branch !== null && (yield* repositories.branchExists(repo, branch))
            ? yield* repositories.uniqueCommits(repo, branch, options.held)
            : 0
        if (unique > 0 && !force) {
          return yield* new GitError({
            reason: "dirty",
            path,
            message: `Branch ${branch} has ${unique} commit(s) that are on no other branch. Push or merge them first, or remove the worktree with force (the branch is then kept).`
          })
        }
        return yield* locks.withLock(
          repo,
          Effect.gen(function* () {
            if (present) {
              yield* retryTransient(
                git.runOk(["worktree", "remove", ...(force ? ["--force"] : []), "--", path], {
                  cwd: repo,
                  ...(options.tracked === undefined ? {} : { tracked: options.tracked })
                })
              )
            }
            yield* git.runOk(["worktree", "prune"], { cwd: repo })
            const deletable = branch !== null && options.deleteBranch && unique === 0
            if (deletable && (yield* repositories.branchExists(repo, branch))) {
              yield* retryTransient(git.runOk(["branch", "-D", "--", branch], { cwd: repo }))
              return { branchDeleted: true }
            }
            return { branchDeleted: false }
          })
        )
      })

      const pruneMissing = Effect.fn("Worktrees.pruneMissing")(function* (repo: string) {
        const root = yield* repositories.root(repo)
        yield* locks.withLock(root, retryTransient(git.runOk(["worktree", "prune"], { cwd: root })))
      })

      const deleteBranch = Effect.fn("Worktrees.deleteBranch")(function* (repoPath: string, branch: string) {
        const repo = yield* repositories.root(repoPath)
        if (!(yield* repositories.branchExists(repo, branch))) return false
        if ((yield* repositories.uniqueCommits(repo, branch)) > 0) return false
        yield* locks.withLock(repo, retryTransient(git.runOk(["branch", "-D", "--", branch], { cwd: repo })))
        return true
      })

      return {
        plan,
        createPlanned,
        create,
        adopt,
        remove,
        deleteBranch,
        pruneMissing,
        discardMade,
        checkoutConfig,
        root: worktreesRoot
      }
    })
  )
}
