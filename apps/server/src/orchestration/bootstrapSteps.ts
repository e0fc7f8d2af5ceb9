// Small pieces the dispatcher and recovery share: the ids of the internal commands a bootstrap
// sends (derived from its commandId, so replays are idempotent) and the payload hash.
import { createHash } from "node:crypto"
import { type CommandId, CommandId as CommandIdSchema } from "@spindle/contracts"
import { stableStringify } from "@spindle/shared/json"

/** The commandId of step `step` of the bootstrap (or setup rerun) `commandId`. */
export const stepCommandId = (commandId: string, step: string): CommandId =>
  CommandIdSchema.make(`b${createHash("sha256").update(commandId).digest("hex").slice(0, 24)}_${step}`)

/** What makes two sends "the same command". */
export const payloadHash = (value: unknown) =>
  createHash("sha256").update(stableStringify(value)).digest("hex")
