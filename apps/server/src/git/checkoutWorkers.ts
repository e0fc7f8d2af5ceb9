// Parallel checkout (`checkout.workers`), sized to the machine, unless the user's git config
// chose a value. Read once per repository for a minute: config rarely changes, creates come in
// bursts.
import { availableParallelism } from "node:os"
import * as Effect from "effect/Effect"
import type { GitCli } from "./GitCli.ts"

const FRESH_MS = 60_000

/** The `-c` settings a checkout in a repository runs with; read through `git`, cached per repository. */
export const makeCheckoutConfig = (git: GitCli["Service"]) => {
  const checked = new Map<string, { readonly at: number; readonly config: Record<string, string> }>()
  return (repo: string): Effect.Effect<Readonly<Record<string, string>>> =>
    Effect.gen(function* () {
      const cached = checked.get(repo)
      if (cached !== undefined && Date.now() - cached.at < FRESH_MS) return cached.config
      const set = yield* git.run(["config", "--get", "checkout.workers"], { cwd: repo })
      const config: Record<string, string> =
        set.exitCode === 0 && set.stdout.trim() !== ""
          ? {}
          : { "checkout.workers": String(Math.max(1, availableParallelism())) }
      checked.set(repo, { at: Date.now(), config })
      return config
    }).pipe(Effect.catch(() => Effect.succeed({})))
}
