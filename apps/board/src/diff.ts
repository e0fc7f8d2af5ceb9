// A unified diff as the board shows it: files with their hunks' lines (old and new line numbers),
// paired into rows for the split view, and a small highlighter for code (strings, comments,
// numbers, keywords) that yields text pieces, never HTML. Pure functions.

export interface DiffLine {
  readonly kind: "context" | "add" | "del" | "hunk"
  readonly text: string
  readonly oldLine: number | null
  readonly newLine: number | null
}

export interface DiffFile {
  readonly path: string
  /** "added", "deleted", "renamed", "binary" or "changed". */
  readonly status: string
  readonly added: number
  readonly removed: number
  readonly lines: ReadonlyArray<DiffLine>
}

const HUNK = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/

/** The files of a `git diff` patch, in order. */
export const parsePatch = (patch: string): Array<DiffFile> => {
  const files: Array<DiffFile & { lines: Array<DiffLine>; added: number; removed: number; status: string }> =
    []
  let current: (typeof files)[number] | undefined
  let oldLine = 0
  let newLine = 0
  let inHunk = false
  for (const line of patch.split("\n")) {
    if (line.startsWith("diff --git ")) {
      const match = / b\/(.*)$/.exec(line)
      current = { path: match?.[1] ?? line.slice(11), status: "changed", added: 0, removed: 0, lines: [] }
      files.push(current)
      inHunk = false
      continue
    }
    if (current === undefined) continue
    if (!inHunk) {
      if (line.startsWith("new file mode")) current.status = "added"
      else if (line.startsWith("deleted file mode")) current.status = "deleted"
      else if (line.startsWith("rename to ")) current.status = "renamed"
      else if (line.startsWith("Binary files ")) current.status = "binary"
    }
    const hunk = HUNK.exec(line)
    if (hunk !== null) {
      inHunk = true
      oldLine = Number(hunk[1])
      newLine = Number(hunk[2])
      current.lines.push({ kind: "hunk", text: line, oldLine: null, newLine: null })
      continue
    }
    if (!inHunk) continue
    if (line.startsWith("+")) {
      current.added++
      current.lines.push({ kind: "add", text: line.slice(1), oldLine: null, newLine: newLine++ })
    } else if (line.startsWith("-")) {
      current.removed++
      current.lines.push({ kind: "del", text: line.slice(1), oldLine: oldLine++, newLine: null })
    } else if (line.startsWith(" ")) {
      current.lines.push({ kind: "context", text: line.slice(1), oldLine: oldLine++, newLine: newLine++ })
    }
  }
  return files
}

/** A row of the split view: the old side and the new side (a removed line beside the line that replaced it). */
export interface SplitRow {
  readonly left: DiffLine | null
  readonly right: DiffLine | null
}

export const splitRows = (lines: ReadonlyArray<DiffLine>): Array<SplitRow> => {
  const rows: Array<SplitRow> = []
  let i = 0
  while (i < lines.length) {
    const line = lines[i] as DiffLine
    if (line.kind !== "del") {
      rows.push(line.kind === "add" ? { left: null, right: line } : { left: line, right: line })
      i++
      continue
    }
    const dels: Array<DiffLine> = []
    while (i < lines.length && lines[i]?.kind === "del") dels.push(lines[i++] as DiffLine)
    const adds: Array<DiffLine> = []
    while (i < lines.length && lines[i]?.kind === "add") adds.push(lines[i++] as DiffLine)
    for (let j = 0; j < Math.max(dels.length, adds.length); j++)
      rows.push({ left: dels[j] ?? null, right: adds[j] ?? null })
  }
  return rows
}

export type Token = {
  readonly kind: "plain" | "string" | "comment" | "number" | "keyword"
  readonly text: string
}

const KEYWORDS = new Set(
  (
    "as async await break case catch class const continue def default defer delete do elif else enum export " +
    "extends false fn for from func function go if impl import in interface let match mod new nil None not " +
    "null or package pass pub raise return self static struct super switch this throw true True False try " +
    "type typeof undefined use var void while with yield"
  ).split(" ")
)

const TOKEN =
  /(\/\/.*$|#(?=\s|$).*$|\/\*.*?\*\/|"(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?|`(?:[^`\\]|\\.)*`?)|\b(\d[\d_.]*(?:e[+-]?\d+)?)\b|\b([A-Za-z_][A-Za-z0-9_]*)\b/g

/** A line of code in tokens (a guess that fits most languages; the text is kept whole). */
export const highlight = (text: string): Array<Token> => {
  const tokens: Array<Token> = []
  let at = 0
  for (const match of text.matchAll(TOKEN)) {
    const index = match.index ?? 0
    const [whole, stringOrComment, number, word] = match
    if (word !== undefined && !KEYWORDS.has(word)) continue
    if (index > at) tokens.push({ kind: "plain", text: text.slice(at, index) })
    const kind =
      stringOrComment !== undefined
        ? /^(\/\/|#|\/\*)/.test(stringOrComment)
          ? "comment"
          : "string"
        : number !== undefined
          ? "number"
          : "keyword"
    tokens.push({ kind, text: whole })
    at = index + whole.length
  }
  if (at < text.length) tokens.push({ kind: "plain", text: text.slice(at) })
  return tokens
}
