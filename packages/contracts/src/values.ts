// Small value schemas shared by the read models, commands and events.
import * as Schema from "effect/Schema"

/** An ISO-8601 timestamp in UTC, as produced by `DateTime.formatIso`. */
export const IsoTimestamp = Schema.String.check(
  Schema.isPattern(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/u, {
    message: "expected an ISO-8601 UTC timestamp such as 2026-01-01T00:00:00.000Z"
  })
)

// C0 controls, DEL and C1 controls. Multi-line text keeps tab, line feed and carriage return;
// single-line text also refuses the Unicode line and paragraph separators.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const MULTILINE_FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/u
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const SINGLE_LINE_FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u
/**
 * A character a reader can see: not whitespace, not a control, format or combining character,
 * not default-ignorable (U+200B, U+2060, U+FEFF, U+3164, ...) and not the blank braille cell.
 */
const VISIBLE = /[^\s\p{Cc}\p{Cf}\p{Z}\p{M}\p{Default_Ignorable_Code_Point}\u2800]/u
/**
 * Half of a surrogate pair on its own: not text, and JSON parsers in other languages (the agent's
 * provider) refuse it. Checked in prompts only: a default title cut from a prompt may split a pair.
 */
const LONE_SURROGATE = /\p{Cs}/u
/**
 * The bidirectional controls (embeddings, overrides, isolates, marks): they make a line display in
 * another order than it reads, so a title could show as something else in a list or a terminal.
 */
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u
/** `text` without bidi controls: a default title made from a prompt or a folder name. */
export const withoutBidiControls = (text: string) => text.replace(new RegExp(BIDI_CONTROLS.source, "gu"), "")
/** U+FFFD is what a decoder leaves where bytes were not UTF-8: the sender's text was damaged. */
const REPLACEMENT = "\ufffd"

interface TextRules {
  /** The most characters once leading and trailing whitespace is trimmed. */
  readonly max: number
  /** Newlines and tabs are allowed (prompts, scripts); labels are one line. */
  readonly multiline: boolean
  /** Bidi controls are refused (titles people and agents send). */
  readonly refuseBidi?: boolean
}

/**
 * One check for a human-written text field: no control characters, at least one visible
 * character, and a length bound on the trimmed text. One check, so a JSON Schema keeps one flat
 * `pattern` per property (some MCP clients drop `allOf`).
 */
const textCheck = ({ max, multiline, refuseBidi = false }: TextRules) =>
  Schema.makeFilter<string>(
    (text) => {
      if ((multiline ? MULTILINE_FORBIDDEN : SINGLE_LINE_FORBIDDEN).test(text)) {
        return multiline
          ? "must not contain NUL or other control characters (newlines and tabs are fine); remove them"
          : "must be one line without NUL, tabs, line breaks or other control characters; remove them"
      }
      if (refuseBidi && BIDI_CONTROLS.test(text)) {
        return "must not contain bidirectional controls (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C), which make a line display in another order than it reads; remove them"
      }
      if (text.includes(REPLACEMENT)) {
        return "holds U+FFFD, the mark a decoder leaves where bytes were not valid UTF-8; send the text as valid UTF-8"
      }
      if (multiline && LONE_SURROGATE.test(text)) {
        return "must be valid Unicode text (it holds a lone surrogate such as \\ud800); send the text as UTF-8"
      }
      if (!VISIBLE.test(text)) {
        return "must contain at least one visible character, not only whitespace or invisible characters such as U+200B or U+FEFF"
      }
      if (text.trim().length > max) {
        return `must be at most ${max} characters (leading and trailing whitespace not counted); shorten it`
      }
      return undefined
    },
    {
      expected: `${multiline ? "text" : "a single line"} with a visible character, at most ${max} characters trimmed`,
      // What JSON Schema can say cheaply; the server checks the rest and names the field.
      toJsonSchema: () => ({ pattern: "\\S" })
    }
  )

/** Single-line text (titles, tags, names): at most `max` characters once trimmed. */
export const boundedText = (max: number) => Schema.String.check(textCheck({ max, multiline: false }))

/** Text that may span lines (prompts): at most `max` characters once trimmed. */
export const multilineText = (max: number) => Schema.String.check(textCheck({ max, multiline: true }))

/** The longest title and tag (trimmed). */
export const MAX_TITLE_LENGTH = 200
export const MAX_TAG_LENGTH = 64

/** A title as people and agents send it (commands, MCP tools): no bidi controls either. */
export const Title = Schema.String.check(
  textCheck({ max: MAX_TITLE_LENGTH, multiline: false, refuseBidi: true })
).annotate({
  description: `One line, at most ${MAX_TITLE_LENGTH} characters (trimmed), with a visible character and no bidirectional controls`
})

/**
 * A title as recorded (events, read models): what Title accepted when it was written. Titles from
 * before bidi controls were refused may hold them, and a stored row must keep decoding (a server
 * whose log no longer decodes does not start); every display escapes them.
 */
export const StoredTitle = boundedText(200).annotate({
  description: "One line, at most 200 characters (trimmed), with a visible character"
})

/** An absolute path on the server's machine. */
export const AbsolutePath = Schema.String.check(
  Schema.isMaxLength(4096, { message: "paths must be at most 4096 characters" }),
  Schema.isStartingWith("/", { message: "must be an absolute path (starting with '/')" }),
  Schema.makeFilter(
    (path: string) =>
      // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
      /[\u0000-\u001f\u007f\ufffd]/u.test(path)
        ? "paths must be valid UTF-8 without NUL or other control characters"
        : undefined,
    // Nothing to add to the JSON Schema, but exporting the check keeps a description on the path.
    { expected: "a UTF-8 path without control characters", toJsonSchema: () => ({}) }
  )
)

/**
 * Providers: `codex` (Codex's app-server), `command` (any CLI agent, one process a turn), `acp` (the
 * project's own Agent Client Protocol agent, `acpAgent`), and ACP presets: `claude` (Claude Code
 * through its ACP adapter), `gemini` (Gemini CLI), `opencode`, `codex-acp` (Codex through its ACP
 * adapter).
 */
export const PROVIDER_KINDS = [
  "codex",
  "command",
  "acp",
  "claude",
  "gemini",
  "opencode",
  "codex-acp"
] as const
export const ProviderKind = Schema.Literals(PROVIDER_KINDS).annotate({
  description: "The agent provider that runs the thread's turns"
})
export type ProviderKind = typeof ProviderKind.Type

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$/u

/**
 * A model name as a safe token (`gpt-5-codex`, `openai/gpt-4o`, `llama3:8b`,
 * `us.anthropic.claude-v1:0`) until a provider registry checks names for real: never a flag,
 * never more than one shell word, never a `..` path step.
 */
export const ModelName = Schema.String.check(
  Schema.makeFilter(
    (name: string) =>
      MODEL_NAME.test(name) && !name.includes("..")
        ? undefined
        : "model names must be 1-200 characters of letters, digits, '.', '_', ':', '/' or '-', starting with a letter or digit, without '..'",
    { expected: "a model name such as gpt-5-codex", toJsonSchema: () => ({ pattern: MODEL_NAME.source }) }
  )
).annotate({ description: "A model name such as gpt-5-codex: 1-200 of letters, digits and . _ : / -" })

/**
 * What a thread's agent may do on the host without asking, least to most: `approval-required` asks
 * before commands and edits; `auto-accept-edits` asks before commands; `sandboxed` runs commands
 * freely inside a sandbox that may write only its worktree (and temp), with no network, and asks to
 * step outside; `full-access` runs anything, anywhere, with the network, and never asks.
 */
export const RuntimeMode = Schema.Literals([
  "approval-required",
  "auto-accept-edits",
  "sandboxed",
  "full-access"
]).annotate({
  description:
    "What the agent may do without asking: approval-required (asks before commands and edits) < auto-accept-edits (asks before commands) < sandboxed (commands run freely in a sandbox that writes only the worktree, no network; asks to step outside) < full-access (anything, anywhere, no questions)"
})
export type RuntimeMode = typeof RuntimeMode.Type

export const InteractionMode = Schema.Literals(["default", "plan"])
export type InteractionMode = typeof InteractionMode.Type

/**
 * What a child's end (or approval request) does for its parent: `wake` starts a turn for an idle
 * parent with the results, `next-prompt` gives them with its next prompt (or into its running
 * turn), `none` tells it nothing.
 */
export const OnDone = Schema.Literals(["wake", "next-prompt", "none"]).annotate({ identifier: "OnDone" })
export type OnDone = typeof OnDone.Type

export const WorkspaceMode = Schema.Literals(["new_worktree", "existing_worktree", "current_checkout"])
export type WorkspaceMode = typeof WorkspaceMode.Type

/** A tag on a thread; a list of tags is always a JSON array, never a comma-separated string. */
export const Tag = boundedText(MAX_TAG_LENGTH)
export const Tags = Schema.Array(Tag).check(Schema.isMaxLength(32, { message: "at most 32 tags; drop some" }))

/** The longest first prompt we accept (trimmed). */
export const MAX_PROMPT_LENGTH = 120_000
export const Prompt = multilineText(MAX_PROMPT_LENGTH).annotate({
  description: `The agent's message: at most ${MAX_PROMPT_LENGTH} characters (trimmed), with a visible character`
})

export const SetupScript = multilineText(20_000).annotate({
  description: "A shell command run with /bin/sh -c in the new worktree"
})

export const SetupTimeoutSeconds = Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 86_400 }))
export const DEFAULT_SETUP_TIMEOUT_SECONDS = 900

/** Who caused an event: a client token, a provider session, or the server itself. */
export const Actor = Schema.Union([
  Schema.Struct({ kind: Schema.Literal("client"), tokenId: Schema.String }),
  Schema.Struct({ kind: Schema.Literal("provider-session"), sessionId: Schema.String }),
  Schema.Struct({ kind: Schema.Literal("server") })
])
export type Actor = typeof Actor.Type

/** Own keys that reach prototype machinery when a decoded object is merged or indexed by key. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"])

/** Input decoded from JSON may nest this deep (commands need 4 levels). */
export const MAX_INPUT_DEPTH = 32

export interface UnsafeInput {
  /** Dotted path of the offending key, or of the value nested too deep. */
  readonly field: string
  readonly message: string
}

/**
 * The first own key named `__proto__`, `constructor` or `prototype` anywhere in a value decoded
 * from JSON, or the first value nested deeper than MAX_INPUT_DEPTH. Every transport runs this
 * before decoding, so no such key reaches a schema, a merge or a lookup.
 */
export const findUnsafeInput = (value: unknown): UnsafeInput | undefined => {
  const walk = (node: unknown, path: ReadonlyArray<string>): UnsafeInput | undefined => {
    if (node === null || typeof node !== "object") return undefined
    if (path.length >= MAX_INPUT_DEPTH) {
      return {
        field: path.join("."),
        message: `input is nested more than ${MAX_INPUT_DEPTH} levels deep; send a flatter value`
      }
    }
    const keys = Array.isArray(node) ? node.keys() : Object.keys(node)
    for (const key of keys) {
      const name = String(key)
      if (FORBIDDEN_KEYS.has(name)) {
        return {
          field: [...path, name].join("."),
          message: `the key '${name}' is not allowed anywhere in the input; remove it`
        }
      }
      const found = walk((node as Record<string, unknown>)[name], [...path, name])
      if (found !== undefined) return found
    }
    return undefined
  }
  return walk(value, [])
}
