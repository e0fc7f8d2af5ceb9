import { assert, describe, it } from "@effect/vitest"
import type { Command } from "@spindle/contracts"
import * as Result from "effect/Result"
import { DEFAULT_LIMITS, type Limits } from "../config/ServerConfig.ts"
import { emptyReadModel, type ReadModel } from "../domain/readModel.ts"
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
    runtimeMode?: "approval-required" | "auto-accept-edits" | "full-access"
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
  provider: "codex",
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
