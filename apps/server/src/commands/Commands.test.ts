import { execFileSync } from "node:child_process"
import { mkdirSync, realpathSync, symlinkSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { StartupGate } from "../bootstrap/StartupGate.ts"
import { Engine } from "../engine/Engine.ts"
import { CoreLayer } from "../main.ts"
import { NotifySecrets } from "../persistence/NotifySecrets.ts"
import { git, gitRepo, serverActor, tempDir, tempHome, testSettings } from "../testing/fixtures.ts"
import { Commands } from "./Commands.ts"

const setup = (options: { readonly ready?: boolean } = {}) =>
  Effect.gen(function* () {
    const home = yield* tempHome
    const layer = CoreLayer(testSettings(home))
    const context = yield* Layer.build(layer)
    const gate = Context.get(context, StartupGate)
    if (options.ready !== false) yield* gate.markReady
    return {
      home,
      context,
      commands: Context.get(context, Commands),
      engine: Context.get(context, Engine),
      gate
    }
  })

const register = (workspaceRoot: string, n = 1) => ({
  type: "project.create",
  commandId: `register-${n}`,
  projectId: `p${n}`,
  workspaceRoot
})

describe("Commands", () => {
  it.live("registers a repository by its real top-level path and detects its default branch", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir()
      const repo = yield* gitRepo
      const sub = join(repo, "src", "deep")
      mkdirSync(sub, { recursive: true })
      const link = join(dir, "link-to-repo")
      symlinkSync(repo, link)
      const { commands, engine } = yield* setup()
      yield* commands.dispatch(register(join(link, "src", "deep")), serverActor)
      const project = (yield* engine.snapshot).projects[0]!
      assert.strictEqual(project.workspaceRoot, realpathSync(repo))
      assert.strictEqual(project.defaultBranch, "main")
      // The same repository by another spelling is the same project.
      const again = yield* Effect.flip(commands.dispatch(register(sub, 2), serverActor))
      assert.strictEqual(again.reason, "conflict")
      assert.include(again.message, realpathSync(repo))
    })
  )

  it.live(
    "records the submodule URLs on the default branch when submodules are turned on, never a client's",
    () =>
      Effect.gen(function* () {
        const repo = yield* gitRepo
        const gitlink = (path: string, url: string) => {
          const head = execFileSync("git", ["rev-parse", "HEAD"], { cwd: repo }).toString().trim()
          execFileSync("git", ["config", "-f", ".gitmodules", `submodule.${path}.path`, path], { cwd: repo })
          execFileSync("git", ["config", "-f", ".gitmodules", `submodule.${path}.url`, url], { cwd: repo })
          execFileSync("git", ["update-index", "--add", "--cacheinfo", `160000,${head},${path}`], {
            cwd: repo
          })
          execFileSync("git", ["add", ".gitmodules"], { cwd: repo })
          execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-qm", path], {
            cwd: repo
          })
        }
        gitlink("vendor/a", "https://example.com/a.git")
        const { commands, engine } = yield* setup()
        const project = Effect.map(engine.snapshot, (snapshot) => snapshot.projects[0]!)
        yield* commands.dispatch(
          { ...register(repo), initSubmodules: true, submoduleUrls: ["http://127.0.0.1:9/evil.git"] },
          serverActor
        )
        assert.deepStrictEqual((yield* project).submoduleUrls, ["https://example.com/a.git"])
        // Committed later: not allowed until the user turns submodules on again.
        gitlink("vendor/b", "https://example.com/b.git")
        const update = (n: number, fields: Record<string, unknown>) =>
          commands.dispatch(
            { type: "project.update", commandId: `update-${n}`, projectId: "p1", ...fields },
            serverActor
          )
        yield* update(1, { title: "renamed", submoduleUrls: ["http://127.0.0.1:9/evil.git"] })
        assert.deepStrictEqual((yield* project).submoduleUrls, ["https://example.com/a.git"])
        yield* update(2, { initSubmodules: true })
        assert.deepStrictEqual((yield* project).submoduleUrls, [
          "https://example.com/a.git",
          "https://example.com/b.git"
        ])
        yield* update(3, { initSubmodules: false })
        assert.deepStrictEqual((yield* project).submoduleUrls, [])
      })
  )

  it.live(
    "refuses a worktree of a registered repository (Spindle's own or the user's), naming the project",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir()
        const repo = yield* gitRepo
        const { commands, engine, home } = yield* setup()
        yield* commands.dispatch(register(repo), serverActor)
        const sequence = (yield* engine.snapshot).sequence
        // One where Spindle keeps threads' worktrees, one of the user's own next to the repository.
        const spindles = join(home, "worktrees", "p1", "spindle-1234")
        git(repo, "worktree", "add", "--quiet", "-b", "spindle/1234", spindles)
        const users = join(dir, "users-worktree")
        git(repo, "worktree", "add", "--quiet", "-b", "feature", users)
        for (const [n, path] of [
          [2, spindles],
          [3, users]
        ] as const) {
          const refused = yield* Effect.flip(commands.dispatch(register(path, n), serverActor))
          assert.strictEqual(refused.reason, "conflict")
          assert.strictEqual(refused.projectId, "p1")
          assert.include(refused.message, "project p1")
        }
        // The other way round: a repository registered through a worktree, then its main checkout.
        const other = yield* gitRepo
        const otherWorktree = join(dir, "other-worktree")
        git(other, "worktree", "add", "--quiet", "-b", "side", otherWorktree)
        yield* commands.dispatch(register(otherWorktree, 4), serverActor)
        const main = yield* Effect.flip(commands.dispatch(register(other, 5), serverActor))
        assert.strictEqual(main.reason, "conflict")
        assert.strictEqual(main.projectId, "p4")
        assert.strictEqual((yield* engine.snapshot).sequence, sequence + 1)
      })
  )

  it.live("refuses a folder under Spindle's worktrees root even of an unregistered repository", () =>
    Effect.gen(function* () {
      const repo = yield* gitRepo
      const { commands, engine, home } = yield* setup()
      const inside = join(home, "worktrees", "gone", "spindle-5678")
      git(repo, "worktree", "add", "--quiet", "-b", "spindle/5678", inside)
      const refused = yield* Effect.flip(commands.dispatch(register(inside), serverActor))
      assert.strictEqual(refused.reason, "validation")
      assert.strictEqual(refused.field, "workspaceRoot")
      assert.include(refused.message, "worktrees folder")
      assert.strictEqual((yield* engine.snapshot).sequence, 0)
    })
  )

  it.live("refuses a path that does not exist or is not a git repository, writing nothing", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir()
      const plain = join(dir, "plain")
      mkdirSync(plain)
      const { commands, engine } = yield* setup()
      const missing = yield* Effect.flip(commands.dispatch(register(join(dir, "nope")), serverActor))
      assert.strictEqual(missing.reason, "validation")
      assert.strictEqual(missing.field, "workspaceRoot")
      assert.include(missing.message, join(dir, "nope"))
      const notGit = yield* Effect.flip(commands.dispatch(register(plain, 2), serverActor))
      assert.strictEqual(notGit.reason, "validation")
      assert.include(notGit.message, "git")
      assert.strictEqual((yield* engine.snapshot).sequence, 0)
    })
  )

  it.live("refuses malformed input with a validation error and writes nothing", () =>
    Effect.gen(function* () {
      const _dir = yield* tempDir()
      const { commands, engine } = yield* setup()
      const inputs: ReadonlyArray<unknown> = [
        { type: "thread.create", commandId: "c", projectId: 7, threadId: "t", title: "x" },
        { type: "no.such.thing", commandId: "c" },
        { type: "project.remove", commandId: "c", projectId: "p", extra: 1 },
        { type: "thread.create", commandId: "c", projectId: "p", threadId: "t", title: "x".repeat(10_000) },
        null
      ]
      for (const input of inputs) {
        const error = yield* Effect.flip(commands.dispatch(input, serverActor))
        assert.strictEqual(error.reason, "validation")
        assert.isString(error.field)
      }
      assert.strictEqual((yield* engine.snapshot).sequence, 0)
    })
  )

  it.live("detects master and the current branch when there is no main", () =>
    Effect.gen(function* () {
      const _dir = yield* tempDir()
      const repo = yield* gitRepo
      execFileSync("git", ["branch", "-m", "main", "trunk"], { cwd: repo })
      const { commands, engine } = yield* setup()
      yield* commands.dispatch(register(repo), serverActor)
      assert.strictEqual((yield* engine.snapshot).projects[0]!.defaultBranch, "trunk")
    })
  )

  it.live("holds commands while starting and runs them in order once ready", () =>
    Effect.gen(function* () {
      const _dir = yield* tempDir()
      const repo = yield* gitRepo
      const { commands, engine, gate } = yield* setup({ ready: false })
      const waitingReaches = (n: number) =>
        gate.waiting.pipe(
          Effect.repeat({ until: (waiting) => waiting >= n, schedule: Schedule.spaced("5 millis") }),
          Effect.timeout("10 seconds")
        )
      const first = yield* Effect.forkChild(commands.dispatch(register(repo), serverActor))
      yield* waitingReaches(1)
      const second = yield* Effect.forkChild(
        commands.dispatch(
          { type: "thread.create", commandId: "t-1", threadId: "t1", projectId: "p1", title: "first" },
          serverActor
        )
      )
      yield* waitingReaches(2)
      assert.strictEqual((yield* engine.snapshot).sequence, 0)
      yield* gate.markReady
      // The thread needs the project: it only succeeds if the project command ran first.
      assert.deepStrictEqual(yield* Fiber.join(first), { sequence: 1 })
      assert.deepStrictEqual(yield* Fiber.join(second), { sequence: 2 })
      assert.strictEqual((yield* engine.snapshot).threads.length, 1)
    })
  )

  it.live("an agent's session cannot change a project, its webhook included; nothing is applied", () =>
    Effect.gen(function* () {
      const repo = yield* gitRepo
      const { commands, engine } = yield* setup()
      yield* commands.dispatch(register(repo), serverActor)
      const agent = { kind: "provider-session" as const, sessionId: "ps-1" }
      const before = (yield* engine.snapshot).sequence
      const refused = yield* Effect.flip(
        commands.dispatch(
          {
            type: "project.update",
            commandId: "agent-1",
            projectId: "p1",
            notifyWebhook: "http://127.0.0.1:9/steal",
            notifySecret: "agent-chosen"
          },
          agent
        )
      )
      assert.strictEqual(refused.reason, "forbidden")
      assert.include(refused.message, "changed by its user")
      const removal = yield* Effect.flip(
        commands.dispatch({ type: "project.remove", commandId: "agent-2", projectId: "p1" }, agent)
      )
      assert.strictEqual(removal.reason, "forbidden")
      assert.strictEqual((yield* engine.snapshot).sequence, before)
      assert.isNull((yield* engine.getProject("p1" as never))?.notifyWebhook)
    })
  )

  it.live("a secret is kept only when its command applies, and never in the log or a refusal", () =>
    Effect.gen(function* () {
      const repo = yield* gitRepo
      const { commands, engine, context } = yield* setup()
      const secrets = Context.get(context, NotifySecrets)
      yield* commands.dispatch(register(repo), serverActor)
      const refused = yield* Effect.flip(
        commands.dispatch(
          { type: "project.update", commandId: "s-1", projectId: "p1", notifySecret: "kept-Zq9-nowhere" },
          serverActor
        )
      )
      assert.strictEqual(refused.reason, "validation")
      assert.strictEqual(refused.field, "notifySecret")
      assert.isUndefined(yield* secrets.get("p1"), "a refused command stores no secret")
      yield* commands.dispatch(
        {
          type: "project.update",
          commandId: "s-2",
          projectId: "p1",
          notifyWebhook: "https://hooks.example.com/x",
          notifySecret: "kept-Zq9-nowhere"
        },
        serverActor
      )
      assert.strictEqual(yield* secrets.get("p1"), "kept-Zq9-nowhere")
      assert.deepStrictEqual((yield* engine.getProject("p1" as never))?.notifyWebhook, {
        url: "https://hooks.example.com/x",
        secretSet: true
      })
      const events = yield* engine
        .events(0)
        .pipe(Stream.take((yield* engine.readModel).sequence), Stream.runCollect)
      assert.notInclude(JSON.stringify([Array.from(events), refused]), "Zq9")
      // The project's removal takes its secret with it.
      yield* commands.dispatch({ type: "project.remove", commandId: "s-3", projectId: "p1" }, serverActor)
      assert.isUndefined(yield* secrets.get("p1"))
    })
  )
})
