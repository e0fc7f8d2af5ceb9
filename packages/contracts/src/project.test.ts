// What a project setting may hold (setupEnv, agentEnv), and reading projects recorded before it existed.
import { assert, describe, it } from "@effect/vitest"
import * as Schema from "effect/Schema"
import { AgentEnv, MAX_SETUP_ENV_ENTRIES, Project, SetupEnv } from "./project.ts"

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

describe("AgentEnv", () => {
  const agentMessage = (input: unknown) => {
    const result = Schema.decodeUnknownResult(AgentEnv)(input)
    return result._tag === "Failure" ? String(result.failure) : ""
  }

  it("accepts what setupEnv accepts, HOME and credentials-free settings included", () => {
    const env = { HOME: "/tmp/agent-home", NODE_OPTIONS: "--max-old-space-size=4096", _x: "" }
    assert.deepStrictEqual(Schema.decodeUnknownSync(AgentEnv)(env), env)
  })

  it("refuses bad names, any SPINDLE_ or T3CODE_ name (Spindle's own), NUL, long values, too many entries", () => {
    assert.include(agentMessage({ "1BAD": "x" }), "agent variable names must be")
    assert.include(agentMessage({ SPINDLE_MCP_TOKEN: "spn_x" }), "SPINDLE_MCP_TOKEN cannot be set")
    assert.include(agentMessage({ SPINDLE_PORT: "1" }), "Spindle's own")
    assert.include(agentMessage({ T3CODE_WORKTREE_PATH: "/" }), "Spindle's own")
    assert.include(agentMessage({ A: "a\0b" }), "NUL")
    assert.include(agentMessage({ A: "x".repeat(8193) }), "at most 8192")
    const many = Object.fromEntries(
      Array.from({ length: MAX_SETUP_ENV_ENTRIES + 1 }, (_, i) => [`V${i}`, "x"])
    )
    assert.include(agentMessage(many), `at most ${MAX_SETUP_ENV_ENTRIES} agent variables`)
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
    assert.deepStrictEqual(project.agentEnv, {})
    // Provider settings added later decode to "none set" too.
    assert.strictEqual(project.codexBin, null)
    assert.deepStrictEqual(project.codexConfig, [])
    assert.strictEqual(project.agentCommand, null)
    assert.strictEqual(project.acpAgent, null)
    // No submodule URL is allowed until the user turns submodules on again.
    assert.deepStrictEqual(project.submoduleUrls, [])
    // So do the lifecycle settings: no pool, 10 ports per thread, the default retention.
    assert.strictEqual(project.worktreePoolSize, 0)
    assert.strictEqual(project.portCount, 10)
    assert.deepStrictEqual(project.retention, { removeArchivedAfterDays: 7, flagIdleAfterDays: 14 })
    // No setup approval: its committed setup script waits for 'project update --approve-setup'.
    assert.strictEqual(project.setupApproval, null)
    // It keeps the full access its threads always had: only new projects default to sandboxed.
    assert.strictEqual(project.defaultRuntimeMode, "full-access")
    // Repository hooks stay off for a project recorded before the setting existed.
    assert.strictEqual(project.gitHooks, false)
    assert.strictEqual(project.gitHooksSetBy, null)
    // No webhook, and so no delivery yet.
    assert.strictEqual(project.notifyWebhook, null)
    assert.strictEqual(project.lastNotify, null)
    // No checkouts recorded: its workspaceRoot serves whichever host runs.
    assert.deepStrictEqual(project.checkouts, [])
    assert.deepStrictEqual(Schema.encodeSync(Project)(project), {
      ...recorded,
      checkouts: [],
      setupEnv: {},
      submoduleUrls: [],
      agentEnv: {},
      codexBin: null,
      codexConfig: [],
      agentCommand: null,
      acpAgent: null,
      worktreePoolSize: 0,
      portCount: 10,
      retention: { removeArchivedAfterDays: 7, flagIdleAfterDays: 14 },
      setupApproval: null,
      defaultRuntimeMode: "full-access",
      gitHooks: false,
      gitHooksSetBy: null,
      notifyWebhook: null,
      lastNotify: null
    })
  })

  it("holds any runtime mode as its default, sandboxed included, and nothing else", () => {
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
    for (const mode of ["approval-required", "auto-accept-edits", "sandboxed", "full-access"]) {
      const project = Schema.decodeUnknownSync(Project)({ ...recorded, defaultRuntimeMode: mode })
      assert.strictEqual(project.defaultRuntimeMode, mode)
    }
    const wild = Schema.decodeUnknownResult(Project)({ ...recorded, defaultRuntimeMode: "yolo" })
    assert.strictEqual(wild._tag, "Failure")
  })
})
