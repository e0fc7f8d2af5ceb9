// Turns decoded output chunks into whole lines with a bounded buffer. It knows nothing about
// where the lines go (log file, tail, subscribers).

/** Longer lines are split so that a script printing without newlines cannot grow the buffer. */
export const MAX_LINE_LENGTH = 64 * 1024

export class LineSplitter {
  #partial = ""
  readonly maxLineLength: number

  constructor(maxLineLength: number = MAX_LINE_LENGTH) {
    this.maxLineLength = maxLineLength
  }

  /** The complete lines in `text` (without their `\n` or `\r\n`); an unfinished line is kept for later. */
  push(text: string): Array<string> {
    const lines: Array<string> = []
    let buffered = this.#partial + text
    let start = 0
    for (let newline = buffered.indexOf("\n"); newline !== -1; newline = buffered.indexOf("\n", start)) {
      this.#pushLine(lines, buffered.slice(start, newline))
      start = newline + 1
    }
    buffered = buffered.slice(start)
    while (buffered.length > this.maxLineLength) {
      lines.push(buffered.slice(0, this.maxLineLength))
      buffered = buffered.slice(this.maxLineLength)
    }
    this.#partial = buffered
    return lines
  }

  /** The unfinished last line, if any: output that ended without a newline. */
  flush(): Array<string> {
    const rest = this.#partial
    this.#partial = ""
    return rest === "" ? [] : [rest.endsWith("\r") ? rest.slice(0, -1) : rest]
  }

  #pushLine(lines: Array<string>, line: string) {
    let text = line.endsWith("\r") ? line.slice(0, -1) : line
    while (text.length > this.maxLineLength) {
      lines.push(text.slice(0, this.maxLineLength))
      text = text.slice(this.maxLineLength)
    }
    lines.push(text)
  }
}
