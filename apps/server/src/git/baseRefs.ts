// What a base a person or an agent names resolves to, without guessing: a name git could read as
// an object is only ever that object, a name starting with a remote's name only that remote's
// branch, a full `refs/...` name only that ref, and a short name found as more than one of a
// branch, a tag and a remote-tracking branch is refused rather than picked. Refs anyone can
// create with plain git in the shared .git (`refs/heads/<sha>`, `refs/heads/origin/main`) then
// redirect nothing. The answer names a full ref and a commit id; callers hand git only those.
import { looksLikeObjectName } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import type { GitCli } from "./GitCli.ts"
import { GitError } from "./GitError.ts"
import type { RepoLocks } from "./RepoLocks.ts"
import { isRemoteName, readRefId } from "./refFiles.ts"

export interface ResolvedBase {
  /** A full ref name (`refs/heads/main`), or the commit id when the base was named by one. */
  readonly ref: string
  /**
   * The name the thread records as its base, which its diff resolves again: as given (`main`,
   * `origin/main`, `v1.2`, `refs/tags/v1`), or the full commit id when named by an id.
   */
  readonly name: string
  readonly sha: string
  readonly warnings: ReadonlyArray<string>
}

export interface BaseOptions {
  /** Fetch the branch from origin first (bounded; on failure the local reading, with a warning). */
  readonly fetch?: boolean
  /** `base` is known to name a local branch (a project's default branch): read as `refs/heads/<base>`. */
  readonly branch?: boolean
}

export const FETCH_TIMEOUT = "30 seconds"

/** How a commit id is handed to git: never read as a ref of the same name. */
export const commitArg = (sha: string) => `${sha}^{commit}`

const firstLine = (git: GitCli["Service"], args: ReadonlyArray<string>, cwd: string) =>
  Effect.map(git.run(args, { cwd }), (r) => (r.exitCode === 0 ? r.stdout.trim() || undefined : undefined))

/** The commit a full ref (or a full object id) names; `--end-of-options` keeps it an argument. */
export const commitOf = (git: GitCli["Service"], repo: string, ref: string) =>
  firstLine(git, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`], repo)

/** The configured remotes' names. */
export const remoteNames = (git: GitCli["Service"], repo: string) =>
  Effect.map(git.run(["remote"], { cwd: repo }), (r) =>
    r.exitCode === 0 ? r.stdout.split("\n").filter((name) => name !== "") : []
  )

/** Whether `name` is a remote: from the repository's files when they say, else from git. */
export const isRemote = (git: GitCli["Service"], repo: string, name: string) =>
  Effect.suspend(() => {
    const known = isRemoteName(repo, name)
    return known === undefined
      ? Effect.map(remoteNames(git, repo), (names) => names.includes(name))
      : Effect.succeed(known)
  })

/**
 * The commit an object-like name stands for, looked up among objects only (`--disambiguate`
 * never consults refs): a full id, an abbreviation, or `git describe` output's `-g<hex>`.
 */
const objectCommit = (git: GitCli["Service"], repo: string, name: string) =>
  Effect.gen(function* () {
    const hex = /^[0-9a-f]+$/i.test(name) ? name : (/-g([0-9a-f]+)$/i.exec(name)?.[1] ?? name)
    // A full id is read as the object whatever refs exist: one call. (40 digits are only an
    // abbreviation in a SHA-256 repository, where a ref could answer: then the answer does not
    // start with them, and the lookup below decides.)
    if (/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i.test(hex)) {
      const sha = yield* commitOf(git, repo, hex.toLowerCase())
      if (sha?.startsWith(hex.toLowerCase())) return [sha]
    }
    const listed = yield* git.run(["rev-parse", `--disambiguate=${hex.toLowerCase()}`], { cwd: repo })
    const candidates = listed.exitCode === 0 ? listed.stdout.split("\n").filter((id) => id !== "") : []
    const commits = new Set<string>()
    for (const id of candidates) {
      const sha = yield* commitOf(git, repo, id)
      if (sha !== undefined) commits.add(sha)
    }
    return [...commits]
  })

/** The id each full ref has (files first, one git call for what they cannot say); absent ones are left out. */
const refIds = (git: GitCli["Service"], repo: string, refs: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const known = refs.map((ref) => [ref, readRefId(repo, ref)] as const)
    if (known.every(([, id]) => id !== undefined)) {
      return new Map(known.flatMap(([ref, id]) => (id === null || id === undefined ? [] : [[ref, id]])))
    }
    const listed = yield* git.runOk(["for-each-ref", "--format=%(objectname) %(refname)", ...refs], {
      cwd: repo
    })
    const wanted = new Set(refs)
    return new Map(
      listed
        .split("\n")
        .map((line) => [line.slice(line.indexOf(" ") + 1), line.slice(0, line.indexOf(" "))] as const)
        .filter(([ref]) => wanted.has(ref))
    )
  })

const fetchBranch = (git: GitCli["Service"], locks: RepoLocks["Service"], repo: string, branch: string) =>
  Effect.gen(function* () {
    const hasOrigin = (yield* git.run(["remote", "get-url", "origin"], { cwd: repo })).exitCode === 0
    if (!hasOrigin) return `No remote 'origin' to fetch ${branch} from; using the local ${branch}.`
    const result = yield* locks.withLock(
      repo,
      git.run(
        ["fetch", "--no-tags", "--quiet", "origin", `+refs/heads/${branch}:refs/remotes/origin/${branch}`],
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
      Effect.succeed(`Could not fetch ${branch} from origin (${error.reason}); using the local ${branch}.`)
    )
  )

/**
 * `base` fetched from origin first when asked (bounded; on failure the local reading, with a
 * warning), else as `resolveLocal` reads it.
 */
export const resolveBase = (
  git: GitCli["Service"],
  locks: RepoLocks["Service"],
  repo: string,
  base: string,
  options?: BaseOptions
) =>
  Effect.gen(function* () {
    const warnings: Array<string> = []
    // An object-like or full name is never fetched: it names exactly one thing already.
    if (options?.fetch === true && !looksLikeObjectName(base) && !base.startsWith("refs/")) {
      const warning = yield* fetchBranch(git, locks, repo, base)
      if (warning === undefined) {
        const sha = yield* commitOf(git, repo, `refs/remotes/origin/${base}`)
        if (sha !== undefined)
          return {
            ref: `refs/remotes/origin/${base}`,
            name: `origin/${base}`,
            sha,
            warnings
          } satisfies ResolvedBase
      } else {
        warnings.push(warning)
      }
    }
    // A branch's name is read as that branch only: a tag or remote-tracking ref of the same name,
    // which an agent can create with git, neither stands in for it nor makes it ambiguous.
    const local =
      options?.branch === true
        ? { ...(yield* resolveLocal(git, repo, `refs/heads/${base}`, options?.fetch === true)), name: base }
        : yield* resolveLocal(git, repo, base, options?.fetch === true)
    return { ...local, warnings: [...warnings, ...local.warnings] } satisfies ResolvedBase
  })

/** What `base` names in the repository now, by the rules above, asking no remote. */
export const resolveLocal = (git: GitCli["Service"], repo: string, base: string, fetched = false) =>
  Effect.gen(function* () {
    const warnings: Array<string> = []
    const notFound = (why: string) =>
      new GitError({ reason: "base-not-found", path: repo, message: `The base '${base}' ${why}` })

    if (looksLikeObjectName(base)) {
      const commits = yield* objectCommit(git, repo, base)
      if (commits.length === 1) {
        const sha = commits[0] as string
        // Named by the full id: an abbreviation can stop being unique as the repository grows,
        // and the thread's diff reads its base again by this name.
        return { ref: sha, name: sha, sha, warnings } satisfies ResolvedBase
      }
      return yield* commits.length === 0
        ? notFound(
            `looks like a commit id, and no commit in ${repo} has it (a branch of that name is never used in its place). Pass an existing commit, or a branch by its full name (refs/heads/<name>).`
          )
        : new GitError({
            reason: "ambiguous-base",
            path: repo,
            message: `The base '${base}' is the start of ${commits.length} commits' ids in ${repo}. Pass more digits of the one you mean.`
          })
    }

    if (base.startsWith("refs/")) {
      const sha = yield* commitOf(git, repo, base)
      if (sha !== undefined)
        // Kept whole, so the thread's diff reads exactly this ref again.
        return { ref: base, name: base, sha, warnings }
      return yield* notFound(`is no ref in ${repo}. Check the name with 'git for-each-ref'.`)
    }

    const head = `refs/heads/${base}`
    const remoteTracking = `refs/remotes/${base}`
    const tag = `refs/tags/${base}`
    const originFallback = `refs/remotes/origin/${base}`
    const ids = yield* refIds(git, repo, [head, remoteTracking, tag, originFallback])
    const slash = base.indexOf("/")
    const remote =
      slash > 0 && (yield* isRemote(git, repo, base.slice(0, slash))) ? base.slice(0, slash) : undefined
    // A name that starts with a remote's name means that remote's branch; a local branch of that
    // name (which anyone can create with git) would otherwise stand in for it.
    const found = (remote === undefined ? [head, remoteTracking, tag] : [remoteTracking]).filter((ref) =>
      ids.has(ref)
    )
    if (remote !== undefined && ids.has(head)) {
      warnings.push(
        `A local branch ${head} is named like ${remote}'s branch; the remote-tracking ${remoteTracking} is used. Pass ${head} to mean the local one.`
      )
    }
    if (found.length > 1) {
      return yield* new GitError({
        reason: "ambiguous-base",
        path: repo,
        message: `The base '${base}' names more than one ref in ${repo} (${found.join(", ")}). Pass the one you mean by its full name.`
      })
    }
    const chosen = found[0] ?? (remote === undefined && ids.has(originFallback) ? originFallback : undefined)
    if (chosen !== undefined) {
      // Branches hold commit ids; a tag may name a tag object, peeled by git.
      const id = ids.get(chosen) as string
      const sha = chosen.startsWith("refs/tags/") ? yield* commitOf(git, repo, chosen) : id
      if (sha !== undefined) {
        return {
          ref: chosen,
          name: chosen === originFallback ? `origin/${base}` : base,
          sha,
          warnings
        } satisfies ResolvedBase
      }
    }
    if (remote !== undefined) {
      return yield* notFound(
        `starts with the remote '${remote}', and ${remoteTracking} does not exist in ${repo}. Fetch it first (or pass fetchBase), or pass ${head} to mean a local branch.`
      )
    }
    // Revision expressions (`main~2`, `v1^`): git's own reading, peeled to the commit.
    const sha = yield* commitOf(git, repo, base)
    if (sha !== undefined) return { ref: sha, name: base, sha, warnings } satisfies ResolvedBase
    return yield* notFound(
      `is not a branch, remote-tracking branch, tag or commit in ${repo}${
        fetched ? " (and it could not be fetched from origin)" : ""
      }. Pass an existing base branch, or fetch it first.`
    )
  })
