// t3_thread_start's input refuses the fields its mode does not use, naming them as the agent wrote
// them, and stays a flat JSON Schema the model can read.
import { assert, describe, it } from "@effect/vitest"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"
import { toJsonSchema } from "./jsonSchema.ts"
import { ThreadListInput, ThreadStartInput } from "./mcpTools.ts"

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

const firstIssue = (schema: Schema.Top, input: unknown) => {
  const exit = Schema.decodeUnknownExit(schema as Schema.Codec<unknown, unknown>)(input, {
    errors: "first",
    onExcessProperty: "error"
  })
  if (Exit.isSuccess(exit)) return undefined
  const error = (exit.cause.reasons[0] as { error: Schema.SchemaError }).error
  const first = formatter(error.issue).issues[0]
  return { path: (first?.path ?? []).map(String).join("."), message: first?.message ?? "" }
}

describe("ThreadStartInput", () => {
  it("accepts each mode with the fields it uses; mode defaults to new_worktree", () => {
    for (const input of [
      { prompt: "go", branch: "b", baseBranch: "main" },
      { prompt: "go", baseBranchSource: "source" },
      { prompt: "go", mode: "existing_worktree", worktreePath: "/repo/wt" },
      { prompt: "go", mode: "current_checkout", model: "gpt-5-codex", tags: ["a"] }
    ]) {
      assert.isUndefined(firstIssue(ThreadStartInput, input), JSON.stringify(input))
    }
  })

  const refused: Array<[Record<string, unknown>, string, string]> = [
    [{ worktreePath: "/repo/wt" }, "worktreePath", "new_worktree"],
    [{ mode: "new_worktree", worktreePath: "/repo/wt" }, "worktreePath", "new_worktree"],
    [{ mode: "existing_worktree", worktreePath: "/w", branch: "b" }, "branch", "existing_worktree"],
    [
      { mode: "existing_worktree", worktreePath: "/w", baseBranch: "main" },
      "baseBranch",
      "existing_worktree"
    ],
    [
      { mode: "existing_worktree", worktreePath: "/w", baseBranchSource: "source" },
      "baseBranchSource",
      "existing_worktree"
    ],
    [{ mode: "current_checkout", worktreePath: "/repo" }, "worktreePath", "current_checkout"],
    [{ mode: "current_checkout", branch: "b" }, "branch", "current_checkout"],
    [{ mode: "current_checkout", baseBranch: "main" }, "baseBranch", "current_checkout"],
    [{ mode: "current_checkout", baseBranchSource: "default" }, "baseBranchSource", "current_checkout"]
  ]
  for (const [fields, field, mode] of refused) {
    it(`refuses ${field} with ${mode}`, () => {
      const issue = firstIssue(ThreadStartInput, { prompt: "go", ...fields })
      assert.strictEqual(issue?.path, field)
      assert.include(issue?.message, `does not apply to mode ${mode}`)
    })
  }

  it("requires worktreePath with existing_worktree, and one of baseBranch or baseBranchSource", () => {
    assert.deepInclude(firstIssue(ThreadStartInput, { prompt: "go", mode: "existing_worktree" }), {
      path: "worktreePath"
    })
    assert.deepInclude(
      firstIssue(ThreadStartInput, { prompt: "go", baseBranch: "main", baseBranchSource: "source" }),
      { path: "baseBranchSource" }
    )
  })

  it("checks prompts, titles, tags and models like commands do", () => {
    assert.deepInclude(firstIssue(ThreadStartInput, { prompt: "\u200b\ufeff" }), { path: "prompt" })
    assert.deepInclude(firstIssue(ThreadStartInput, { prompt: "go", title: "a\u0000b" }), { path: "title" })
    assert.deepInclude(firstIssue(ThreadStartInput, { prompt: "go", tags: ["ok", "x\ny"] }), {
      path: "tags.1"
    })
    assert.deepInclude(firstIssue(ThreadStartInput, { prompt: "go", model: "--yolo" }), { path: "model" })
  })

  it("has a flat JSON Schema: no allOf, a description on every field", () => {
    const document = toJsonSchema(ThreadStartInput) as {
      $defs: Record<string, { properties: Record<string, Record<string, unknown>> }>
    }
    assert.notInclude(JSON.stringify(document), "allOf")
    const properties = document.$defs.ThreadStartInput!.properties
    for (const name of [
      "prompt",
      "title",
      "mode",
      "worktreePath",
      "branch",
      "baseBranch",
      "baseBranchSource",
      "includeUncommitted",
      "tags"
    ]) {
      assert.isString(properties[name]?.description, name)
    }
  })
})

describe("ThreadStartInput from the caller's present", () => {
  it("takes baseBranchSource parent, with includeUncommitted and a branch", () => {
    for (const input of [
      { prompt: "go", baseBranchSource: "parent" },
      { prompt: "go", baseBranchSource: "parent", includeUncommitted: true, branch: "b" }
    ]) {
      assert.isUndefined(firstIssue(ThreadStartInput, input), JSON.stringify(input))
    }
  })

  const refused: Array<[Record<string, unknown>, string, string]> = [
    [{ includeUncommitted: true }, "includeUncommitted", "give baseBranchSource"],
    [{ baseBranchSource: "source", includeUncommitted: true }, "includeUncommitted", "give baseBranchSource"],
    [
      { baseBranchSource: "parent", baseBranch: "main" },
      "baseBranchSource",
      "applies only without baseBranch"
    ],
    [{ baseBranchSource: "parent", pr: 2 }, "baseBranchSource", "cannot be given with pr"],
    [{ pr: 2, includeUncommitted: true }, "includeUncommitted", "cannot be given with pr"],
    [{ mode: "current_checkout", includeUncommitted: true }, "includeUncommitted", "current_checkout"],
    [
      { mode: "existing_worktree", worktreePath: "/w", baseBranchSource: "parent" },
      "baseBranchSource",
      "existing_worktree"
    ]
  ]
  for (const [fields, field, said] of refused) {
    it(`refuses ${JSON.stringify(fields)}, naming ${field}`, () => {
      const issue = firstIssue(ThreadStartInput, { prompt: "go", ...fields })
      assert.strictEqual(issue?.path, field)
      assert.include(issue?.message, said)
    })
  }
})

describe("ThreadListInput", () => {
  it("takes no arguments", () => {
    assert.isUndefined(firstIssue(ThreadListInput, {}))
    assert.deepInclude(firstIssue(ThreadListInput, { all: true }), { path: "all" })
  })
})
