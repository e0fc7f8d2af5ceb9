// Read-only questions about a repository: where its root is, whether it has commits, which
// branch is its default, what a base ref resolves to (optionally fetching it first), which
// worktrees it has and how one of them stands, what a file holds as committed on a ref. Only the
// bounded fetch changes anything.
import { existsSync } from "node:fs"
import { realpath } from "node:fs/promises"
import { dirname, sep } from "node:path"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { GitCli } from "./GitCli.ts"
import { GitError } from "./GitError.ts"
import { parseStatusV2, parseWorktreeList, type StatusSummary, type WorktreeEntry } from "./porcelain.ts"
import { fetchPullRequest } from "./pullRequests.ts"
import { RepoLocks } from "./RepoLocks.ts"
import { readBranchCommit } from "./refFiles.ts"

export interface ResolvedBase {
  /** What to hand to git (a full ref name or a commit id). */
  readonly ref: string
  /** The name as the user knows it (`main`, `origin/main`, `v1.2`, a short sha). */
  readonly name: string
  readonly sha: string
  readonly warnings: ReadonlyArray<string>
}

export interface WorktreeStatus extends StatusSummary {
  /** Commits on HEAD not on the base, and on the base not on HEAD; null without a base. */
  readonly ahead: number | null
  readonly behind: number | null
}

export const FETCH_TIMEOUT = "30 seconds"

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
      options?: { readonly fetch?: boolean }
    ) => Effect.Effect<ResolvedBase, GitError>
    /** A pull request's head from `origin` (`refs/pull/<n>/head`), as a base to branch from. */
    readonly pullRequest: (repo: string, number: number) => Effect.Effect<ResolvedBase, GitError>
    readonly listWorktrees: (repo: string) => Effect.Effect<ReadonlyArray<WorktreeEntry>, GitError>
    /** `repo`: the repository `worktree` must link into (a thread's worktree); refused otherwise. */
    readonly status: (
      worktree: string,
      base?: string,
      repo?: string
    ) => Effect.Effect<WorktreeStatus, GitError>
    readonly branchExists: (repo: string, branch: string) => Effect.Effect<boolean, GitError>
    /** `git check-ref-format --branch`, plus no leading '-' and no control characters. */
    readonly checkBranchName: (repo: string, branch: string) => Effect.Effect<void, GitError>
    /** Commits reachable from `branch` and from no other branch or remote-tracking ref. */
    readonly uniqueCommits: (repo: string, branch: string) => Effect.Effect<number, GitError>
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
        const remoteHead = yield* firstLine(
          ["symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"],
          repo
        )
        if (remoteHead !== undefined) return remoteHead.replace(/^origin\//, "")
        const configured = yield* firstLine(["config", "--get", "init.defaultBranch"], repo)
        for (const candidate of ["main", "master", ...(configured ? [configured] : [])]) {
          if (yield* branchExists(repo, candidate)) return candidate
        }
        return yield* firstLine(["symbolic-ref", "--quiet", "--short", "HEAD"], repo)
      })

      const commitOf = (repo: string, ref: string) =>
        firstLine(["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`], repo)

      const fetchBranch = (repo: string, branch: string) =>
        Effect.gen(function* () {
          const hasOrigin = yield* succeeds(["remote", "get-url", "origin"], repo)
          if (!hasOrigin) return `No remote 'origin' to fetch ${branch} from; using the local ${branch}.`
          const result = yield* locks.withLock(
            repo,
            git.run(
              [
                "fetch",
                "--no-tags",
                "--quiet",
                "origin",
                `+refs/heads/${branch}:refs/remotes/origin/${branch}`
              ],
              {
                cwd: repo,
                timeout: FETCH_TIMEOUT,
                network: true
              }
            )
          )
          if (result.exitCode === 0) return undefined
          const reason = result.stderr.trim().split("\n")[0] ?? `exit code ${result.exitCode}`
          return `Could not fetch ${branch} from origin (${reason}); using the local ${branch}.`
        }).pipe(
          Effect.catchTag("GitError", (error) =>
            Effect.succeed(
              `Could not fetch ${branch} from origin (${error.reason}); using the local ${branch}.`
            )
          )
        )

      const resolveBase = Effect.fn("Repositories.resolveBase")(function* (
        repo: string,
        base: string,
        options?: { readonly fetch?: boolean }
      ) {
        const warnings: Array<string> = []
        if (options?.fetch === true) {
          const warning = yield* fetchBranch(repo, base)
          if (warning === undefined) {
            const sha = yield* commitOf(repo, `refs/remotes/origin/${base}`)
            if (sha !== undefined)
              return { ref: `refs/remotes/origin/${base}`, name: `origin/${base}`, sha, warnings }
          } else {
            warnings.push(warning)
          }
        }
        const candidates: ReadonlyArray<readonly [ref: string, name: string]> = [
          [`refs/heads/${base}`, base],
          [`refs/remotes/${base}`, base],
          [`refs/remotes/origin/${base}`, `origin/${base}`],
          [`refs/tags/${base}`, base]
        ]
        for (const [ref, name] of candidates) {
          const sha =
            ref === `refs/heads/${base}`
              ? ((yield* Effect.sync(() => readBranchCommit(repo, base))) ?? (yield* commitOf(repo, ref)))
              : yield* commitOf(repo, ref)
          if (sha !== undefined) return { ref, name, sha, warnings }
        }
        const sha = yield* commitOf(repo, base)
        if (sha !== undefined) return { ref: sha, name: base, sha, warnings }
        return yield* new GitError({
          reason: "base-not-found",
          path: repo,
          message: `The base '${base}' is not a branch, remote-tracking branch, tag or commit in ${repo}${
            options?.fetch === true ? " (and it could not be fetched from origin)" : ""
          }. Pass an existing base branch, or fetch it first.`
        })
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
        repo?: string
      ) {
        const options = repo === undefined ? { cwd: worktree } : { cwd: worktree, worktreeOf: repo }
        const summary = parseStatusV2(
          yield* git.runOk(
            ["status", "--porcelain=v2", "--branch", "-z", "--untracked-files=normal"],
            options
          )
        )
        if (base === undefined || summary.head === null) return { ...summary, ahead: null, behind: null }
        const counts = yield* git.runOk(
          ["rev-list", "--left-right", "--count", "--end-of-options", `${base}...HEAD`],
          options
        )
        const [behind, ahead] = counts.trim().split(/\s+/).map(Number)
        return { ...summary, ahead: ahead ?? 0, behind: behind ?? 0 }
      })

      const checkBranchName = Effect.fn("Repositories.checkBranchName")(function* (
        repo: string,
        branch: string
      ) {
        const invalid = (why: string) =>
          new GitError({
            reason: "invalid-branch-name",
            message: `'${branch.slice(0, 100)}' is not a usable branch name: ${why}. Use letters, digits, '/', '-', '_' and '.', for example spindle/fix-login.`
          })
        // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
        if (/[\x00-\x1f\x7f]/u.test(branch)) return yield* invalid("it contains control characters")
        if (branch.startsWith("-")) return yield* invalid("it starts with '-'")
        if (branch === "@" || branch.includes("@{"))
          return yield* invalid("git reads '@' and '@{…}' as shorthands")
        const checked = yield* git.run(["check-ref-format", "--branch", branch], { cwd: repo })
        if (checked.exitCode !== 0) return yield* invalid("git check-ref-format refuses it")
        // --branch expands shorthands to another branch's name; anything rewritten is refused.
        if (checked.stdout.trim() !== branch)
          return yield* invalid("git reads it as a shorthand for another branch")
      })

      const uniqueCommits = Effect.fn("Repositories.uniqueCommits")(function* (repo: string, branch: string) {
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
            "--tags"
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
        resolveBase,
        pullRequest: (repo: string, number: number) => fetchPullRequest(git, locks, repo, number),
        listWorktrees,
        status,
        branchExists,
        checkBranchName,
        uniqueCommits
      }
    })
  )
}
