// One batch of the writer's commands, decided in memory and at once (no effect: the batch's moment
// and randomness are taken once, batchClock): each command against the model the ones before it
// left, its events numbered as the log's next ones and folded in, and what the batch must write
// (events, receipts, secrets, projection rows) gathered for the engine to write at once. A
// repeated commandId answers its recorded receipt. Writes nothing: the notify secret a project
// command carries is one more write of the batch (kept beside the log, never in an event).
import { createHash } from "node:crypto"
import {
  type Actor,
  type Command,
  type DispatchResult,
  EventId,
  type ProjectId,
  SpindleError,
  type SpindleEvent
} from "@spindle/contracts"
import { type AggregateRef, aggregateOf, project, type ReadModel } from "@spindle/read-model"
import { stableStringify } from "@spindle/shared/json"
import { hexOf } from "@spindle/shared/random"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as Result from "effect/Result"
import type { HostIdentity } from "../config/HostIdentity.ts"
import type { Limits } from "../config/ServerConfig.ts"
import type { Receipt, ReceiptWrite } from "../persistence/CommandReceipts.ts"
import type { SecretWrite } from "../persistence/NotifySecrets.ts"
import { decide } from "./decider.ts"

export interface ApplyServices {
  readonly limits: Limits
  readonly host: HostIdentity | undefined
}

/** What a batch writes once all its commands are decided. */
export interface BatchWrites {
  readonly events: Array<SpindleEvent>
  readonly receipts: Array<ReceiptWrite>
  readonly secrets: Array<SecretWrite>
  readonly changed: Map<string, AggregateRef>
}

/** When a batch is decided (every command and event of it carries this moment), and its ids' randomness. */
export interface BatchClock {
  readonly now: string
  readonly random: Random.Random
}

export interface Outcome {
  readonly result: Result.Result<DispatchResult, SpindleError>
  /** The model after this command (unchanged unless it was applied). */
  readonly model: ReadModel
  readonly events: ReadonlyArray<SpindleEvent>
}

/**
 * What an applied command does to its project's notify secret: the secret a command carries is
 * kept beside the log, never in an event (the decider records only that one is set).
 */
const secretChange = (
  command: Command
): { readonly projectId: ProjectId; readonly secret: string | null } | undefined => {
  switch (command.type) {
    case "project.create":
      return command.notifySecret === undefined
        ? undefined
        : { projectId: command.projectId, secret: command.notifySecret }
    case "project.update":
      if (command.notifyWebhook === null || command.notifySecret === null)
        return { projectId: command.projectId, secret: null }
      return command.notifySecret === undefined
        ? undefined
        : { projectId: command.projectId, secret: command.notifySecret }
    case "project.remove":
      return { projectId: command.projectId, secret: null }
    default:
      return undefined
  }
}

const hashCommand = (command: Command) => createHash("sha256").update(stableStringify(command)).digest("hex")

/**
 * Commands that take no receipt. A receipt lets a caller retry a command by its id and get the
 * same answer; a provider report's id is made fresh by the server for that one write and never
 * sent again, so for the most frequent command of all a receipt would be two statements (and a
 * hash of the report) for nothing.
 */
export const withoutReceipt = (command: Command) => command.type === "thread.provider.record"

/**
 * The model with `events` projected, and (into `changed`) the aggregates whose projection rows
 * must be written: the events' own and, when a thread joined or left the queue, every queued
 * thread (their positions moved).
 */
export const fold = (
  current: ReadModel,
  events: ReadonlyArray<SpindleEvent>,
  changed: Map<string, AggregateRef>
) => {
  let next = current
  for (const event of events) {
    const before = next
    next = project(next, event)
    const ref = aggregateOf(event)
    changed.set(`${ref.kind}:${ref.id}`, ref)
    if (next.queue !== before.queue) {
      for (const id of next.queue) changed.set(`thread:${id}`, { kind: "thread", id })
    }
  }
  return next
}

/**
 * Decides one command against `current`, in memory: its events are numbered as the log's
 * next ones and folded in, so the next command of the batch is decided after it. What it
 * writes (its events, its receipt, the projection rows it changed) is added to `writes` and
 * written once for the whole batch. `known` holds the receipts of the batch's commands, read
 * once under the log's lock, and gains each one decided here (a repeat in one batch).
 */
export const makeApply =
  ({ limits, host }: ApplyServices) =>
  (
    envelope: { readonly command: Command; readonly actor: Actor },
    current: ReadModel,
    known: Map<string, Receipt>,
    writes: BatchWrites,
    { now, random }: BatchClock
  ): Outcome => {
    const { command, actor } = envelope
    const receipted = !withoutReceipt(command)
    const payloadHash = receipted ? hashCommand(command) : ""
    const answer = (result: Outcome["result"]): Outcome => ({ result, model: current, events: [] })
    const remember = (receipt: Receipt) => {
      known.set(command.commandId, receipt)
      writes.receipts.push({ commandId: command.commandId, receipt, recordedAt: now })
    }
    const receipt = receipted ? known.get(command.commandId) : undefined
    if (receipt !== undefined) {
      if (receipt.payloadHash !== payloadHash) {
        return answer(
          Result.fail(
            new SpindleError({
              reason: "conflict",
              commandId: command.commandId,
              message: `commandId ${command.commandId} was already used for a different ${receipt.commandType} command. Use a new commandId for a new command.`
            })
          )
        )
      }
      return answer(
        receipt.status === "accepted"
          ? Result.succeed({ sequence: receipt.sequence })
          : Result.fail(receipt.error)
      )
    }
    const decision = decide(command, current, {
      now,
      limits,
      ...(host === undefined ? {} : { hostId: host.id })
    })
    if (Result.isFailure(decision)) {
      // A full project is not this command's outcome, only its moment: a retry with the same
      // commandId is decided again once there is room. A bootstrap's refused begin is not
      // recorded either: the bootstrap made nothing, and its own journal keys its retries.
      if (receipted && decision.failure.reason !== "capacity" && command.type !== "thread.bootstrap.begin") {
        remember({
          status: "rejected",
          commandType: command.type,
          payloadHash,
          error: decision.failure
        })
      }
      return answer(Result.fail(decision.failure))
    }
    const stored = decision.success.map(
      (draft, i) =>
        ({
          ...draft,
          sequence: current.sequence + i + 1,
          eventId: EventId.make(`evt_${hexOf(random, 16)}`),
          occurredAt: now,
          commandId: command.commandId,
          actor
        }) as SpindleEvent
    )
    writes.events.push(...stored)
    const secret = secretChange(command)
    if (secret !== undefined && stored.length > 0) writes.secrets.push({ ...secret, at: now })
    const next = fold(current, stored, writes.changed)
    if (receipted) {
      remember({ status: "accepted", commandType: command.type, payloadHash, sequence: next.sequence })
    }
    return {
      result: Result.succeed({ sequence: next.sequence }),
      model: next,
      events: stored
    } satisfies Outcome
  }

/** What a batch decided: each command's outcome, the model after the last, and what to write. */
export interface Decided {
  readonly model: ReadModel
  readonly outcomes: ReadonlyArray<Outcome>
  readonly writes: BatchWrites
}

/** Decides the batch's commands in order against `current` (each after the ones before it). */
export const decideBatch = (
  apply: ReturnType<typeof makeApply>,
  batch: ReadonlyArray<{ readonly command: Command; readonly actor: Actor }>,
  current: ReadModel,
  known: Map<string, Receipt>,
  clock: BatchClock
): Decided => {
  const writes: BatchWrites = { events: [], receipts: [], secrets: [], changed: new Map() }
  const outcomes: Array<Outcome> = []
  let model = current
  for (const envelope of batch) {
    const outcome = apply(envelope, model, known, writes, clock)
    model = outcome.model
    outcomes.push(outcome)
  }
  return { model, outcomes, writes }
}

/** The batch's moment and its source of event ids, taken once from `Clock` and `Random`. */
export const batchClock: Effect.Effect<BatchClock> = Effect.map(
  Effect.all([DateTime.now, Effect.service(Random.Random)]),
  ([now, random]) => ({ now: DateTime.formatIso(now), random })
)

/** The ids of the batch's commands that take a receipt (whose receipts the batch reads first). */
export const receiptIds = (batch: ReadonlyArray<{ readonly command: Command }>) =>
  batch.flatMap(({ command }) => (withoutReceipt(command) ? [] : [command.commandId]))
