// `--attach FILE` (repeatable, up to 8) on `thread start` and `thread send`: files the server reads
// (it runs as the same user on the same machine), checked here first so a typo fails at once.
import { accessSync, constants } from "node:fs"
import { resolve } from "node:path"
import { type AttachmentInput, MAX_ATTACHMENTS } from "@spindle/contracts"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import { usageError } from "./errors.ts"

export const attachFlag = (description: string) =>
  Flag.String("attach").pipe(Flag.withDescription(`${description} (repeatable, up to 8)`), Flag.atLeast(0))

/** The files as attachments by absolute path, or a usage error naming the one that cannot be read. */
export const attachmentsOf = (files: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    if (files.length > MAX_ATTACHMENTS)
      return yield* usageError(`--attach takes up to ${MAX_ATTACHMENTS} files (got ${files.length}).`)
    for (const file of files) {
      try {
        accessSync(file, constants.R_OK)
      } catch {
        return yield* usageError(
          `--attach ${file}: no such file, or it cannot be read. Name an image or text file.`
        )
      }
    }
    return files.map((file): AttachmentInput => ({ path: resolve(file) }))
  })
