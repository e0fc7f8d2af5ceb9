// Small pieces of a bootstrap: what a caller hands the dispatcher, a run in flight, a failed step,
// the ids of the internal commands it sends (derived from its commandId, so replays are
// idempotent) and the payload hash.
import { createHash } from "node:crypto"
import type { Actor, BootstrapAnswer, BootstrapAwait, BootstrapStage, SpindleError } from "@spindle/contracts"
import { type CommandId, CommandId as CommandIdSchema } from "@spindle/contracts"
import { stableStringify } from "@spindle/shared/json"
import * as Data from "effect/Data"
import type * as Deferred from "effect/Deferred"
import type { BootstrapCommand, BootstrapParent } from "./bootstrapPlan.ts"

/** The commandId of step `step` of the bootstrap (or setup rerun) `commandId`. */
export const stepCommandId = (commandId: string, step: string): CommandId =>
  CommandIdSchema.make(`b${createHash("sha256").update(commandId).digest("hex").slice(0, 24)}_${step}`)

/** What makes two sends "the same command". */
export const payloadHash = (value: unknown) =>
  createHash("sha256").update(stableStringify(value)).digest("hex")

export interface BootstrapInvocation {
  readonly command: BootstrapCommand
  readonly actor: Actor
  /** Answer once the workspace exists, or (default) once the first turn is requested or setup failed. */
  readonly await?: BootstrapAwait
  /** Set when an agent asks: the parent thread, and its checkout for `current_checkout`. */
  readonly parent?: BootstrapParent
  /** The start was queued past a limit and is now sent again to leave the queue (the queue's runner). */
  readonly fromQueue?: boolean
}

export interface InFlight {
  readonly hash: string
  readonly workspace: Deferred.Deferred<BootstrapAnswer, SpindleError>
  readonly final: Deferred.Deferred<BootstrapAnswer, SpindleError>
}

/** A step failed: which stage, and the error to record and answer. */
export class StepFailure extends Data.TaggedError("StepFailure")<{
  readonly stage: BootstrapStage
  readonly error: SpindleError
  /** A queued start another host took from the queue first: nothing to record or roll back here. */
  readonly takenElsewhere?: boolean
}> {}
