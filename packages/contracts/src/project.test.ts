// What a project setting may hold (setupEnv), and reading projects recorded before it existed.
import { assert, describe, it } from "@effect/vitest"
import * as Schema from "effect/Schema"
import { MAX_SETUP_ENV_ENTRIES, Project, SetupEnv } from "./project.ts"

const decodeEnv = Schema.decodeUnknownResult(SetupEnv)
const message = (input: unknown) => {
  const result = decodeEnv(input)
  return result._tag === "Failure" ? String(result.failure) : ""
}

describe("SetupEnv", () => {
  it("accepts shell names with any NUL-free value, empty included", () => {
    const env = { NPM_CONFIG_REGISTRY: "http://127.0.0.1:1/", _x9: "", PATH: "/a:/b" }
    assert.deepStrictEqual(Schema.decodeUnknownSync(SetupEnv)(env), env)
  })

  it("refuses bad names by name, Spindle's own variables, NUL, long values and too many entries", () => {
    assert.include(message({ "1BAD": "x" }), "'1BAD' is not")
    assert.include(message({ "A-B": "x" }), "'A-B' is not")
    assert.include(message({ ["A".repeat(129)]: "x" }), "is not")
    assert.include(message({ SPINDLE_WORKTREE_PATH: "/tmp" }), "Spindle sets")
    assert.include(message({ T3CODE_PROJECT_ROOT: "/tmp" }), "Spindle sets")
    assert.include(message({ A: "a\0b" }), "NUL")
    assert.include(message({ A: "x".repeat(8193) }), "at most 8192")
    const many = Object.fromEntries(
      Array.from({ length: MAX_SETUP_ENV_ENTRIES + 1 }, (_, i) => [`V${i}`, "x"])
    )
    assert.include(message(many), `at most ${MAX_SETUP_ENV_ENTRIES}`)
  })
})

describe("Project", () => {
  it("reads a project recorded before setupEnv existed as having none", () => {
    const recorded = {
      id: "p1",
      title: "repo",
      workspaceRoot: "/repo",
      defaultBranch: "main",
      setupScript: null,
      setupTimeoutSeconds: 900,
      initSubmodules: false,
      defaultProvider: "codex" as const,
      defaultModel: null,
      createdAt: "2026-01-01T00:00:00.000Z",
      updatedAt: "2026-01-01T00:00:00.000Z"
    }
    const project = Schema.decodeUnknownSync(Project)(recorded)
    assert.deepStrictEqual(project.setupEnv, {})
    // Provider settings added later decode to "none set" too.
    assert.strictEqual(project.codexBin, null)
    assert.deepStrictEqual(project.codexConfig, [])
    assert.strictEqual(project.agentCommand, null)
    // So do the lifecycle settings: no pool, 10 ports per thread, the default retention.
    assert.strictEqual(project.worktreePoolSize, 0)
    assert.strictEqual(project.portCount, 10)
    assert.deepStrictEqual(project.retention, { removeArchivedAfterDays: 7, flagIdleAfterDays: 14 })
    // Repository hooks stay off for a project recorded before the setting existed.
    assert.strictEqual(project.gitHooks, false)
    assert.strictEqual(project.gitHooksSetBy, null)
    assert.deepStrictEqual(Schema.encodeSync(Project)(project), {
      ...recorded,
      setupEnv: {},
      codexBin: null,
      codexConfig: [],
      agentCommand: null,
      worktreePoolSize: 0,
      portCount: 10,
      retention: { removeArchivedAfterDays: 7, flagIdleAfterDays: 14 },
      gitHooks: false,
      gitHooksSetBy: null
    })
  })
})
