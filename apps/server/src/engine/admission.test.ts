import { assert, describe, it } from "@effect/vitest"
import type { Command, ProviderKind } from "@spindle/contracts"
import { emptyReadModel, type ReadModel } from "@spindle/read-model"
import * as Result from "effect/Result"
import { DEFAULT_LIMITS, type Limits } from "../config/ServerConfig.ts"
import { applyCommand, NOW, refusalOf } from "../testing/decide.ts"
import { ids } from "../testing/fixtures.ts"
import { decide } from "./decider.ts"

const limits: Limits = { ...DEFAULT_LIMITS, childrenPerThread: 2, spawnDepth: 2, activeThreadsPerProject: 5 }
const apply = (model: ReadModel, command: Command) => applyCommand(model, command, limits)
const refusal = (model: ReadModel, command: Command) => refusalOf(model, command, limits)

const begin = (
  id: string,
  o: {
    parent?: string
    runtimeMode?: "approval-required" | "auto-accept-edits" | "sandboxed" | "full-access"
    provider?: ProviderKind
    interactionMode?: "default" | "plan"
    mode?: "new_worktree" | "existing_worktree" | "current_checkout"
    path?: string
    project?: string
  } = {}
): Command => ({
  type: "thread.bootstrap.begin",
  commandId: ids.command(`begin-${id}`),
  threadId: ids.thread(id),
  projectId: ids.project(o.project ?? "p1"),
  parentThreadId: o.parent === undefined ? null : ids.thread(o.parent),
  title: id,
  tags: [],
  provider: o.provider ?? "codex",
  model: null,
  runtimeMode: o.runtimeMode ?? "full-access",
  interactionMode: o.interactionMode ?? "default",
  workspaceMode: o.mode ?? "current_checkout",
  worktreePath: o.path ?? null,
  runSetupScript: false
})

const base = [
  {
    type: "project.create",
    commandId: ids.command("p1"),
    projectId: ids.project("p1"),
    workspaceRoot: "/r/a"
  },
  {
    type: "project.create",
    commandId: ids.command("p2"),
    projectId: ids.project("p2"),
    workspaceRoot: "/r/b"
  }
].reduce((m, c) => apply(m, c as Command), emptyReadModel)

describe("admission (decided in the writer)", () => {
  it("children per parent and depth", () => {
    const withRoot = apply(base, begin("root"))
    const two = apply(apply(withRoot, begin("c1", { parent: "root" })), begin("c2", { parent: "root" }))
    assert.include(refusal(two, begin("c3", { parent: "root" })).message, "limit is 2")
    const grand = apply(two, begin("g1", { parent: "c1" }))
    const tooDeep = refusal(grand, begin("gg", { parent: "g1" }))
    assert.strictEqual(tooDeep.reason, "capacity")
    assert.include(tooDeep.message, "nested 2 deep")
  })

  it("a child gets no more autonomy or freedom than its parent, and only in its project", () => {
    const careful = apply(base, begin("root", { runtimeMode: "auto-accept-edits", interactionMode: "plan" }))
    assert.strictEqual(refusal(careful, begin("c", { parent: "root" })).field, "runtimeMode")
    assert.strictEqual(
      refusal(careful, begin("c", { parent: "root", runtimeMode: "approval-required" })).field,
      "interactionMode"
    )
    apply(careful, begin("c", { parent: "root", runtimeMode: "approval-required", interactionMode: "plan" }))
    assert.strictEqual(
      refusal(
        careful,
        begin("c", {
          parent: "root",
          runtimeMode: "approval-required",
          interactionMode: "plan",
          project: "p2"
        })
      ).reason,
      "forbidden"
    )
    assert.strictEqual(refusal(careful, begin("c", { parent: "nobody" })).reason, "forbidden")
  })

  it("modes order approval-required < auto-accept-edits < sandboxed < full-access for a child", () => {
    const sandboxed = apply(base, begin("root", { runtimeMode: "sandboxed" }))
    for (const mode of ["approval-required", "auto-accept-edits", "sandboxed"] as const)
      apply(sandboxed, begin("c", { parent: "root", runtimeMode: mode }))
    const wider = refusal(sandboxed, begin("c", { parent: "root", runtimeMode: "full-access" }))
    assert.strictEqual(wider.reason, "forbidden")
    assert.strictEqual(wider.field, "runtimeMode")
    assert.include(wider.message, "allowed: approval-required, auto-accept-edits, sandboxed")
    const edits = apply(base, begin("root", { runtimeMode: "auto-accept-edits" }))
    assert.strictEqual(
      refusal(edits, begin("c", { parent: "root", runtimeMode: "sandboxed" })).field,
      "runtimeMode"
    )
  })

  it("a command agent counts as full-access: only a full-access parent may start one", () => {
    for (const mode of ["approval-required", "auto-accept-edits", "sandboxed"] as const) {
      const parent = apply(base, begin("root", { runtimeMode: mode }))
      // Whatever runtimeMode the child names: the command provider has no sandbox to hold it.
      const refused = refusal(parent, begin("c", { parent: "root", provider: "command", runtimeMode: mode }))
      assert.strictEqual(refused.reason, "forbidden")
      assert.strictEqual(refused.field, "provider")
      assert.include(refused.message, "only a full-access thread may start one")
      assert.include(refused.message, "Use provider codex with runtimeMode")
    }
    const free = apply(base, begin("root", { runtimeMode: "full-access" }))
    apply(free, begin("c", { parent: "root", provider: "command", runtimeMode: "approval-required" }))
    // A command agent is full-access as a parent too, whatever its recorded runtimeMode.
    const commandParent = apply(
      base,
      begin("root", { provider: "command", runtimeMode: "approval-required" })
    )
    apply(commandParent, begin("c", { parent: "root", provider: "command" }))
    apply(commandParent, begin("d", { parent: "root", runtimeMode: "full-access" }))
    // The user (no parent) may start a command agent in any mode.
    apply(base, begin("u", { provider: "command", runtimeMode: "approval-required" }))
  })

  it("an ACP agent counts as full-access too: a sandboxed parent may not start one", () => {
    for (const provider of ["acp", "claude", "gemini", "opencode", "codex-acp"] as const) {
      const parent = apply(base, begin("root", { runtimeMode: "sandboxed" }))
      const refused = refusal(
        parent,
        begin("c", { parent: "root", provider, runtimeMode: "approval-required" })
      )
      assert.strictEqual(refused.reason, "forbidden")
      assert.strictEqual(refused.field, "provider")
      assert.include(
        refused.message,
        `cannot start a child with provider ${provider}: an ACP agent has no sandbox`
      )
      const free = apply(base, begin("root", { runtimeMode: "full-access" }))
      apply(free, begin("c", { parent: "root", provider }))
    }
  })

  it("an existing worktree binds one active thread", () => {
    const bound = apply(base, begin("a", { mode: "existing_worktree", path: "/w/x" }))
    const taken = refusal(bound, begin("b", { mode: "existing_worktree", path: "/w/x" }))
    assert.strictEqual(taken.reason, "conflict")
    assert.strictEqual(taken.path, "/w/x")
    apply(bound, begin("b", { mode: "existing_worktree", path: "/w/y" }))
  })

  it("active threads per project count plain creates and bootstraps alike", () => {
    let model = base
    for (const id of ["a", "b", "c", "d"]) model = apply(model, begin(id))
    model = apply(model, {
      type: "thread.create",
      commandId: ids.command("plain"),
      threadId: ids.thread("e"),
      projectId: ids.project("p1"),
      title: "e"
    })
    assert.strictEqual(refusal(model, begin("f")).reason, "capacity")
    const plain = refusal(model, {
      type: "thread.create",
      commandId: ids.command("plain2"),
      threadId: ids.thread("g"),
      projectId: ids.project("p1"),
      title: "g"
    })
    assert.include(plain.message, "--max-threads-per-project")
    // Another project has its own count.
    apply(model, begin("h", { project: "p2" }))
  })

  it("an archived failed thread cannot be bootstrapped again past the limits", () => {
    const failed = apply(apply(base, begin("a")), {
      type: "thread.bootstrap.fail",
      commandId: ids.command("fail-a"),
      threadId: ids.thread("a"),
      stage: "workspace",
      error: { reason: "git", message: "no" }
    })
    // Active and failed: a restart on its own thread, which already counts.
    apply(failed, begin("a"))
    const archived = apply(failed, {
      type: "thread.archive",
      commandId: ids.command("arch-a"),
      threadId: ids.thread("a")
    })
    assert.strictEqual(refusal(archived, begin("a")).reason, "conflict")
  })

  it("bootstrap slots: running bootstraps of a project are limited", () => {
    const tight: Limits = { ...limits, bootstrapsPerProject: 1 }
    const model = apply(base, begin("a"))
    const decision = decide(begin("b"), model, { now: NOW, limits: tight })
    assert.isTrue(Result.isFailure(decision))
    if (Result.isFailure(decision)) assert.include(decision.failure.message, "--max-bootstraps-per-project")
  })
})
