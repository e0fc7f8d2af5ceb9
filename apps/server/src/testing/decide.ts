// The decider and projector run as the engine runs them, without the engine: for the pure tests.
import type { Command, SpindleEvent } from "@spindle/contracts"
import type { ReadModel } from "@spindle/read-model"
import { project } from "@spindle/read-model"
import * as Result from "effect/Result"
import { DEFAULT_LIMITS, type Limits } from "../config/ServerConfig.ts"
import { decide } from "../engine/decider.ts"

export const NOW = "2026-01-01T00:00:00.000Z"

/** The events a command makes, numbered from the model's sequence; throws on a rejection. */
export const eventsOf = (
  model: ReadModel,
  command: Command,
  limits: Limits = DEFAULT_LIMITS,
  hostId?: string
): Array<SpindleEvent> => {
  const decision = decide(command, model, { now: NOW, limits, ...(hostId === undefined ? {} : { hostId }) })
  if (Result.isFailure(decision)) throw new Error(`unexpected rejection: ${decision.failure.message}`)
  return decision.success.map(
    (draft, i) =>
      ({
        ...draft,
        sequence: model.sequence + i + 1,
        eventId: `e${model.sequence + i + 1}`,
        occurredAt: NOW,
        commandId: command.commandId,
        actor: { kind: "server" }
      }) as SpindleEvent
  )
}

/** Decides and folds, numbering events from the model's sequence; throws on a rejection. */
export const applyCommand = (
  model: ReadModel,
  command: Command,
  limits: Limits = DEFAULT_LIMITS,
  hostId?: string
): ReadModel => eventsOf(model, command, limits, hostId).reduce(project, model)

/** The error a command is refused with; throws when it is accepted. */
export const refusalOf = (
  model: ReadModel,
  command: Command,
  limits: Limits = DEFAULT_LIMITS,
  hostId?: string
) => {
  const decision = decide(command, model, { now: NOW, limits, ...(hostId === undefined ? {} : { hostId }) })
  if (Result.isSuccess(decision)) throw new Error("expected a refusal")
  return decision.failure
}
