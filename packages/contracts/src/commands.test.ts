// A bootstrap's workspace refuses the fields its mode does not use, naming them, and requires the
// ones it needs; branch names stay one flat pattern.
import { assert, describe, it } from "@effect/vitest"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"
import { ThreadTurnStart } from "./commands.ts"
import { toJsonSchema } from "./jsonSchema.ts"
import { BranchName } from "./workspaceInput.ts"

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

const turnStart = (workspace: Record<string, unknown>) => ({
  type: "thread.turn.start",
  commandId: "c1",
  threadId: "t1",
  prompt: "go",
  bootstrap: { createThread: { projectId: "p1" }, workspace }
})

/** The first issue's dotted path and message, or undefined when the command decodes. */
const firstIssue = (input: unknown) => {
  const exit = Schema.decodeUnknownExit(ThreadTurnStart)(input, {
    errors: "first",
    onExcessProperty: "error"
  })
  if (Exit.isSuccess(exit)) return undefined
  const error = (exit.cause.reasons[0] as { error: Schema.SchemaError }).error
  const first = formatter(error.issue).issues[0]
  return { path: (first?.path ?? []).map(String).join("."), message: first?.message ?? "" }
}

describe("bootstrap workspace fields per mode", () => {
  it("accepts each mode with the fields it uses", () => {
    assert.isUndefined(
      firstIssue(turnStart({ mode: "new_worktree", branch: "b", baseBranch: "main", fetchBase: true }))
    )
    assert.isUndefined(firstIssue(turnStart({ mode: "existing_worktree", worktreePath: "/repo/wt" })))
    assert.isUndefined(firstIssue(turnStart({ mode: "current_checkout" })))
  })

  const refused: Array<[Record<string, unknown>, string]> = [
    [{ mode: "new_worktree", worktreePath: "/repo/wt" }, "worktreePath"],
    [{ mode: "existing_worktree", worktreePath: "/repo/wt", branch: "b" }, "branch"],
    [{ mode: "existing_worktree", worktreePath: "/repo/wt", baseBranch: "main" }, "baseBranch"],
    [{ mode: "existing_worktree", worktreePath: "/repo/wt", fetchBase: false }, "fetchBase"],
    [{ mode: "current_checkout", worktreePath: "/repo" }, "worktreePath"],
    [{ mode: "current_checkout", branch: "b" }, "branch"],
    [{ mode: "current_checkout", baseBranch: "main" }, "baseBranch"],
    [{ mode: "current_checkout", fetchBase: true }, "fetchBase"]
  ]
  for (const [workspace, field] of refused) {
    it(`refuses ${field} with ${workspace.mode}, naming it`, () => {
      const issue = firstIssue(turnStart(workspace))
      assert.strictEqual(issue?.path, `bootstrap.workspace.${field}`)
      assert.include(issue?.message, `does not apply to mode ${workspace.mode}`)
    })
  }

  it("requires worktreePath with existing_worktree", () => {
    const issue = firstIssue(turnStart({ mode: "existing_worktree" }))
    assert.strictEqual(issue?.path, "bootstrap.workspace.worktreePath")
    assert.include(issue?.message, "required with mode existing_worktree")
  })
})

describe("bootstrap workspace from a thread's present", () => {
  it("accepts fromThread for new_worktree, with a branch and includeUncommitted", () => {
    assert.isUndefined(firstIssue(turnStart({ mode: "new_worktree", fromThread: "t-1" })))
    assert.isUndefined(
      firstIssue(
        turnStart({ mode: "new_worktree", fromThread: "t-1", branch: "b", includeUncommitted: true })
      )
    )
  })

  const refused: Array<[Record<string, unknown>, string, string]> = [
    [
      { mode: "new_worktree", fromThread: "t-1", baseBranch: "main" },
      "fromThread",
      "cannot be given with baseBranch"
    ],
    [
      { mode: "new_worktree", fromThread: "t-1", fetchBase: true },
      "fromThread",
      "cannot be given with fetchBase"
    ],
    [{ mode: "new_worktree", fromThread: "t-1", pr: 4 }, "fromThread", "cannot be given with pr"],
    [{ mode: "new_worktree", includeUncommitted: true }, "includeUncommitted", "give fromThread"],
    [{ mode: "new_worktree", includeUncommitted: false }, "includeUncommitted", "give fromThread"],
    [
      { mode: "current_checkout", fromThread: "t-1" },
      "fromThread",
      "does not apply to mode current_checkout"
    ],
    [
      { mode: "existing_worktree", worktreePath: "/w", includeUncommitted: true },
      "includeUncommitted",
      "does not apply to mode existing_worktree"
    ],
    [{ mode: "new_worktree", fromThread: "../etc" }, "fromThread", ""]
  ]
  for (const [workspace, field, said] of refused) {
    it(`refuses ${JSON.stringify(workspace)}, naming ${field}`, () => {
      const issue = firstIssue(turnStart(workspace))
      assert.strictEqual(issue?.path, `bootstrap.workspace.${field}`)
      assert.include(issue?.message, said)
    })
  }
})

describe("BranchName", () => {
  it("refuses option-like, blank-led and control-character names with one flat pattern", () => {
    const decode = Schema.decodeUnknownExit(BranchName)
    assert.isTrue(Exit.isSuccess(decode("feature/login")))
    for (const bad of ["--upload-pack=x", "-b", " lead", "a\u0000b", "a\nb", "topic\ufffd"]) {
      assert.isTrue(Exit.isFailure(decode(bad)), JSON.stringify(bad))
    }
    const schema = JSON.stringify(toJsonSchema(Schema.Struct({ branch: BranchName })))
    assert.notInclude(schema, "allOf")
  })
})

describe("bootstrap queue", () => {
  it("takes a boolean, and names the field otherwise", () => {
    const withQueue = (queue: unknown) => ({
      ...turnStart({ mode: "new_worktree" }),
      bootstrap: { createThread: { projectId: "p1" }, workspace: { mode: "new_worktree" }, queue }
    })
    assert.isUndefined(firstIssue(withQueue(false)))
    assert.isUndefined(firstIssue(withQueue(true)))
    const issue = firstIssue(withQueue("no"))
    assert.strictEqual(issue?.path, "bootstrap.queue")
    assert.match(issue?.message ?? "", /boolean/)
  })
})
