// Whether one commit is in another's history, asked by object id and remembered: two commits'
// ancestry never changes, so a start after the default branch moved costs one git process per new
// head, not one per start. Only git's own yes (0) or no (1) is kept; an error is asked again.
import * as Effect from "effect/Effect"
import type { GitCli } from "./GitCli.ts"

const KEPT = 256

export const makeIsAncestor = (git: GitCli["Service"]) => {
  const known = new Map<string, boolean>()
  return Effect.fn("Repositories.isAncestor")(function* (repo: string, ancestor: string, commit: string) {
    const key = `${repo}\0${ancestor}\0${commit}`
    const remembered = known.get(key)
    if (remembered !== undefined) return remembered
    // Object ids peeled to commits: git cannot read either as a ref or an option.
    const result = yield* git.run(
      ["merge-base", "--is-ancestor", `${ancestor}^{commit}`, `${commit}^{commit}`],
      { cwd: repo }
    )
    const answer = result.exitCode === 0
    if (result.exitCode === 0 || result.exitCode === 1) {
      if (known.size >= KEPT) known.delete(known.keys().next().value as string)
      known.set(key, answer)
    }
    return answer
  })
}
