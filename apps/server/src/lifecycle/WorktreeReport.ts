// `spindle worktrees`: every worktree under Spindle's root with its thread, size, state and what
// the cleanup would do; and the cleanup itself, which looks at each worktree again right before it
// acts and never removes uncommitted or unpushed work. Pool slots are the pool's, never orphans.
import { existsSync, readdirSync, rmdirSync } from "node:fs"
import { realpath } from "node:fs/promises"
import { join, sep } from "node:path"
import {
  type Actor,
  CommandId,
  type ProjectId,
  type SpindleError,
  type Thread,
  type WorktreeEntry
} from "@spindle/contracts"
import { randomHex } from "@spindle/shared/random"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import { ChildProcessSpawner } from "effect/process/ChildProcessSpawner"
import { Engine } from "../engine/Engine.ts"
import { projectNotFound } from "../engine/notFound.ts"
import { GitCli } from "../git/GitCli.ts"
import { Repositories } from "../git/Repositories.ts"
import { Worktrees } from "../git/Worktrees.ts"
import { inPool, POOL_DIR } from "../pool/WorktreePool.ts"
import { markRefused } from "../reads/gitRefusals.ts"
import { diskUsage } from "./diskUsage.ts"
import { ThreadLifecycle } from "./ThreadLifecycle.ts"
import { type Inspection, inspectWorktree, keepReasons } from "./worktreeInspection.ts"

const inside = (root: string, path: string) => path.startsWith(root + sep)

const realPath = (path: string) => Effect.promise(() => realpath(path).catch(() => path))

/** A worktree found under the root, before it is judged. */
interface Found {
  readonly path: string
  /** The repository it belongs to (its main checkout), when git knows. */
  readonly repo: string | null
  readonly branch: string | null
  readonly registered: boolean
  readonly missing: boolean
}

const threadStatus = (thread: Thread): "active" | "queued" | "archived" | "deleted" =>
  thread.deletedAt !== null ? "deleted" : thread.status

export class WorktreeReport extends Context.Service<
  WorktreeReport,
  {
    readonly list: (projectId?: ProjectId) => Effect.Effect<ReadonlyArray<WorktreeEntry>, SpindleError>
    readonly cleanup: (
      projectId: ProjectId | undefined,
      actor: Actor
    ) => Effect.Effect<ReadonlyArray<WorktreeEntry>, SpindleError>
  }
>()("spindle/lifecycle/WorktreeReport") {
  static readonly layer = Layer.effect(
    WorktreeReport,
    Effect.gen(function* () {
      const engine = yield* Engine
      const git = yield* GitCli
      const repositories = yield* Repositories
      const worktrees = yield* Worktrees
      const lifecycle = yield* ThreadLifecycle
      const spawner = yield* ChildProcessSpawner

      /** Folders under `<root>/<project>/` (and the pool's), plus git's entries whose folder is gone. */
      const discover = Effect.fn("WorktreeReport.discover")(function* (
        root: string,
        repos: ReadonlyArray<string>
      ) {
        const registered = new Map<string, { branch: string | null; repo: string; prunable: boolean }>()
        for (const repo of repos) {
          const entries = yield* repositories.listWorktrees(repo).pipe(Effect.orElseSucceed(() => []))
          for (const entry of entries) {
            const path = yield* realPath(entry.path)
            if (inside(root, path))
              registered.set(path, { branch: entry.branch, repo, prunable: entry.prunable })
          }
        }
        const folders: Array<string> = []
        const list = (dir: string) =>
          existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()) : []
        for (const group of list(root)) {
          if (group.name === POOL_DIR) {
            for (const project of list(join(root, POOL_DIR))) {
              for (const slot of list(join(root, POOL_DIR, project.name)))
                folders.push(join(root, POOL_DIR, project.name, slot.name))
            }
            continue
          }
          for (const child of list(join(root, group.name))) folders.push(join(root, group.name, child.name))
        }
        const found: Array<Found> = []
        for (const folder of folders) {
          const known = registered.get(folder)
          if (known !== undefined) {
            found.push({
              path: folder,
              repo: known.repo,
              branch: known.branch,
              registered: true,
              missing: false
            })
            continue
          }
          // A worktree of a repository no project points at any more.
          const repo = yield* repositories.mainCheckoutOf(folder)
          const entry =
            repo === null
              ? undefined
              : (yield* repositories.listWorktrees(repo).pipe(Effect.orElseSucceed(() => []))).find(
                  (e) => e.path === folder
                )
          found.push({
            path: folder,
            repo: entry === undefined ? null : repo,
            branch: entry?.branch ?? null,
            registered: entry !== undefined,
            missing: false
          })
        }
        for (const [path, known] of registered) {
          if (!existsSync(path))
            found.push({ path, repo: known.repo, branch: known.branch, registered: true, missing: true })
        }
        return found
      })

      const judge = (
        found: Found,
        thread: Thread | undefined,
        inspection: Inspection | undefined,
        root: string
      ) => {
        const pooled = inPool(root, found.path)
        const reasons = inspection === undefined ? [] : keepReasons(inspection, found.branch)
        const owner = thread === undefined ? "" : `thread ${thread.id}`
        const base = {
          path: found.path,
          projectId: thread?.projectId ?? null,
          threadId: thread?.id ?? null,
          threadStatus: thread === undefined ? null : threadStatus(thread),
          branch: found.branch
        }
        const entry = (
          state: WorktreeEntry["state"],
          action: WorktreeEntry["action"],
          why: string,
          details: ReadonlyArray<string> = reasons
        ) => ({ ...base, state, action, why, details })
        if (pooled) return entry("pooled", "keep", "a spare worktree of the project's pool", [])
        if (found.missing)
          return entry("missing", "prune", "its folder is gone; git still lists it (git worktree prune)", [])
        if (!found.registered) {
          return entry(
            "orphaned",
            "keep",
            "not a worktree git knows of; look inside and delete it by hand if it holds nothing you need",
            []
          )
        }
        const dirty = (inspection?.dirtyCount ?? 0) > 0
        const state: WorktreeEntry["state"] =
          thread === undefined ? "orphaned" : dirty ? "dirty" : reasons.length > 0 ? "unpushed" : "clean"
        if (thread === undefined) {
          return reasons.length === 0
            ? entry(state, "remove", "no thread owns it and nothing would be lost")
            : entry(state, "keep", "no thread owns it, but it holds work found nowhere else")
        }
        if (thread.status === "active") {
          return entry(
            state,
            "keep",
            `${owner} is active${thread.idleSince === null ? "" : ` (idle since ${thread.idleSince})`}; archive it with 'spindle thread archive ${thread.id}'`
          )
        }
        if (!thread.workspace.createdByUs)
          return entry(state, "keep", `${owner} adopted it; Spindle never removes it`)
        return reasons.length === 0
          ? entry(state, "remove", `${owner} is ${threadStatus(thread)} and nothing would be lost`)
          : entry(state, "keep", `${owner} is ${threadStatus(thread)}, but removing it would lose work`)
      }

      const list = Effect.fn("WorktreeReport.list")(function* (projectId?: ProjectId) {
        const model = yield* engine.readModel
        if (projectId !== undefined && !HashMap.has(model.projects, projectId)) {
          return yield* projectNotFound(projectId)
        }
        const root = yield* realPath(worktrees.root)
        // This host's checkouts: another host's worktrees are on another machine.
        const projects = Array.from(HashMap.values(model.projects)).filter(engine.hasCheckout)
        const repos = projects
          .filter((p) => projectId === undefined || p.id === projectId)
          .map((p) => p.workspaceRoot)
        const byPath = new Map<string, Thread>()
        for (const thread of HashMap.values(model.threads)) {
          const path = thread.workspace.worktreePath
          if (path === null) continue
          const held = byPath.get(path)
          // The active thread wins over an archived one that once had the same path.
          if (held === undefined || held.status !== "active") byPath.set(path, thread)
        }
        const found = yield* discover(root, repos)
        const entries = yield* Effect.forEach(
          found,
          (item) =>
            Effect.gen(function* () {
              const thread = byPath.get(item.path)
              const projectOf =
                thread?.projectId ?? projects.find((p) => p.workspaceRoot === item.repo)?.id ?? null
              if (projectId !== undefined && projectOf !== projectId) return undefined
              let refused: string | undefined
              const inspection =
                item.registered && !item.missing && item.repo !== null
                  ? yield* inspectWorktree(git, item.repo, item.path, item.branch).pipe(
                      Effect.tapError((error) =>
                        Effect.andThen(
                          Effect.sync(() => {
                            if (error.reason === "foreign-gitdir") refused = error.message
                          }),
                          thread === undefined ? Effect.void : markRefused(engine, thread.id, error)
                        )
                      ),
                      Effect.orElseSucceed(() => undefined)
                    )
                  : undefined
              const judged =
                refused === undefined
                  ? judge(item, thread, inspection, root)
                  : { ...judge(item, thread, inspection, root), action: "keep" as const, why: refused }
              const sizeBytes = item.missing ? null : yield* diskUsage(spawner, item.path)
              return { ...judged, projectId: projectOf, sizeBytes } satisfies WorktreeEntry
            }),
          { concurrency: 4 }
        )
        return entries.filter((e): e is WorktreeEntry => e !== undefined)
      })

      const apply = (entry: WorktreeEntry, repo: string | null, actor: Actor) =>
        Effect.gen(function* () {
          if (entry.action === "prune") {
            if (repo !== null) yield* worktrees.pruneMissing(repo)
            return "pruned"
          }
          if (entry.action !== "remove") return undefined
          if (entry.threadId !== null) {
            const commandId = CommandId.make(`cleanup-${yield* randomHex(10)}`)
            const done = yield* lifecycle.cleanUp(entry.threadId, commandId, actor)
            if (done !== undefined) return "removed"
            const now = yield* engine.getThread(entry.threadId)
            return `kept: ${now?.cleanup?.reasons.join(" ") || "it changed since it was listed"}`
          }
          if (repo === null) return "kept: its repository is unknown"
          yield* worktrees.remove({
            repo,
            worktreePath: entry.path,
            branch: entry.branch,
            // Only branches named like Spindle's: another name may be one the user relies on.
            deleteBranch: entry.branch?.startsWith("spindle/") === true
          })
          return "removed"
        }).pipe(Effect.catch((error) => Effect.succeed(`kept: ${error.message}`)))

      const cleanup = Effect.fn("WorktreeReport.cleanup")(function* (
        projectId: ProjectId | undefined,
        actor: Actor
      ) {
        const entries = yield* list(projectId)
        const model = yield* engine.readModel
        const results: Array<WorktreeEntry> = []
        for (const entry of entries) {
          const repo =
            entry.projectId === null
              ? yield* repositories.mainCheckoutOf(entry.path)
              : (HashMap.get(model.projects, entry.projectId).pipe((o) =>
                  o._tag === "Some" ? o.value.workspaceRoot : null
                ) ?? (yield* repositories.mainCheckoutOf(entry.path)))
          const result = yield* apply(entry, repo, actor)
          results.push(result === undefined ? entry : { ...entry, result })
        }
        // Project folders left empty go too.
        const root = yield* realPath(worktrees.root)
        if (existsSync(root)) {
          for (const group of readdirSync(root, { withFileTypes: true })) {
            if (!group.isDirectory() || group.name === POOL_DIR) continue
            const dir = join(root, group.name)
            if (readdirSync(dir).length === 0) yield* Effect.sync(() => rmdirSync(dir))
          }
        }
        return results
      })

      return { list, cleanup }
    })
  )
}
