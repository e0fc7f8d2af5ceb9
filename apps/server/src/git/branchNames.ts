// Whether a new branch's name is usable in a given repository: git's own rules, the name-only
// rules every transport already applied (checked again here, the depth every create passes
// through), and what depends on the repository: a remote's name, an existing tag, or an existing
// ref it would pass for. It does not check that the branch is absent (the caller says how it
// clashes).
import { branchNameProblem, branchSkeleton } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { isRemote } from "./baseRefs.ts"
import type { GitCli } from "./GitCli.ts"
import { GitError } from "./GitError.ts"

export const checkBranchName = (git: GitCli["Service"], repo: string, branch: string) =>
  Effect.gen(function* () {
    const invalid = (why: string) =>
      new GitError({
        reason: "invalid-branch-name",
        message: `'${branch.slice(0, 100)}' is not a usable branch name: ${why}.`
      })
    const plain = "Use letters, digits, '/', '-', '_' and '.', for example spindle/fix-login"
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
    if (/[\x00-\x1f\x7f]/u.test(branch)) return yield* invalid(`it contains control characters. ${plain}`)
    if (branch.startsWith("-")) return yield* invalid(`it starts with '-'. ${plain}`)
    if (branch === "@" || branch.includes("@{"))
      return yield* invalid(`git reads '@' and '@{…}' as shorthands. ${plain}`)
    const problem = branchNameProblem(branch)
    if (problem !== undefined) return yield* invalid(problem)
    const checked = yield* git.run(["check-ref-format", "--branch", branch], { cwd: repo })
    if (checked.exitCode !== 0) return yield* invalid(`git check-ref-format refuses it. ${plain}`)
    // --branch expands shorthands to another branch's name; anything rewritten is refused.
    if (checked.stdout.trim() !== branch)
      return yield* invalid(`git reads it as a shorthand for another branch. ${plain}`)

    const slash = branch.indexOf("/")
    const first = slash < 0 ? branch : branch.slice(0, slash)
    if (yield* isRemote(git, repo, first))
      return yield* invalid(
        `it ${slash < 0 ? "is" : "starts with"} the name of the remote '${first}', so it would hide that remote's branches. Choose a name that does not start with a remote's name`
      )

    // Every ref a person could mean by a short name; one git call.
    const refs = (yield* git.runOk(
      ["for-each-ref", "--format=%(refname)", "refs/heads", "refs/tags", "refs/remotes"],
      { cwd: repo }
    ))
      .split("\n")
      .filter((ref) => ref !== "")
    if (refs.includes(`refs/tags/${branch}`))
      return yield* invalid(
        `a tag of that name exists, and a branch would make '${branch}' mean two things. Choose another name, for example ${branch}-work`
      )
    const skeleton = branchSkeleton(branch)
    for (const ref of refs) {
      const short = ref.replace(/^refs\/(heads|tags|remotes)\//, "")
      if (short !== branch && branchSkeleton(short) === skeleton)
        return yield* invalid(
          `it looks like the existing ${ref.startsWith("refs/heads/") ? "branch" : ref.startsWith("refs/tags/") ? "tag" : "remote-tracking branch"} '${short}' (it differs only in case or in look-alike characters). Use '${short}' itself, or a name that reads differently`
        )
    }
  })
