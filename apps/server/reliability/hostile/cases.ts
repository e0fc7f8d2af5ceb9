// The shape of a hostile input and what it must get back, shared by the WebSocket and MCP
// generators, plus small builders (deep copies with one field changed or removed, raw JSON with
// keys JavaScript objects cannot carry, nested values, confusable ids).
import type { ErrorReason } from "@spindle/contracts"

export type Reason = ErrorReason

/** What a case must be answered with. */
export type Expectation =
  /** A SpindleError (or an MCP tool error) with one of these reasons. */
  | { readonly reasons: ReadonlyArray<Reason>; readonly field?: string }
  /** MCP: a JSON-RPC error (any code), or a tool error with one of these reasons. */
  | { readonly rpcOr: ReadonlyArray<Reason>; readonly field?: string }
  /** Any answer to the request that is not a success (protocol-level input the RPC layer owns). */
  | { readonly refusal: true }
  /** A frame that is not a request: any protocol answer or a close with a code. */
  | { readonly frame: true }

export interface Verdict {
  readonly ok: boolean
  /** What came back, in a few words. */
  readonly got: string
}

export const VALIDATION: Expectation = { reasons: ["validation"] }
export const rpcOrValidation = (field?: string): Expectation => ({
  rpcOr: ["validation"],
  ...(field === undefined ? {} : { field })
})

/** A deep copy of `value` with `path` set to `replacement` (or removed when `replacement` is REMOVE). */
export const REMOVE = Symbol("remove")
export const withField = <T>(value: T, path: ReadonlyArray<string>, replacement: unknown): T => {
  const copy = structuredClone(value) as Record<string, unknown>
  let node = copy
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>
  const last = path.at(-1)!
  if (replacement === REMOVE) delete node[last]
  else node[last] = replacement
  return copy as T
}

/** `json` (an object's JSON text) with `"key": valueJson` added as its first member. */
export const withRawKey = (json: string, key: string, valueJson: string) =>
  `{${JSON.stringify(key)}:${valueJson},${json.slice(1)}`

/** Arrays nested `depth` deep, as JSON text. */
export const nestedArrays = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`

/** Objects nested `depth` deep, as JSON text. */
export const nestedObjects = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`

/** Ids that look like `id` to a person but are other strings. */
export const confusablesOf = (id: string): ReadonlyArray<readonly [string, string]> => [
  ["Cyrillic a", id.replace("a", "\u0430")],
  ["Cyrillic p", id.replace("p", "\u0440")],
  ["zero-width space", `${id.slice(0, 1)}\u200b${id.slice(1)}`],
  ["zero-width joiner", `${id}\u200d`],
  ["fullwidth letters", id.replace(/[a-z]/u, (c) => String.fromCodePoint(c.codePointAt(0)! + 0xfee0))],
  ["combining acute", `${id}\u0301`],
  ["right-to-left override", `\u202e${id}`],
  ["mathematical digit", `${id.replace(/\d/u, "")}\u{1d7cf}`],
  ["trailing space", `${id} `],
  ["non-breaking space", `${id}\u00a0`]
]

/** Wrong-typed stand-ins for a string, a boolean, a number and an enum value. */
export const NOT_STRINGS: ReadonlyArray<unknown> = [42, true, null, { value: "x" }, ["x"]]
export const NOT_BOOLEANS: ReadonlyArray<unknown> = ["true", 1, null, {}]
export const NOT_NUMBERS: ReadonlyArray<unknown> = ["5", 1.5, -1, 1e308, null, {}]
export const NOT_ENUMS: ReadonlyArray<unknown> = ["", "NEW_WORKTREE", 0, null, ["new_worktree"]]

export const label = (value: unknown) => {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 24 ? `${text.slice(0, 21)}…` : text
}

/** Control characters and invisible text a prompt, title, tag or name must refuse. */
export const CONTROL_TEXTS: ReadonlyArray<readonly [string, string]> = [
  ["NUL inside", "hello\u0000world"],
  ["only NUL", "\u0000"],
  ["BEL", "ring \u0007 the bell"],
  ["ANSI escape", "\u001b[31mred\u001b[0m"],
  ["DEL", "del\u007f"],
  ["C1 CSI", "c1 \u009b 2J"],
  ["only whitespace", " \n\t  "],
  ["only zero-width spaces", "\u200b\u200b\u200b"]
]

/** Branch names git or our rules refuse (as a new branch). */
export const BAD_BRANCHES: ReadonlyArray<string> = [
  "-x",
  "--force",
  "-",
  "a..b",
  "@{1}",
  "@",
  "a b",
  "a~1",
  "a^2",
  "a:b",
  "a?b",
  "a*b",
  "a[b",
  "a\\b",
  ".hidden",
  "a/.b",
  "x.lock",
  "a/",
  "/a",
  "a//b",
  "a@{b",
  " leading",
  "main",
  "HEAD"
]

/** Base refs that must not become the start of a worktree. */
export const BAD_BASE_REFS: ReadonlyArray<string> = [
  "-x",
  "--upload-pack=touch /tmp/spindle-pwned",
  "main..main",
  "main^{tree}",
  "main:README.md",
  "no-such-branch",
  "../main",
  "@{-1}"
]
