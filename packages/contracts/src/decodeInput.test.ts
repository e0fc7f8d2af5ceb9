import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { decodeClientCommand } from "./decodeInput.ts"

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
      const error = yield* rejects({ type: "project.remove", commandId: "c1", projectId: "p1", junk: true })
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
      const id = yield* rejects({ type: "project.remove", commandId: "../../etc", projectId: "p1" })
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

  it.effect("refuses Object.prototype member names as a type, naming the field", () =>
    Effect.gen(function* () {
      for (const type of [
        "constructor",
        "toString",
        "__proto__",
        "hasOwnProperty",
        "valueOf",
        "isPrototypeOf"
      ]) {
        const error = yield* rejects({ type, commandId: "c1" })
        assert.strictEqual(error.reason, "validation", type)
        assert.strictEqual(error.field, "type", type)
        assert.include(error.message, "Unknown command type", type)
      }
    })
  )

  it.effect("refuses null, arrays, strings and numbers as a command", () =>
    Effect.gen(function* () {
      for (const input of [null, undefined, [], [{ type: "project.remove" }], "x", 42, true]) {
        const error = yield* rejects(input)
        assert.strictEqual(error.reason, "validation", JSON.stringify(input))
        assert.strictEqual(error.field, "type")
      }
    })
  )

  it.effect("refuses __proto__, constructor and prototype keys anywhere, from JSON", () =>
    Effect.gen(function* () {
      const cases: Array<[string, string]> = [
        ['{"type":"project.remove","commandId":"c1","projectId":"p1","__proto__":{"x":1}}', "__proto__"],
        [
          '{"type":"project.create","commandId":"c1","projectId":"p1","workspaceRoot":"/r","setupEnv":{"constructor":"x"}}',
          "setupEnv.constructor"
        ],
        [
          '{"type":"thread.turn.start","commandId":"c1","threadId":"t1","prompt":"go","bootstrap":{"createThread":{"projectId":"p1","prototype":1},"workspace":{"mode":"current_checkout"}}}',
          "bootstrap.createThread.prototype"
        ]
      ]
      for (const [json, field] of cases) {
        const error = yield* rejects(JSON.parse(json))
        assert.strictEqual(error.reason, "validation")
        assert.strictEqual(error.field, field)
        assert.include(error.message, "not allowed")
      }
      let deep: unknown = {}
      for (let i = 0; i < 100; i++) deep = { a: deep }
      const nested = yield* rejects({ type: "project.remove", commandId: "c1", projectId: "p1", junk: deep })
      assert.include(nested.message, "nested more than")
    })
  )

  it.effect("refuses workspace fields the mode does not use, naming them as sent", () =>
    Effect.gen(function* () {
      const start = (workspace: Record<string, unknown>) =>
        rejects({
          type: "thread.turn.start",
          commandId: "c1",
          threadId: "t1",
          prompt: "go",
          bootstrap: { createThread: { projectId: "p1" }, workspace }
        })
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ mode: "new_worktree", worktreePath: "/w" }, "worktreePath"],
        [{ mode: "existing_worktree", worktreePath: "/w", branch: "b" }, "branch"],
        [{ mode: "current_checkout", baseBranch: "main" }, "baseBranch"],
        [{ mode: "current_checkout", fetchBase: true }, "fetchBase"],
        [{ mode: "existing_worktree" }, "worktreePath"]
      ]
      for (const [workspace, field] of cases) {
        const error = yield* start(workspace)
        assert.strictEqual(error.reason, "validation")
        assert.strictEqual(error.field, `bootstrap.workspace.${field}`)
        assert.include(error.message, `bootstrap.workspace.${field}`)
      }
    })
  )

  it.effect("refuses control characters, invisible prompts and unsafe model names", () =>
    Effect.gen(function* () {
      const nul = yield* rejects({
        type: "thread.turn.start",
        commandId: "c1",
        threadId: "t1",
        prompt: "a\u0000b"
      })
      assert.strictEqual(nul.field, "prompt")
      assert.include(nul.message, "control characters")
      const invisible = yield* rejects({
        type: "thread.turn.start",
        commandId: "c1",
        threadId: "t1",
        prompt: "\u200b\ufeff\u2060"
      })
      assert.strictEqual(invisible.field, "prompt")
      assert.include(invisible.message, "visible character")
      const title = yield* rejects({
        type: "thread.create",
        commandId: "c1",
        projectId: "p1",
        threadId: "t1",
        title: "line\nbreak"
      })
      assert.strictEqual(title.field, "title")
      const model = yield* rejects({
        type: "thread.create",
        commandId: "c1",
        projectId: "p1",
        threadId: "t1",
        title: "t",
        model: "--dangerously-bypass"
      })
      assert.strictEqual(model.field, "model")
      const padded = yield* decodeClientCommand({
        type: "thread.turn.start",
        commandId: "c1",
        threadId: "t1",
        prompt: `   ${"y".repeat(120_000)}   `
      })
      assert.strictEqual(padded.type, "thread.turn.start")
    })
  )
})
