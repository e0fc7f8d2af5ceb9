// A pull request as a base: `refs/pull/<n>/head` fetched from the project's `origin` (into
// FETCH_HEAD only, under the repository's lock, so no ref is left behind when anything fails).
// The new worktree's branch is made from the commit by the usual path.
import * as Effect from "effect/Effect"
import type { GitCli } from "./GitCli.ts"
import { GitError } from "./GitError.ts"
import type { RepoLocks } from "./RepoLocks.ts"
import type { ResolvedBase } from "./Repositories.ts"

export const PULL_FETCH_TIMEOUT = "60 seconds"

export const fetchPullRequest = (
  git: GitCli["Service"],
  locks: RepoLocks["Service"],
  repo: string,
  number: number
) =>
  Effect.gen(function* () {
    const failed = (message: string, stderr?: string) =>
      new GitError({
        reason: "fetch-failed",
        path: repo,
        message,
        ...(stderr === undefined ? {} : { stderr })
      })
    const origin = yield* git.run(["remote", "get-url", "origin"], { cwd: repo })
    if (origin.exitCode !== 0) {
      return yield* failed(
        `The repository ${repo} has no remote 'origin' to fetch pull request #${number} from. Add it with 'git remote add origin <url>', or start from a branch instead.`
      )
    }
    const ref = `refs/pull/${number}/head`
    const sha = yield* locks.withLock(
      repo,
      Effect.gen(function* () {
        const fetched = yield* git.run(["fetch", "--no-tags", "--quiet", "origin", ref], {
          cwd: repo,
          timeout: PULL_FETCH_TIMEOUT,
          network: true
        })
        if (fetched.exitCode !== 0) {
          const stderr = fetched.stderr.trim()
          return yield* failed(
            /couldn't find remote ref|not our ref|no such ref/i.test(stderr)
              ? `Pull request #${number} was not found on origin (${origin.stdout.trim()} has no ${ref}). Check the number.`
              : `Could not fetch pull request #${number} from origin: ${stderr.split("\n")[0] ?? `exit code ${fetched.exitCode}`}. Check the network and your credentials for origin, then retry.`,
            stderr
          )
        }
        return (yield* git.runOk(["rev-parse", "--verify", "FETCH_HEAD^{commit}"], { cwd: repo })).trim()
      })
    )
    // Named by its commit: `pull/<n>` is no ref here, and the thread's diff is taken against its base.
    return { ref: sha, name: sha, sha, warnings: [] } satisfies ResolvedBase
  })
