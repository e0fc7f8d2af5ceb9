// The inputs that choose a thread's workspace, shared by the client commands and the MCP tools:
// a new branch's name, the ref it starts from, a pull request, and which fields apply to which
// workspace mode.
import * as Schema from "effect/Schema"
import { branchNameProblem } from "./branchNames.ts"
import type { WorkspaceMode } from "./values.ts"

// One pattern check, so the JSON Schema stays flat (some MCP clients drop `allOf`).
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
export const REF_PATTERN = /^[^-\s\x00-\x1f\x7f\ufffd][^\x00-\x1f\x7f\ufffd]*$/u
const refPattern = Schema.isPattern(REF_PATTERN, {
  message:
    "branch names must not start with '-' or whitespace, nor contain control characters or U+FFFD (bytes that were not UTF-8)"
})
const refLength = Schema.isMaxLength(250, { message: "branch names must be at most 250 characters" })

/**
 * A new branch's name as typed by a user or an agent; checked against `git check-ref-format` and
 * the repository's remotes, tags and branches before use. Names that git could read as something
 * else (a commit id, a special ref, a remote's branch) or that pass for another name are refused.
 */
export const BranchName = Schema.String.check(
  // The pattern last: a description given with `annotate` lands on the last check, and only the
  // pattern has a JSON Schema to carry it.
  Schema.makeFilter((name: string) => {
    const problem = branchNameProblem(name)
    return problem === undefined
      ? undefined
      : `'${name.slice(0, 100)}' cannot be a new branch's name: ${problem}.`
  }),
  refLength,
  refPattern
)

/** An existing local branch by name (a merge's target): a ref without git's `..` and `@{` syntax. */
export const LocalBranchRef = Schema.String.check(
  Schema.makeFilter((name: string) =>
    name.includes("..") || name.includes("@{")
      ? `'${name.slice(0, 100)}' is not a branch name ('..' and '@{' are git's range and reflog syntax); name a local branch`
      : undefined
  ),
  refLength,
  refPattern
)

/** A git ref (branch, remote-tracking branch, tag or commit) to start a worktree from. */
export const BaseRef = Schema.String.check(refLength, refPattern)

/** A pull request's number on the project's `origin` (`refs/pull/<n>/head`). */
export const PullRequestNumber = Schema.Int.check(
  Schema.isBetween(
    { minimum: 1, maximum: 1_000_000_000 },
    { message: "a pull request number is a whole number from 1" }
  )
)

/** `pr` chooses both the branch's start and its commits: branch and base are refused with it. */
export const prAlone = <K extends string>(others: ReadonlyArray<K>) =>
  Schema.makeFilter((value: { readonly pr?: number | undefined } & { readonly [k in K]?: unknown }) => {
    if (value.pr === undefined) return undefined
    const clash = others.find((field) => value[field] !== undefined)
    return clash === undefined
      ? undefined
      : {
          path: [clash],
          issue: `cannot be given with pr: a pull request's worktree starts from its head on a branch of its own. Give either ${clash} or pr.`
        }
  })

/**
 * Refuses fields that do not apply to the chosen workspace mode (rather than ignoring them) and
 * requires the ones it needs, naming the field. `mode` absent means `new_worktree`.
 */
export const fieldsForMode = <K extends string>(
  rules: Record<
    typeof WorkspaceMode.Type,
    { readonly refused: ReadonlyArray<K>; readonly required?: ReadonlyArray<K> }
  >
) =>
  Schema.makeFilter(
    (value: { readonly mode?: typeof WorkspaceMode.Type | undefined } & { readonly [k in K]?: unknown }) => {
      const mode = value.mode ?? "new_worktree"
      const rule = rules[mode]
      const extra = rule.refused.find((field) => value[field] !== undefined)
      if (extra !== undefined) {
        return { path: [extra], issue: `does not apply to mode ${mode}; leave it out or choose another mode` }
      }
      const missing = rule.required?.find((field) => value[field] === undefined)
      if (missing !== undefined) {
        return { path: [missing], issue: `is required with mode ${mode}` }
      }
      return undefined
    }
  )

/**
 * Starting from a thread's present names the new branch's start by itself: a base, a pull request
 * or a fetch is refused with it, naming `from` (the field that asks for it: `fromThread`, or the
 * tool's `baseBranchSource`), and `includeUncommitted` is refused without it.
 */
export const fromThreadAlone = <K extends string>(
  from: string,
  startsFromThread: (value: { readonly [key: string]: unknown }) => boolean,
  others: ReadonlyArray<K>
) =>
  Schema.makeFilter(
    (value: { readonly includeUncommitted?: boolean | undefined } & { readonly [k in K]?: unknown }) => {
      if (!startsFromThread(value)) {
        return value.includeUncommitted === undefined
          ? undefined
          : {
              path: ["includeUncommitted"],
              issue: `applies only when starting from a thread's present (${from}); give ${from}, or leave includeUncommitted out`
            }
      }
      const clash = others.find((field) => value[field] !== undefined)
      return clash === undefined
        ? undefined
        : {
            path: [from],
            issue: `cannot be given with ${clash}: the new branch starts at the thread's HEAD (plus its uncommitted changes when asked). Give either ${from} or ${clash}.`
          }
    }
  )
