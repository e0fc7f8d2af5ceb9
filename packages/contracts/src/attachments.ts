// Attachments with a thread's first prompt: images and text files, given by path or inline
// (base64 with a media type), copied under <home> and handed to the agent with that prompt.
import * as Schema from "effect/Schema"
import { AbsolutePath } from "./values.ts"

export const MAX_ATTACHMENTS = 8
/** Per file, and for all of a thread's attachments together. */
export const MAX_ATTACHMENT_BYTES = 4 * 1024 * 1024
export const MAX_ATTACHMENTS_TOTAL_BYTES = 12 * 1024 * 1024

export const IMAGE_MEDIA_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"] as const

/** Images the agent sees as images; text (UTF-8) it reads as a file. */
export const AttachmentMediaType = Schema.String.check(
  Schema.isPattern(
    /^(image\/(png|jpeg|gif|webp)|text\/[a-z0-9.+-]+|application\/(json|xml|yaml|x-yaml|toml))$/u,
    {
      message:
        "attachments are images (image/png, image/jpeg, image/gif, image/webp) or text (text/*, application/json, xml, yaml, toml)"
    }
  )
)

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const BAD_NAME = /[\u0000-\u001f\u007f\ufffd/\\]/u

/** A file name: one line, no '/' or '\\', at most 200 characters. One check, so its JSON Schema stays flat. */
export const AttachmentName = Schema.String.check(
  Schema.makeFilter(
    (name: string) =>
      name.trim() === "" || name.length > 200 || BAD_NAME.test(name)
        ? "an attachment's name is a file name of 1-200 characters, without '/', '\\' or control characters"
        : undefined,
    { expected: "a file name", toJsonSchema: () => ({ pattern: "^[^/\\\\]*\\S[^/\\\\]*$", maxLength: 200 }) }
  )
)

export const AttachmentInput = Schema.Union([
  Schema.Struct({
    /** An existing file: for an agent, inside its own worktree; for a person, any file the server can read. */
    path: AbsolutePath
  }),
  Schema.Struct({
    name: AttachmentName,
    mediaType: AttachmentMediaType,
    /** The file's bytes, base64-encoded. */
    data: Schema.String.check(
      Schema.isMaxLength(Math.ceil((MAX_ATTACHMENT_BYTES * 4) / 3) + 4, {
        message: `an attachment is at most ${MAX_ATTACHMENT_BYTES / 1024 / 1024} MiB`
      }),
      Schema.isPattern(/^[A-Za-z0-9+/]*={0,2}$/u, {
        message: "data must be base64 (A-Z, a-z, 0-9, +, /, = padding)"
      })
    )
  })
]).annotate({
  identifier: "AttachmentInput",
  description:
    "An image or a text file for the first prompt: {path} of an existing file, or {name, mediaType, data (base64)}"
})
export type AttachmentInput = typeof AttachmentInput.Type

export const Attachments = Schema.Array(AttachmentInput).check(
  Schema.isMaxLength(MAX_ATTACHMENTS, { message: `at most ${MAX_ATTACHMENTS} attachments` })
)

export const ThreadAttachment = Schema.Struct({
  name: Schema.String,
  mediaType: Schema.String,
  kind: Schema.Literals(["image", "text"]),
  bytes: Schema.Int,
  /** Spindle's own copy, under <home>/attachments/<thread>. */
  path: AbsolutePath
}).annotate({ identifier: "ThreadAttachment" })
export type ThreadAttachment = typeof ThreadAttachment.Type
