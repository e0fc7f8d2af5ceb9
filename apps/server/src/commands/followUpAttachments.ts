// A follow-up prompt with attachments (the composer's dropped or pasted files, `spindle thread send
// --attach`): checked before anything is written, copied under <home>/attachments/<thread> in a
// folder of their own (never over another send's files), then sent as one `thread.turn.send` that
// records the files on the thread with the prompt, or refused with nothing recorded and the copies
// removed.
import { randomBytes } from "node:crypto"
import { type Actor, type ClientCommand, type DispatchResult, SpindleError, TurnId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { readAttachments, removeAttachments, storeAttachments } from "../bootstrap/attachments.ts"
import type { Engine } from "../engine/Engine.ts"

type TurnStart = Extract<ClientCommand, { type: "thread.turn.start" }>

export const sendWithAttachments = (
  engine: Engine["Service"],
  home: string,
  command: TurnStart,
  actor: Actor
): Effect.Effect<DispatchResult, SpindleError> =>
  Effect.gen(function* () {
    const { attachments = [], ...prompt } = command
    const thread = yield* engine.getThread(command.threadId)
    // Not there: the engine's own answer (not found), with nothing stored.
    if (thread === undefined) return yield* engine.dispatch(prompt, actor)
    // A person may attach any file the server reads; an agent sends its files inline.
    const prepared = yield* readAttachments(
      attachments,
      actor.kind === "provider-session" ? null : undefined,
      "attachments"
    )
    const turnId = command.turnId ?? TurnId.make(command.commandId)
    const folder = `${turnId}-${randomBytes(4).toString("hex")}`
    const stored = yield* storeAttachments(home, thread.id, prepared, folder)
    return yield* engine
      .dispatch(
        {
          type: "thread.turn.send",
          commandId: command.commandId,
          threadId: thread.id,
          turnId,
          prompt: command.prompt,
          attachments: stored
        },
        actor
      )
      .pipe(Effect.tapError(() => removeAttachments(home, thread.id, folder)))
  })

/** A bootstrap's attachments go in `bootstrap.attachments`; both at once is a mistake to name. */
export const attachmentsBesideBootstrap = (command: TurnStart) =>
  new SpindleError({
    reason: "validation",
    threadId: command.threadId,
    commandId: command.commandId,
    field: "attachments",
    message:
      "A new thread's first prompt takes its files in bootstrap.attachments; top-level attachments go with a follow-up to a thread that exists."
  })
