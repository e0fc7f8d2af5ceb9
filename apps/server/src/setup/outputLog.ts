// The bounded record of one setup run's output: the bytes that go to the log file (capped, with
// one truncation notice) and the last 8 KiB kept in memory. Pure: it does no I/O itself.

export const DEFAULT_MAX_LOG_BYTES = 32 * 1024 * 1024
export const TAIL_BYTES = 8 * 1024

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const empty = new Uint8Array(0)

const formatBytes = (bytes: number) =>
  bytes % (1024 * 1024) === 0
    ? `${bytes / (1024 * 1024)} MiB`
    : bytes % 1024 === 0
      ? `${bytes / 1024} KiB`
      : `${bytes} bytes`

/** The one line that ends a capped log file. */
export const truncationNotice = (maxBytes: number) =>
  `[spindle] Output truncated: the setup log reached its ${formatBytes(maxBytes)} cap. ` +
  "The script kept running; later output is not saved here.\n"

/** The end of `text` that fits in `limit` UTF-8 bytes, starting on a line (or at least a character) boundary. */
export const lastBytes = (text: string, limit: number): string => {
  const bytes = encoder.encode(text)
  if (bytes.length <= limit) return text
  let start = bytes.length - limit
  if (bytes[start - 1] !== 10) {
    const newline = bytes.indexOf(10, start)
    if (newline !== -1 && newline < bytes.length - 1) start = newline + 1
    else while (start < bytes.length && ((bytes[start] ?? 0) & 0xc0) === 0x80) start++
  }
  return decoder.decode(bytes.subarray(start))
}

export class OutputLog {
  #written = 0
  #truncated = false
  #tail = ""
  readonly #notice: Uint8Array
  /** Room for output: the notice is reserved inside the cap (when the cap can hold it at all). */
  readonly #budget: number

  readonly maxBytes: number
  readonly tailBytes: number

  constructor(maxBytes: number = DEFAULT_MAX_LOG_BYTES, tailBytes: number = TAIL_BYTES) {
    this.maxBytes = maxBytes
    this.tailBytes = tailBytes
    this.#notice = encoder.encode(truncationNotice(maxBytes))
    this.#budget = Math.max(0, maxBytes - this.#notice.length)
  }

  /** Bytes handed out for the file so far; the file's size once they are written. */
  get bytesWritten(): number {
    return this.#written
  }

  get truncated(): boolean {
    return this.#truncated
  }

  /** The last `tailBytes` of all output, including output after the cap. */
  get tail(): string {
    return this.#tail
  }

  /** Records whole lines (without newlines); returns the bytes to append to the log file. */
  append(lines: ReadonlyArray<string>): Uint8Array {
    if (lines.length === 0) return empty
    const text = `${lines.join("\n")}\n`
    // Characters are at least one byte each, so the last `tailBytes` characters hold the last `tailBytes` bytes.
    this.#tail = lastBytes(this.#tail + text.slice(-this.tailBytes), this.tailBytes)
    if (this.#truncated) return empty
    const bytes = encoder.encode(text)
    if (this.#written + bytes.length <= this.#budget) {
      this.#written += bytes.length
      return bytes
    }
    let fits = 0
    for (const line of lines) {
      const size = encoder.encode(line).length + 1
      if (this.#written + fits + size > this.#budget) break
      fits += size
    }
    const out = new Uint8Array(fits + this.#notice.length)
    out.set(bytes.subarray(0, fits))
    out.set(this.#notice, fits)
    this.#written += out.length
    this.#truncated = true
    return out
  }
}
