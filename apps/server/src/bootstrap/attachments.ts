// Attachments with a prompt: read and checked before any side effect (size, count, kind: an image
// by its bytes, or UTF-8 text; an agent's paths only inside its own worktree), then copied under
// <home>/attachments/<thread> (mode 0600): the first prompt's once the thread exists (removed with a
// bootstrap that is rolled back), a follow-up's in a folder of its send.
import { lstatSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { basename, extname, join } from "node:path"
import {
  type AttachmentInput,
  MAX_ATTACHMENT_BYTES,
  MAX_ATTACHMENTS_TOTAL_BYTES,
  SpindleError,
  type ThreadAttachment,
  type ThreadId
} from "@spindle/contracts"
import * as Effect from "effect/Effect"

export interface PreparedAttachment {
  readonly name: string
  readonly mediaType: string
  readonly kind: "image" | "text"
  readonly bytes: Uint8Array
}

const refuse = (field: string, index: number, message: string) =>
  new SpindleError({ reason: "validation", field: `${field}.${index}`, message })

/** The image type its first bytes say, if any. */
const imageType = (bytes: Uint8Array): string | undefined => {
  const starts = (...sig: Array<number>) => sig.every((b, i) => bytes[i] === b)
  if (starts(0x89, 0x50, 0x4e, 0x47)) return "image/png"
  if (starts(0xff, 0xd8, 0xff)) return "image/jpeg"
  if (starts(0x47, 0x49, 0x46, 0x38)) return "image/gif"
  if (starts(0x52, 0x49, 0x46, 0x46) && String.fromCharCode(...bytes.slice(8, 12)) === "WEBP")
    return "image/webp"
  return undefined
}

const isText = (bytes: Uint8Array) => {
  try {
    return !new TextDecoder("utf-8", { fatal: true }).decode(bytes).includes("\u0000")
  } catch {
    return false
  }
}

const TEXT_TYPES: Record<string, string> = {
  ".json": "application/json",
  ".md": "text/markdown",
  ".yaml": "application/yaml",
  ".yml": "application/yaml",
  ".toml": "application/toml",
  ".xml": "application/xml",
  ".csv": "text/csv",
  ".html": "text/html"
}

const classify = (field: string, index: number, name: string, bytes: Uint8Array, declared?: string) => {
  const image = imageType(bytes)
  if (declared?.startsWith("image/") === true || (declared === undefined && image !== undefined)) {
    if (image === undefined || (declared !== undefined && declared !== image)) {
      return Effect.fail(
        refuse(field, index, `${name} is not a ${declared ?? "known"} image (its bytes say otherwise).`)
      )
    }
    return Effect.succeed({ name, mediaType: image, kind: "image" as const, bytes })
  }
  if (!isText(bytes)) {
    return Effect.fail(
      refuse(
        field,
        index,
        `${name} is neither an image (PNG, JPEG, GIF, WebP) nor UTF-8 text; attach one of those.`
      )
    )
  }
  const mediaType = declared ?? TEXT_TYPES[extname(name).toLowerCase()] ?? "text/plain"
  return Effect.succeed({ name, mediaType, kind: "text" as const, bytes })
}

/**
 * Reads and checks the attachments. `within`: for an agent, the worktree its paths must stay in
 * (after symlinks are resolved); undefined for a person, who may attach any file the server reads.
 */
export const readAttachments = (
  inputs: ReadonlyArray<AttachmentInput>,
  within: string | null | undefined,
  field = "bootstrap.attachments"
) =>
  Effect.gen(function* () {
    const prepared: Array<PreparedAttachment> = []
    let total = 0
    for (const [index, input] of inputs.entries()) {
      let name: string
      let bytes: Uint8Array
      let declared: string | undefined
      if ("path" in input) {
        if (within === null) {
          return yield* refuse(
            field,
            index,
            "This thread has no worktree of its own to attach files from; send them inline."
          )
        }
        let real: string
        try {
          real = realpathSync(input.path)
        } catch {
          return yield* refuse(field, index, `${input.path} does not exist or cannot be read.`)
        }
        if (within !== undefined && !real.startsWith(`${realpathSync(within)}/`)) {
          return yield* refuse(
            field,
            index,
            `${input.path} is outside your worktree; attach files from inside it.`
          )
        }
        const stat = lstatSync(real)
        if (!stat.isFile()) return yield* refuse(field, index, `${input.path} is not a regular file.`)
        if (stat.size > MAX_ATTACHMENT_BYTES) {
          return yield* refuse(
            field,
            index,
            `${input.path} is larger than ${MAX_ATTACHMENT_BYTES / 1024 / 1024} MiB.`
          )
        }
        name = basename(real)
        bytes = readFileSync(real)
      } else {
        name = input.name
        declared = input.mediaType
        bytes = Buffer.from(input.data, "base64")
        if (bytes.length > MAX_ATTACHMENT_BYTES) {
          return yield* refuse(
            field,
            index,
            `${name} is larger than ${MAX_ATTACHMENT_BYTES / 1024 / 1024} MiB.`
          )
        }
      }
      total += bytes.length
      if (total > MAX_ATTACHMENTS_TOTAL_BYTES) {
        return yield* refuse(
          field,
          index,
          `Attachments may hold ${MAX_ATTACHMENTS_TOTAL_BYTES / 1024 / 1024} MiB in all; send fewer or smaller files.`
        )
      }
      prepared.push(yield* classify(field, index, name, bytes, declared))
    }
    return prepared
  })

/** A thread's copies, or one send's folder of them. */
export const attachmentsDir = (home: string, threadId: ThreadId, folder?: string) =>
  folder === undefined ? join(home, "attachments", threadId) : join(home, "attachments", threadId, folder)

/** Spindle's copies, `<n>-<name>`, readable by the server's user only; a follow-up's in a folder of its send. */
export const storeAttachments = (
  home: string,
  threadId: ThreadId,
  prepared: ReadonlyArray<PreparedAttachment>,
  folder?: string
) =>
  Effect.try({
    try: (): ReadonlyArray<ThreadAttachment> => {
      const dir = attachmentsDir(home, threadId, folder)
      mkdirSync(dir, { recursive: true, mode: 0o700 })
      return prepared.map((attachment, i) => {
        const path = join(dir, `${i + 1}-${attachment.name.replace(/[^\w.-]+/gu, "_").slice(0, 120)}`)
        writeFileSync(path, attachment.bytes, { mode: 0o600, flag: "wx" })
        return {
          name: attachment.name,
          mediaType: attachment.mediaType,
          kind: attachment.kind,
          bytes: attachment.bytes.length,
          path
        }
      })
    },
    catch: (error) =>
      new SpindleError({
        reason: "internal",
        threadId,
        message: `Could not store the attachments under ${home}: ${String(error)}. Check that the Spindle home is writable.`
      })
  })

/** Removes a thread's copies, or only one send's folder of them. */
export const removeAttachments = (home: string, threadId: ThreadId, folder?: string) =>
  Effect.sync(() => rmSync(attachmentsDir(home, threadId, folder), { recursive: true, force: true }))
