// Marks a thread whose worktree Spindle refused to run git in (GitCli's `foreign-gitdir`): the
// refusal is recorded on the thread once, so whoever looks at it sees why its diff is missing.
// Other git failures are not the thread's doing and are not recorded.
import { CommandId, type ThreadId } from "@spindle/contracts"
import { randomHex } from "@spindle/shared/random"
import * as Effect from "effect/Effect"
import type { Engine } from "../engine/Engine.ts"
import type { GitError } from "../git/GitError.ts"

/** Records `error` on the thread when it is a refusal of its worktree; never fails. */
export const markRefused = (engine: Engine["Service"], threadId: ThreadId, error: GitError) =>
  error.reason !== "foreign-gitdir"
    ? Effect.void
    : Effect.gen(function* () {
        const commandId = CommandId.make(`git-refused-${yield* randomHex(10)}`)
        yield* engine.dispatch(
          { type: "thread.warn", commandId, threadId, warning: error.message },
          { kind: "server" }
        )
      }).pipe(Effect.ignore({ log: "Warn", message: "Could not record a git refusal on its thread" }))
