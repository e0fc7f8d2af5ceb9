// A git process a crash of the server left running (its process group journaled before git
// started): before recovery judges a worktree, that git has finished or been ended, so what is on
// disk no longer changes under the judgement. Which journal holds the group is the caller's.
import { type ProcessGroup, settleGroup } from "@spindle/shared/processGroup"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"

/**
 * Waits up to `wait` for the journaled git to end by itself (none: ended at once), then ends its
 * group. Answers what became of it; logs when it was still running.
 */
export const settleOrphanedGit = (
  group: ProcessGroup | null | undefined,
  what: string,
  options: { readonly wait?: Duration.Input } = {}
) =>
  Effect.gen(function* () {
    if (group === null || group === undefined) return "none" as const
    const outcome = yield* settleGroup(group, { ...options, grace: "5 seconds" })
    if (outcome === "finished")
      yield* Effect.logInfo(`Waited for ${what}, still running from before the restart, to finish`)
    if (outcome === "ended")
      yield* Effect.logWarning(
        `Ended ${what}, still running from before the restart (process group ${group.pgid})`
      )
    return outcome
  })
