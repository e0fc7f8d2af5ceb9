import { assert, describe, it } from "@effect/vitest"
import type { Command } from "@spindle/contracts"
import { emptyReadModel, type ReadModel } from "@spindle/read-model"
import { DEFAULT_LIMITS } from "../config/ServerConfig.ts"
import { applyCommand, NOW, refusalOf } from "../testing/decide.ts"
import { ids } from "../testing/fixtures.ts"

const now = NOW
const run = (model: ReadModel, command: Command) => applyCommand(model, command)
const rejection = (model: ReadModel, command: Command) => refusalOf(model, command)

const createProject: Command = {
  type: "project.create",
  commandId: ids.command("c1"),
  projectId: ids.project("p1"),
  workspaceRoot: "/repos/alpha"
}

const withProject = run(emptyReadModel, createProject)

const createThread: Command = {
  type: "thread.create",
  commandId: ids.command("c2"),
  threadId: ids.thread("t1"),
  projectId: ids.project("p1"),
  title: "First"
}

describe("decider", () => {
  it("creates a project with defaults from its path", () => {
    const p = withProject.projects.pipe((m) => [...m][0]![1])
    assert.strictEqual(p.title, "alpha")
    assert.strictEqual(p.setupTimeoutSeconds, 900)
    assert.strictEqual(p.defaultProvider, "codex")
    assert.strictEqual(p.defaultRuntimeMode, "sandboxed")
    assert.strictEqual(p.createdAt, now)
    assert.strictEqual(withProject.sequence, 1)
  })

  it("a folder name that is no valid title still gives a valid default title", () => {
    const long = run(emptyReadModel, { ...createProject, workspaceRoot: `/repos/${"a".repeat(300)}` })
    assert.strictEqual([...long.projects][0]![1].title, "a".repeat(200))
    const blank = run(emptyReadModel, { ...createProject, workspaceRoot: "/repos/\u0001\u0002 " })
    assert.strictEqual([...blank.projects][0]![1].title, "project")
    // Bidi controls are no part of a title: dropped from the folder's name.
    const bidi = run(emptyReadModel, { ...createProject, workspaceRoot: "/repos/al\u202epha\u200f" })
    assert.strictEqual([...bidi.projects][0]![1].title, "alpha")
  })

  it("refuses a second project with the same id or the same repository", () => {
    assert.strictEqual(rejection(withProject, createProject).reason, "conflict")
    const samePath = rejection(withProject, { ...createProject, projectId: ids.project("p2") })
    assert.strictEqual(samePath.reason, "conflict")
    assert.include(samePath.message, "/repos/alpha")
  })

  it("updates only what is given and refuses an empty update", () => {
    const updated = run(withProject, {
      type: "project.update",
      commandId: ids.command("u1"),
      projectId: ids.project("p1"),
      setupScript: "npm ci"
    })
    const p = [...updated.projects][0]![1]
    assert.strictEqual(p.setupScript, "npm ci")
    assert.strictEqual(p.title, "alpha")
    const empty = rejection(withProject, {
      type: "project.update",
      commandId: ids.command("u2"),
      projectId: ids.project("p1")
    })
    assert.strictEqual(empty.reason, "validation")
  })

  it("runs no repository hooks by default; turning them on records who did it and when", () => {
    const before = [...withProject.projects][0]![1]
    assert.strictEqual(before.gitHooks, false)
    assert.strictEqual(before.gitHooksSetBy, null)
    const on = run(withProject, {
      type: "project.update",
      commandId: ids.command("hooks-on"),
      projectId: ids.project("p1"),
      gitHooks: true
    })
    const p = [...on.projects][0]![1]
    assert.strictEqual(p.gitHooks, true)
    assert.deepStrictEqual(p.gitHooksSetBy, { actor: { kind: "server" }, at: now })
    // Another setting changed later leaves the record of who turned hooks on.
    const later = run(on, {
      type: "project.update",
      commandId: ids.command("title"),
      projectId: ids.project("p1"),
      title: "renamed"
    })
    assert.deepStrictEqual([...later.projects][0]![1].gitHooksSetBy, p.gitHooksSetBy)
  })

  it("records a warning on a thread once, archived or not", () => {
    const model = run(withProject, createThread)
    const warn: Command = {
      type: "thread.warn",
      commandId: ids.command("w1"),
      threadId: ids.thread("t1"),
      warning: "Spindle runs no git in /w: its .git points elsewhere"
    }
    const warned = run(model, warn)
    assert.deepStrictEqual([...warned.threads][0]![1].warnings, [warn.warning])
    const again = run(warned, { ...warn, commandId: ids.command("w2") })
    assert.strictEqual(again.sequence, warned.sequence)
    assert.deepStrictEqual([...again.threads][0]![1].warnings, [warn.warning])
  })

  it("creates a thread in the project's checkout with the project's defaults", () => {
    const model = run(withProject, createThread)
    const thread = [...model.threads][0]![1]
    assert.strictEqual(thread.workspace.worktreePath, "/repos/alpha")
    assert.strictEqual(thread.workspace.mode, "current_checkout")
    assert.strictEqual(thread.provider, "codex")
    assert.strictEqual(thread.bootstrap.status, "none")
    assert.strictEqual(rejection(model, createThread).reason, "conflict")
  })

  it("a thread started without a runtimeMode gets the project's default, which update changes", () => {
    assert.strictEqual([...run(withProject, createThread).threads][0]![1].runtimeMode, "sandboxed")
    const named = run(withProject, { ...createThread, runtimeMode: "full-access" })
    assert.strictEqual([...named.threads][0]![1].runtimeMode, "full-access")
    const careful = run(emptyReadModel, { ...createProject, defaultRuntimeMode: "approval-required" })
    assert.strictEqual([...run(careful, createThread).threads][0]![1].runtimeMode, "approval-required")
    const updated = run(withProject, {
      type: "project.update",
      commandId: ids.command("u-mode"),
      projectId: ids.project("p1"),
      defaultRuntimeMode: "auto-accept-edits"
    })
    assert.strictEqual([...updated.projects][0]![1].defaultRuntimeMode, "auto-accept-edits")
    assert.strictEqual([...run(updated, createThread).threads][0]![1].runtimeMode, "auto-accept-edits")
  })

  it("refuses a thread in a project that does not exist", () => {
    const error = rejection(emptyReadModel, createThread)
    assert.strictEqual(error.reason, "not-found")
    assert.strictEqual(error.projectId, "p1")
  })

  it("refuses to delete a project that still has threads", () => {
    const model = run(withProject, createThread)
    const error = rejection(model, {
      type: "project.remove",
      commandId: ids.command("d"),
      projectId: ids.project("p1")
    })
    assert.strictEqual(error.reason, "conflict")
    const gone = run(withProject, {
      type: "project.remove",
      commandId: ids.command("d"),
      projectId: ids.project("p1")
    })
    assert.strictEqual(
      gone.projects.pipe((m) => [...m].length),
      0
    )
  })

  it("requests a turn, trimmed, with a turn id derived from the command id", () => {
    const model = run(run(withProject, createThread), {
      type: "thread.turn.start",
      commandId: ids.command("turn-1"),
      threadId: ids.thread("t1"),
      prompt: "  fix the bug  "
    })
    const thread = [...model.threads][0]![1]
    assert.deepStrictEqual(thread.latestTurn, {
      turnId: "turn-1" as never,
      status: "requested",
      requestedAt: now,
      completedAt: null,
      reason: null,
      lastMessage: null,
      lastMessageTruncated: false,
      usage: null,
      stalledSince: null
    })
  })

  it("leaves bootstrapped turn starts to the bootstrap dispatcher", () => {
    const error = rejection(withProject, {
      type: "thread.turn.start",
      commandId: ids.command("b"),
      threadId: ids.thread("t9"),
      prompt: "go",
      bootstrap: { createThread: { projectId: ids.project("p1") }, workspace: { mode: "current_checkout" } }
    })
    assert.strictEqual(error.reason, "validation")
    assert.strictEqual(error.field, "bootstrap")
  })

  it("archives, then refuses turns on the archived thread, and deletes it (hidden, not forgotten)", () => {
    const archived = run(run(withProject, createThread), {
      type: "thread.archive",
      commandId: ids.command("a"),
      threadId: ids.thread("t1")
    })
    const thread = [...archived.threads][0]![1]
    assert.strictEqual(thread.status, "archived")
    assert.strictEqual(thread.archivedAt, now)
    const turn = rejection(archived, {
      type: "thread.turn.start",
      commandId: ids.command("x"),
      threadId: ids.thread("t1"),
      prompt: "hi"
    })
    assert.strictEqual(turn.reason, "conflict")
    const deleted = run(archived, {
      type: "thread.delete",
      commandId: ids.command("del"),
      threadId: ids.thread("t1")
    })
    const gone = [...deleted.threads][0]![1]
    assert.strictEqual(gone.deletedAt, now)
    assert.strictEqual(gone.status, "archived")
    const again = rejection(deleted, {
      type: "thread.unarchive",
      commandId: ids.command("un"),
      threadId: ids.thread("t1")
    })
    assert.strictEqual(again.reason, "conflict")
  })

  it("deletes only an archived thread", () => {
    const error = rejection(run(withProject, createThread), {
      type: "thread.delete",
      commandId: ids.command("del"),
      threadId: ids.thread("t1")
    })
    assert.strictEqual(error.reason, "conflict")
    assert.include(error.message, "archived")
  })

  it("unarchives an archived thread, within the project's active-thread limit", () => {
    const archived = run(run(withProject, createThread), {
      type: "thread.archive",
      commandId: ids.command("a"),
      threadId: ids.thread("t1")
    })
    const back = run(archived, {
      type: "thread.unarchive",
      commandId: ids.command("u"),
      threadId: ids.thread("t1")
    })
    const thread = [...back.threads][0]![1]
    assert.strictEqual(thread.status, "active")
    assert.isNull(thread.archivedAt)
    const full = refusalOf(
      archived,
      { type: "thread.unarchive", commandId: ids.command("u2"), threadId: ids.thread("t1") },
      { ...DEFAULT_LIMITS, activeThreadsPerProject: 0 }
    )
    assert.strictEqual(full.reason, "capacity")
  })

  it("gives ports only when no other live thread holds them, and takes them back on archive", () => {
    const two = run(run(withProject, createThread), {
      ...createThread,
      commandId: ids.command("c2"),
      threadId: ids.thread("t2")
    })
    const first = run(two, {
      type: "thread.ports.assign",
      commandId: ids.command("p1"),
      threadId: ids.thread("t1"),
      ports: { first: 20_000, count: 10 }
    })
    const overlap = rejection(first, {
      type: "thread.ports.assign",
      commandId: ids.command("p2"),
      threadId: ids.thread("t2"),
      ports: { first: 20_009, count: 10 }
    })
    assert.strictEqual(overlap.reason, "conflict")
    const archived = run(first, {
      type: "thread.archive",
      commandId: ids.command("a"),
      threadId: ids.thread("t1")
    })
    const t1 = [...archived.threads].find(([id]) => id === "t1")![1]
    assert.isNull(t1.ports)
    const reused = run(archived, {
      type: "thread.ports.assign",
      commandId: ids.command("p3"),
      threadId: ids.thread("t2"),
      ports: { first: 20_000, count: 10 }
    })
    assert.deepStrictEqual([...reused.threads].find(([id]) => id === "t2")![1].ports, {
      first: 20_000,
      count: 10
    })
  })

  it("removes a project only once it has no active thread, hiding its archived ones", () => {
    const withThread = run(withProject, createThread)
    const refused = rejection(withThread, {
      type: "project.remove",
      commandId: ids.command("r"),
      projectId: ids.project("p1")
    })
    assert.strictEqual(refused.reason, "conflict")
    assert.include(refused.message, "--archive-threads")
    const archived = run(withThread, {
      type: "thread.archive",
      commandId: ids.command("a"),
      threadId: ids.thread("t1")
    })
    const removed = run(archived, {
      type: "project.remove",
      commandId: ids.command("r"),
      projectId: ids.project("p1")
    })
    assert.strictEqual([...removed.projects].length, 0)
    assert.strictEqual([...removed.threads][0]![1].deletedAt, now)
  })

  describe("bootstrap steps", () => {
    const begun = run(withProject, {
      type: "thread.bootstrap.begin",
      commandId: ids.command("bb"),
      threadId: ids.thread("t2"),
      projectId: ids.project("p1"),
      parentThreadId: null,
      title: "Child",
      tags: ["x"],
      provider: "codex",
      model: null,
      runtimeMode: "full-access",
      interactionMode: "default",
      workspaceMode: "new_worktree",
      worktreePath: null,
      runSetupScript: true
    })
    const thread = (m: ReadModel) => [...m.threads][0]![1]

    it("walks workspace, setup and turn, and completes", () => {
      assert.strictEqual(thread(begun).bootstrap.status, "running")
      assert.strictEqual(thread(begun).setup.status, "pending")
      const prepared = run(begun, {
        type: "thread.workspace.record",
        commandId: ids.command("w"),
        threadId: ids.thread("t2"),
        workspace: {
          mode: "new_worktree",
          branch: "spindle/abcd1234",
          worktreePath: "/home/w/t2",
          baseBranch: "main",
          createdByUs: true
        },
        warnings: []
      })
      assert.strictEqual(thread(prepared).workspace.worktreePath, "/home/w/t2")
      const started = run(prepared, {
        type: "thread.setup.start",
        commandId: ids.command("s1"),
        threadId: ids.thread("t2"),
        run: 1,
        logPath: "/home/logs/t2/setup-1.log"
      })
      assert.strictEqual(thread(started).setup.status, "running")
      assert.strictEqual(
        rejection(started, {
          type: "thread.setup.start",
          commandId: ids.command("s2"),
          threadId: ids.thread("t2"),
          run: 2,
          logPath: "/home/logs/t2/setup-2.log"
        }).reason,
        "conflict"
      )
      const finished = run(started, {
        type: "thread.setup.finish",
        commandId: ids.command("sf"),
        threadId: ids.thread("t2"),
        run: 1,
        status: "succeeded",
        exitCode: 0,
        signal: null,
        durationMs: 12,
        logTail: "ok\n"
      })
      assert.strictEqual(thread(finished).setup.status, "succeeded")
      assert.strictEqual(thread(finished).setup.logTail, "ok\n")
      const done = run(finished, {
        type: "thread.bootstrap.complete",
        commandId: ids.command("bc"),
        threadId: ids.thread("t2")
      })
      assert.strictEqual(thread(done).bootstrap.status, "completed")
      assert.strictEqual(
        rejection(done, {
          type: "thread.workspace.record",
          commandId: ids.command("w2"),
          threadId: ids.thread("t2"),
          workspace: thread(done).workspace,
          warnings: []
        }).reason,
        "conflict"
      )
    })

    it("records a failed stage with its error", () => {
      const failed = run(begun, {
        type: "thread.bootstrap.fail",
        commandId: ids.command("f"),
        threadId: ids.thread("t2"),
        stage: "workspace",
        error: { reason: "git", message: "base branch missing" }
      })
      assert.deepStrictEqual(thread(failed).bootstrap, {
        status: "failed",
        stage: "workspace",
        error: { reason: "git", message: "base branch missing" }
      })
      // The setup that waited for the workspace will not run: it no longer shows as pending.
      assert.strictEqual(thread(begun).setup.status, "pending")
      assert.strictEqual(thread(failed).setup.status, "not-requested")
    })
  })
})
