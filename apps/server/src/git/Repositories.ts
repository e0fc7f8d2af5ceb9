// Read-only questions about a repository: where its root is, whether it has commits, which
// branch is its default, what a base ref resolves to (optionally fetching it first), which
// worktrees it has and how one of them stands, what a file holds as committed on a ref. Only the
// bounded fetch changes anything, and a worktree's snapshot, which writes objects but no ref.
import { existsSync } from "node:fs"
import { realpath } from "node:fs/promises"
import { dirname, sep } from "node:path"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { makeIsAncestor } from "./ancestry.ts"
import { type BaseOptions, commitArg, commitOf, type ResolvedBase, resolveBase } from "./baseRefs.ts"
import { checkBranchName } from "./branchNames.ts"
import { GitCli } from "./GitCli.ts"
import { GitError } from "./GitError.ts"
import { parseStatusV2, parseWorktreeList, type StatusSummary, type WorktreeEntry } from "./porcelain.ts"
import { fetchPullRequest } from "./pullRequests.ts"
import { RepoLocks } from "./RepoLocks.ts"
import { readBranchCommit } from "./refFiles.ts"
import { type SnapshotOptions, snapshotWorktree, type WorktreeSnapshot } from "./worktreeSnapshot.ts"

export { FETCH_TIMEOUT, type ResolvedBase } from "./baseRefs.ts"

export interface WorktreeStatus extends StatusSummary {
  /** Commits on HEAD not on the base, and on the base not on HEAD; null without a base. */
  readonly ahead: number | null
  readonly behind: number | null
}

/** What `readCommittedFile` found: a regular file's content, or why the entry is not read. */
export type CommittedFile =
  | {
      readonly _tag: "file"
      readonly content: string
      readonly mode: "100644" | "100755"
      readonly oid: string
    }
  | { readonly _tag: "refused"; readonly message: string }

/** `ls-tree -l -z` entries: `<mode> <type> <oid> <size>\t<name>`. */
const parseTreeEntries = (output: string) =>
  output
    .split("\0")
    .filter((entry) => entry !== "")
    .flatMap((entry) => {
      const tab = entry.indexOf("\t")
      const [mode, type, oid, size] = entry.slice(0, tab).trim().split(/\s+/)
      return tab < 0 || mode === undefined || type === undefined || oid === undefined
        ? []
        : [
            {
              mode,
              type,
              oid,
              size: size === "-" || size === undefined ? null : Number(size),
              name: entry.slice(tab + 1)
            }
          ]
    })

const realPath = (path: string) => Effect.promise(() => realpath(path).catch(() => path))

/**
 * git status with its optional lock: it writes back the file times it had to refresh. Without it
 * (Spindle's default, so a background look never holds a lock someone else needs), a checkout made
 * within the second of its index reads every such file again on each look.
 */
const REFRESH_INDEX = { GIT_OPTIONAL_LOCKS: "1" }

export class Repositories extends Context.Service<
  Repositories,
  {
    /** The real path of the top level of the repository containing `path`. */
    readonly root: (path: string) => Effect.Effect<string, GitError>
    readonly hasCommits: (repo: string) => Effect.Effect<boolean, GitError>
    /** The main checkout of the repository a linked worktree belongs to; null when git cannot say. */
    readonly mainCheckoutOf: (worktree: string) => Effect.Effect<string | null>
    /** origin/HEAD, then a local main/master/init.defaultBranch, then the current branch. */
    readonly defaultBranch: (repo: string) => Effect.Effect<string | undefined, GitError>
    readonly resolveBase: (
      repo: string,
      base: string,
      options?: BaseOptions
    ) => Effect.Effect<ResolvedBase, GitError>
    /** A pull request's head from `origin` (`refs/pull/<n>/head`), as a base to branch from. */
    readonly pullRequest: (repo: string, number: number) => Effect.Effect<ResolvedBase, GitError>
    readonly listWorktrees: (repo: string) => Effect.Effect<ReadonlyArray<WorktreeEntry>, GitError>
    /**
     * With a base, ahead/behind against it as `resolveBase` reads it; `repo`: the repository
     * `worktree` must link into (a thread's worktree), refused otherwise.
     */
    readonly status: (
      worktree: string,
      base?: string,
      repo?: string,
      /**
       * Let git write the index's refreshed file times (its optional lock), so the next look is
       * cheap: only where nobody else is working in the checkout (a merge about to write it).
       */
      options?: { readonly refreshIndex?: boolean }
    ) => Effect.Effect<WorktreeStatus, GitError>
    readonly branchExists: (repo: string, branch: string) => Effect.Effect<boolean, GitError>
    /** `refs/heads/<branch>`'s commit (from the ref files when plain, else git); undefined: no such branch. */
    readonly branchCommit: (repo: string, branch: string) => Effect.Effect<string | undefined, GitError>
    /** Whether object id `ancestor` is in object id `commit`'s history (false when git no longer has it); remembered. */
    readonly isAncestor: (repo: string, ancestor: string, commit: string) => Effect.Effect<boolean, GitError>
    /**
     * A new branch's name: `git check-ref-format --branch`, the contracts' BranchName rules, and
     * no remote's name, existing tag or look-alike of an existing ref (branchNames.ts).
     */
    readonly checkBranchName: (repo: string, branch: string) => Effect.Effect<void, GitError>
    /** Commits reachable from `branch` and from no other branch or remote-tracking ref. */
    readonly uniqueCommits: (
      repo: string,
      branch: string,
      /** Commits whose history counts as held too (a squash or rebase merge's source tip). */
      held?: ReadonlyArray<string>
    ) => Effect.Effect<number, GitError>
    /**
     * A worktree's HEAD and, when asked, a commit of its uncommitted changes on top of it, made
     * without touching its files or index (worktreeSnapshot.ts). Writes objects, no ref.
     */
    readonly snapshotWorktree: (options: SnapshotOptions) => Effect.Effect<WorktreeSnapshot, GitError>
    /**
     * The blob at `path` in the commit `ref` points to, read from git's objects (never from a
     * checkout). Undefined when the ref or the path does not exist; refused when the entry is a
     * symlink, a directory or a submodule, or larger than `maxBytes`.
     */
    readonly readCommittedFile: (
      repo: string,
      ref: string,
      path: string,
      maxBytes: number
    ) => Effect.Effect<CommittedFile | undefined, GitError>
  }
>()("spindle/git/Repositories") {
  static readonly layer = Layer.effect(
    Repositories,
    Effect.gen(function* () {
      const git = yield* GitCli
      const locks = yield* RepoLocks

      const succeeds = (args: ReadonlyArray<string>, cwd: string) =>
        Effect.map(git.run(args, { cwd }), (r) => r.exitCode === 0)
      const firstLine = (args: ReadonlyArray<string>, cwd: string) =>
        Effect.map(git.run(args, { cwd }), (r) =>
          r.exitCode === 0 ? r.stdout.trim() || undefined : undefined
        )

      // A repository's top level does not change while the server runs: asked once per path.
      const roots = new Map<string, string>()
      const root = Effect.fn("Repositories.root")(function* (path: string) {
        const known = roots.get(path)
        if (known !== undefined && existsSync(known)) return known
        const result = yield* git
          .run(["rev-parse", "--show-toplevel"], { cwd: path })
          .pipe(
            Effect.catchTag("GitError", (error) =>
              error.reason === "command-failed"
                ? Effect.succeed({ exitCode: 128, stdout: "", stderr: "" })
                : Effect.fail(error)
            )
          )
        const top = result.stdout.trim()
        if (result.exitCode !== 0 || top === "") {
          return yield* new GitError({
            reason: "not-a-repository",
            path,
            message: `${path} is not inside a git repository (or does not exist). Pass the path of a git repository, or run 'git init' there.`
          })
        }
        const real = yield* realPath(top)
        roots.set(path, real)
        return real
      })

      const mainCheckoutOf = (worktree: string) =>
        git.run(["rev-parse", "--path-format=absolute", "--git-common-dir"], { cwd: worktree }).pipe(
          Effect.map((r) => {
            const common = r.stdout.trim()
            return r.exitCode === 0 && common.endsWith(`${sep}.git`) ? dirname(common) : null
          }),
          Effect.orElseSucceed(() => null)
        )

      const hasCommits = (repo: string) =>
        succeeds(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], repo)

      const branchExists = (repo: string, branch: string) =>
        succeeds(["show-ref", "--verify", "--quiet", `refs/heads/${branch}`], repo)

      const defaultBranch = Effect.fn("Repositories.defaultBranch")(function* (repo: string) {
        // Full names, stripped here: `--short` answers `heads/main` or `remotes/origin/main`
        // when another ref shares the short name.
        const remoteHead = yield* firstLine(["symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"], repo)
        if (remoteHead?.startsWith("refs/remotes/origin/"))
          return remoteHead.slice("refs/remotes/origin/".length)
        const configured = yield* firstLine(["config", "--get", "init.defaultBranch"], repo)
        for (const candidate of ["main", "master", ...(configured ? [configured] : [])]) {
          if (yield* branchExists(repo, candidate)) return candidate
        }
        const head = yield* firstLine(["symbolic-ref", "--quiet", "HEAD"], repo)
        return head?.startsWith("refs/heads/") ? head.slice("refs/heads/".length) : undefined
      })

      const listWorktrees = Effect.fn("Repositories.listWorktrees")(function* (repo: string) {
        const withNul = yield* git.run(["worktree", "list", "--porcelain", "-z"], { cwd: repo })
        if (withNul.exitCode === 0) return parseWorktreeList(withNul.stdout, true)
        // git before 2.36 has no -z here.
        const plain = yield* git.runOk(["worktree", "list", "--porcelain"], { cwd: repo })
        return parseWorktreeList(plain, false)
      })

      const status = Effect.fn("Repositories.status")(function* (
        worktree: string,
        base?: string,
        repo?: string,
        look?: { readonly refreshIndex?: boolean }
      ) {
        const options = {
          cwd: worktree,
          ...(repo === undefined ? {} : { worktreeOf: repo }),
          ...(look?.refreshIndex === true ? { env: REFRESH_INDEX } : {})
        }
        const summary = parseStatusV2(
          yield* git.runOk(
            ["status", "--porcelain=v2", "--branch", "-z", "--untracked-files=normal"],
            options
          )
        )
        if (base === undefined || summary.head === null) return { ...summary, ahead: null, behind: null }
        // The base by the same rules as a start (never a ref that only shares its short name),
        // handed to git as its commit; read in the repository when it is known (refs are shared, and
        // no git runs in the worktree before its link is checked).
        const resolved = yield* resolveBase(git, locks, repo ?? worktree, base)
        const counts = yield* git.runOk(
          ["rev-list", "--left-right", "--count", "--end-of-options", `${commitArg(resolved.sha)}...HEAD`],
          options
        )
        const [behind, ahead] = counts.trim().split(/\s+/).map(Number)
        return { ...summary, ahead: ahead ?? 0, behind: behind ?? 0 }
      })

      const uniqueCommits = Effect.fn("Repositories.uniqueCommits")(function* (
        repo: string,
        branch: string,
        held: ReadonlyArray<string> = []
      ) {
        const out = yield* git.runOk(
          [
            "rev-list",
            "--count",
            `refs/heads/${branch}`,
            "--not",
            // --branches matches short names; branch names cannot hold glob characters.
            `--exclude=${branch}`,
            "--branches",
            "--remotes",
            "--tags",
            ...held
          ],
          { cwd: repo }
        )
        return Number(out.trim())
      })

      const readCommittedFile = Effect.fn("Repositories.readCommittedFile")(function* (
        repo: string,
        ref: string,
        path: string,
        maxBytes: number
      ) {
        const parts = path.split("/")
        if (parts.some((part) => part === "" || part === "." || part === "..")) {
          return { _tag: "refused", message: `${path} is not a plain path inside the repository.` } as const
        }
        // A local branch is read at its commit, found on disk with no process; what a commit holds
        // never changes, so the answer is kept (a start from a pool then costs no git call here).
        const branch = ref.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : undefined
        const sha =
          branch === undefined ? undefined : yield* Effect.sync(() => readBranchCommit(repo, branch))
        const key = sha === undefined ? undefined : `${repo}\0${sha}\0${path}\0${maxBytes}`
        const known = key === undefined ? undefined : committedFiles.get(key)
        if (known !== undefined) return known.value
        const value = yield* readCommittedAt(repo, ref, sha ?? ref, parts, maxBytes)
        if (key !== undefined) {
          if (committedFiles.size >= 256) committedFiles.delete(committedFiles.keys().next().value as string)
          committedFiles.set(key, { value })
        }
        return value
      })

      const committedFiles = new Map<string, { readonly value: CommittedFile | undefined }>()
      const isAncestor = makeIsAncestor(git)

      const readCommittedAt = Effect.fnUntraced(function* (
        repo: string,
        ref: string,
        commitish: string,
        parts: Array<string>,
        maxBytes: number
      ) {
        const path = parts.join("/")
        const name = parts.pop() as string
        // Listing the parent tree of the ref's commit (one git call: a missing ref or folder is
        // an error, read as "no file") and matching the name exactly: no pathspec magic, and a
        // symlinked parent directory is not a tree, so nothing is looked up through it.
        const commit = `${commitish}^{commit}`
        const listed = yield* git.run(
          [
            "ls-tree",
            "-l",
            "-z",
            "--end-of-options",
            parts.length === 0 ? `${commit}^{tree}` : `${commit}:${parts.join("/")}`
          ],
          { cwd: repo }
        )
        if (listed.exitCode !== 0) return undefined
        const entry = parseTreeEntries(listed.stdout).find((e) => e.name === name)
        if (entry === undefined) return undefined
        const where = `${path} on ${ref}`
        if (entry.mode === "120000")
          return { _tag: "refused", message: `${where} is a symbolic link; it is not followed.` } as const
        if (entry.type !== "blob" || (entry.mode !== "100644" && entry.mode !== "100755"))
          return { _tag: "refused", message: `${where} is not a regular file (mode ${entry.mode}).` } as const
        if (entry.size === null || entry.size > maxBytes)
          return {
            _tag: "refused",
            message: `${where} is ${entry.size ?? "of unknown"} bytes, over the ${maxBytes}-byte limit.`
          } as const
        const content = yield* git.runOk(["cat-file", "blob", entry.oid], { cwd: repo })
        return { _tag: "file", content, mode: entry.mode, oid: entry.oid } satisfies CommittedFile
      })

      return {
        readCommittedFile,
        root,
        hasCommits,
        mainCheckoutOf,
        defaultBranch,
        resolveBase: Effect.fn("Repositories.resolveBase")(function* (
          repo: string,
          base: string,
          options?: BaseOptions
        ) {
          return yield* resolveBase(git, locks, repo, base, options)
        }),
        pullRequest: (repo: string, number: number) => fetchPullRequest(git, locks, repo, number),
        listWorktrees,
        status,
        branchExists,
        branchCommit: (repo: string, branch: string) =>
          Effect.flatMap(
            Effect.sync(() => readBranchCommit(repo, branch)),
            (sha) => (sha === undefined ? commitOf(git, repo, `refs/heads/${branch}`) : Effect.succeed(sha))
          ),
        isAncestor,
        checkBranchName: Effect.fn("Repositories.checkBranchName")(function* (repo: string, branch: string) {
          return yield* checkBranchName(git, repo, branch)
        }),
        uniqueCommits,
        snapshotWorktree: Effect.fn("Repositories.snapshotWorktree")(function* (options: SnapshotOptions) {
          return yield* snapshotWorktree(git, options)
        })
      }
    })
  )
}
