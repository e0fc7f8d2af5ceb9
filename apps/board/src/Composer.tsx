// The thread page's composer: a follow-up prompt (into the running turn when the agent can take
// it) sent with the button or Ctrl/Cmd+Enter, with files attached by dropping them on it, pasting
// them, or picking them. Files go inline (base64, as `attachments`); the server checks them again
// and answers a bad one by its index.
import {
  AttachmentMediaType,
  MAX_ATTACHMENT_BYTES,
  MAX_ATTACHMENTS,
  MAX_ATTACHMENTS_TOTAL_BYTES
} from "@spindle/contracts"
import * as Schema from "effect/Schema"
import { useRef, useState } from "preact/hooks"

/** The server's own check of a media type, made here first to say so at once. */
const attachable = Schema.is(AttachmentMediaType)

export interface PickedFile {
  readonly name: string
  readonly mediaType: string
  readonly bytes: number
  readonly data: string
}

const base64 = (buffer: ArrayBuffer) => {
  const bytes = new Uint8Array(buffer)
  let binary = ""
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(binary)
}

const sizeText = (bytes: number) =>
  bytes < 1024
    ? `${bytes} B`
    : bytes < 1024 * 1024
      ? `${Math.round(bytes / 1024)} KiB`
      : `${(bytes / 1024 / 1024).toFixed(1)} MiB`

/** A file as an attachment, or why it cannot be one. */
const pick = async (file: File): Promise<PickedFile | string> => {
  const type = file.type === "" ? "text/plain" : file.type
  if (!attachable(type))
    return `${file.name}: attach an image (PNG, JPEG, GIF, WebP) or a text file, not ${type}.`
  if (file.size > MAX_ATTACHMENT_BYTES)
    return `${file.name} is larger than ${sizeText(MAX_ATTACHMENT_BYTES)}.`
  const name = file.name === "" ? `pasted-${Date.now()}.${type.split("/")[1]}` : file.name
  return { name, mediaType: type, bytes: file.size, data: base64(await file.arrayBuffer()) }
}

export const Composer = ({
  running,
  archived,
  send,
  warn
}: {
  /** A turn runs (or is about to): the prompt steers it. */
  running: boolean
  archived: boolean
  /** Sends the prompt and its files; resolves to false when the server refused it (and said why). */
  send: (prompt: string, files: ReadonlyArray<PickedFile>) => Promise<boolean>
  warn: (message: string) => void
}) => {
  const [prompt, setPrompt] = useState("")
  const [files, setFiles] = useState<ReadonlyArray<PickedFile>>([])
  const [over, setOver] = useState(false)
  const picker = useRef<HTMLInputElement>(null)

  const add = async (list: ReadonlyArray<File>) => {
    const picked = await Promise.all(list.map(pick))
    setFiles((current) => {
      const next = [...current]
      for (const file of picked) {
        if (typeof file === "string") warn(file)
        else if (next.length >= MAX_ATTACHMENTS)
          warn(`At most ${MAX_ATTACHMENTS} files go with a prompt; ${file.name} was left out.`)
        else if (next.reduce((n, f) => n + f.bytes, file.bytes) > MAX_ATTACHMENTS_TOTAL_BYTES)
          warn(
            `Files with a prompt hold ${sizeText(MAX_ATTACHMENTS_TOTAL_BYTES)} in all; ${file.name} was left out.`
          )
        else next.push(file)
      }
      return next
    })
  }

  return (
    <form
      class={over ? "composer drop-over" : "composer"}
      data-testid="composer"
      onSubmit={(e) => {
        e.preventDefault()
        void send(prompt, files).then((sent) => {
          if (!sent) return
          setPrompt("")
          setFiles([])
        })
      }}
      onDragOver={(e) => {
        if (!e.dataTransfer?.types.includes("Files")) return
        e.preventDefault()
        setOver(true)
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        const dropped = Array.from(e.dataTransfer?.files ?? [])
        setOver(false)
        if (dropped.length === 0) return
        e.preventDefault()
        void add(dropped)
      }}
    >
      <textarea
        rows={2}
        placeholder={
          running
            ? "Steer the running turn… (drop or paste files to attach)"
            : "A follow-up prompt… (drop or paste files to attach)"
        }
        value={prompt}
        data-testid="follow-up"
        aria-label="Follow-up prompt (Ctrl+Enter or Cmd+Enter sends it)"
        onInput={(e) => setPrompt((e.currentTarget as HTMLTextAreaElement).value)}
        onPaste={(e) => {
          const pasted = Array.from(e.clipboardData?.files ?? [])
          if (pasted.length === 0) return
          e.preventDefault()
          void add(pasted)
        }}
        onKeyDown={(e) => {
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
            e.preventDefault()
            ;(e.currentTarget as HTMLTextAreaElement).form?.requestSubmit()
          }
        }}
      />
      {files.length === 0 ? null : (
        <ul class="file-chips" aria-label="Files to send">
          {files.map((file, i) => (
            <li key={`${i}-${file.name}`} data-testid="attachment">
              {file.name} <span class="muted">{sizeText(file.bytes)}</span>
              <button
                type="button"
                class="small"
                aria-label={`Remove ${file.name}`}
                onClick={() => setFiles((current) => current.filter((_, j) => j !== i))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <div class="buttons">
        <input
          ref={picker}
          type="file"
          multiple
          hidden
          data-testid="attach-input"
          onChange={(e) => {
            const input = e.currentTarget as HTMLInputElement
            void add(Array.from(input.files ?? []))
            input.value = ""
          }}
        />
        <button type="button" onClick={() => picker.current?.click()}>
          Attach files
        </button>
        <button type="submit" class="primary" disabled={prompt.trim() === "" || archived}>
          Send
        </button>
      </div>
    </form>
  )
}
