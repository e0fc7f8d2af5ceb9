import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { decodeClientCommand } from "./decodeCommand.ts"

const rejects = (input: unknown) => Effect.flip(decodeClientCommand(input))

describe("decodeClientCommand", () => {
  it.effect("accepts a well-formed command", () =>
    Effect.gen(function* () {
      const command = yield* decodeClientCommand({
        type: "project.create",
        commandId: "c1",
        projectId: "p1",
        workspaceRoot: "/repo"
      })
      assert.strictEqual(command.type, "project.create")
    })
  )

  it.effect("names the field of a wrong type", () =>
    Effect.gen(function* () {
      const error = yield* rejects({
        type: "project.create",
        commandId: "c1",
        projectId: 42,
        workspaceRoot: "/r"
      })
      assert.strictEqual(error.reason, "validation")
      assert.strictEqual(error.field, "projectId")
      assert.include(error.message, "projectId")
    })
  )

  it.effect("names a missing field", () =>
    Effect.gen(function* () {
      const error = yield* rejects({
        type: "thread.create",
        commandId: "c1",
        projectId: "p1",
        threadId: "t1"
      })
      assert.strictEqual(error.field, "title")
    })
  )

  it.effect("refuses an unknown type and internal commands", () =>
    Effect.gen(function* () {
      const unknown = yield* rejects({ type: "project.explode", commandId: "c1" })
      assert.strictEqual(unknown.field, "type")
      assert.include(unknown.message, "project.create")
      const internal = yield* rejects({ type: "thread.bootstrap.fail", commandId: "c1", threadId: "t" })
      assert.strictEqual(internal.reason, "validation")
      assert.strictEqual(internal.field, "type")
      const notObject = yield* rejects("project.create")
      assert.strictEqual(notObject.field, "type")
    })
  )

  it.effect("refuses extra fields", () =>
    Effect.gen(function* () {
      const error = yield* rejects({ type: "project.delete", commandId: "c1", projectId: "p1", junk: true })
      assert.strictEqual(error.field, "junk")
    })
  )

  it.effect("refuses over-long strings and unsafe ids", () =>
    Effect.gen(function* () {
      const title = yield* rejects({
        type: "thread.create",
        commandId: "c1",
        projectId: "p1",
        threadId: "t1",
        title: "x".repeat(201)
      })
      assert.strictEqual(title.field, "title")
      assert.include(title.message, "200")
      const prompt = yield* rejects({
        type: "thread.turn.start",
        commandId: "c1",
        threadId: "t1",
        prompt: "y".repeat(120_001)
      })
      assert.strictEqual(prompt.field, "prompt")
      const blank = yield* rejects({
        type: "thread.turn.start",
        commandId: "c1",
        threadId: "t1",
        prompt: "   "
      })
      assert.strictEqual(blank.field, "prompt")
      const id = yield* rejects({ type: "project.delete", commandId: "../../etc", projectId: "p1" })
      assert.strictEqual(id.field, "commandId")
    })
  )

  it.effect("names nested fields and refuses a comma-separated tag string", () =>
    Effect.gen(function* () {
      const error = yield* rejects({
        type: "thread.turn.start",
        commandId: "c1",
        threadId: "t1",
        prompt: "go",
        bootstrap: { createThread: { projectId: "p1", tags: "a,b" }, workspace: { mode: "new_worktree" } }
      })
      assert.strictEqual(error.field, "bootstrap.createThread.tags")
      const branch = yield* rejects({
        type: "thread.turn.start",
        commandId: "c1",
        threadId: "t1",
        prompt: "go",
        bootstrap: {
          createThread: { projectId: "p1" },
          workspace: { mode: "new_worktree", branch: "--upload-pack=x" }
        }
      })
      assert.strictEqual(branch.field, "bootstrap.workspace.branch")
    })
  )
})
