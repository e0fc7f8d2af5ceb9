// The warm pool: per project (opt-in, `worktreePoolSize`), spare worktrees checked out detached
// at the default branch's head under `<home>/worktrees/.pool/<project>/<slot>`, made in the
// background at low priority. A new_worktree bootstrap whose base is that commit claims one
// (Worktrees.createPlanned moves it into place and creates the branch in it) instead of a
// checkout. A slot is checked when it is made, with a file-system watch armed first
// (slotWatch.ts); at its claim, a slot whose watch saw nothing is handed out as checked, any
// other is checked again: one that is not clean, detached and at a known commit is discarded,
// never given; one whose base moved is brought to the new commit first. Everything under `.pool`
// is Spindle's own: slots are reconciled from disk on start.
import { existsSync, readdirSync, rmSync } from "node:fs"
import { mkdir, realpath } from "node:fs/promises"
import { join, sep } from "node:path"
import type { Project, ProjectId } from "@spindle/contracts"
import { randomHex } from "@spindle/shared/random"
import { slugify } from "@spindle/shared/slug"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as Semaphore from "effect/Semaphore"
import * as Stream from "effect/Stream"
import { ServerConfig } from "../config/ServerConfig.ts"
import { Engine } from "../engine/Engine.ts"
import type { EventFilter } from "../engine/followers.ts"
import { commitArg } from "../git/baseRefs.ts"
import { GitCli } from "../git/GitCli.ts"
import { RepoLocks } from "../git/RepoLocks.ts"
import { Repositories, type ResolvedBase } from "../git/Repositories.ts"
import { Worktrees } from "../git/Worktrees.ts"
import { type SlotWatch, settleWatches, watchSlot } from "./slotWatch.ts"

/** Where the pool keeps its slots, under the worktrees root. */
export const POOL_DIR = ".pool"

/** How often the pool looks for a moved default branch when nothing else wakes it. */
const DEFAULT_INTERVAL_MS = 300_000
/** Project changes (created, updated, removed) wake the pool as a claim does. */
const PROJECT_CHANGES: EventFilter = (event) => event.type.startsWith("project.")

interface Slot {
  readonly path: string
  readonly projectId: ProjectId
  readonly repo: string
  /** The commit it is checked out at. */
  sha: string
  /** Only `ready` slots are handed out; `busy` ones are being filled, refreshed or checked. */
  state: "ready" | "busy"
  /** Armed before the check that found it clean; an untouched watch spares the claim a check. */
  watch?: SlotWatch | undefined
}

export interface PoolSlot {
  readonly path: string
  readonly sha: string
  readonly state: "ready" | "busy"
}

export interface PoolStats {
  readonly claimed: number
  /** Claims that trusted the slot's watch instead of checking it again. */
  readonly trusted: number
  readonly created: number
  readonly refreshed: number
  readonly discarded: number
}

/** What `git status --porcelain=v2 --branch --ignored` says about a slot: its commit when usable. */
const usableAt = (status: string): string | undefined => {
  const lines = status.split("\n").filter((line) => line !== "")
  if (lines.some((line) => !line.startsWith("# "))) return undefined
  if (!lines.includes("# branch.head (detached)")) return undefined
  const oid = lines.find((line) => line.startsWith("# branch.oid "))?.slice("# branch.oid ".length)
  return oid !== undefined && /^[0-9a-f]{40,64}$/.test(oid) ? oid : undefined
}

export class WorktreePool extends Context.Service<
  WorktreePool,
  {
    /**
     * For Worktrees.createPlanned, under the repository's lock: a checked slot of the project at
     * `base`, taken out of the pool, or undefined (no pool, none ready, or none usable).
     */
    readonly claim: (project: Project, base: ResolvedBase) => Effect.Effect<string | undefined>
    /** One pass: reconcile slots with disk, refresh moved ones, create or drop slots to each pool's size. */
    readonly fill: Effect.Effect<void>
    /** Runs `fill` now, after each claim, on project changes and periodically, until the server stops. */
    readonly start: Effect.Effect<void>
    /** The project's slots as the pool knows them. */
    readonly slots: (projectId: ProjectId) => Effect.Effect<ReadonlyArray<PoolSlot>>
    readonly stats: Effect.Effect<PoolStats>
  }
>()("spindle/pool/WorktreePool") {
  static readonly layer = Layer.effect(
    WorktreePool,
    Effect.gen(function* () {
      const engine = yield* Engine
      const git = yield* GitCli
      const repositories = yield* Repositories
      const worktrees = yield* Worktrees
      const locks = yield* RepoLocks
      const config = yield* ServerConfig
      const scope: Scope.Scope = yield* Effect.scope
      const root = join(worktrees.root, POOL_DIR)
      const slots = new Map<string, Slot>()
      /** Slots given to a bootstrap: moved away by it, never to be taken back from disk. */
      const handedOut = new Set<string>()
      const stats = yield* Ref.make<PoolStats>({
        claimed: 0,
        trusted: 0,
        created: 0,
        refreshed: 0,
        discarded: 0
      })
      const wakeUps = yield* Queue.sliding<void>(1)
      const fillLock = yield* Semaphore.make(1)
      const count = (key: keyof PoolStats) => Ref.update(stats, (s) => ({ ...s, [key]: s[key] + 1 }))

      const folderOf = (projectId: ProjectId) => join(root, slugify(projectId))
      const realFolderOf = (projectId: ProjectId) =>
        Effect.promise(() => realpath(folderOf(projectId)).catch(() => folderOf(projectId)))

      /**
       * The slot's commit when it is clean, detached and readable; undefined otherwise. Ignored
       * files count too (`--ignored`): a build output or `.env` left in a slot is not fresh.
       */
      const check = (repo: string, path: string) =>
        existsSync(path)
          ? git
              .run(["status", "--porcelain=v2", "--branch", "--untracked-files=normal", "--ignored"], {
                cwd: path,
                worktreeOf: repo
              })
              .pipe(
                Effect.map((r) => (r.exitCode === 0 ? usableAt(r.stdout) : undefined)),
                Effect.orElseSucceed(() => undefined)
              )
          : Effect.succeed(undefined)

      const unwatch = (slot: Slot) => {
        slot.watch?.close()
        slot.watch = undefined
      }
      yield* Effect.addFinalizer(() => Effect.sync(() => slots.forEach(unwatch)))

      /** The slot's commit when it is clean, detached and readable, with a watch armed first. */
      const verify = (slot: Slot) =>
        Effect.gen(function* () {
          unwatch(slot)
          slot.watch = yield* Effect.promise(() => watchSlot(slot.path))
          return yield* check(slot.repo, slot.path)
        })

      /** Whether a thread works in `path` (bound to it, whatever its status). */
      const heldByThread = (path: string) =>
        Effect.map(engine.readModel, (model) =>
          HashMap.some(model.threads, (thread) => thread.workspace.worktreePath === path)
        )

      /**
       * Removes a slot from git and disk; its contents are the pool's own, so nothing is lost.
       * A slot a thread is bound to (adoption refuses the pool, but a thread from before that
       * check may hold one) is not the pool's any more: forgotten, never removed.
       */
      const discardUnlocked = (repo: string, path: string) =>
        Effect.gen(function* () {
          const slot = slots.get(path)
          if (slot !== undefined) unwatch(slot)
          slots.delete(path)
          if (yield* heldByThread(path)) {
            handedOut.add(path)
            return yield* Effect.logWarning(`Pool slot ${path} is bound to a thread; left in place.`)
          }
          yield* worktrees.discardMade(repo, [path])
          yield* count("discarded")
        })
      const discard = (repo: string, path: string) => locks.withLock(repo, discardUnlocked(repo, path))

      /** Checks a slot out at `sha` in place (a differential checkout); false when that failed. */
      const moveTo = (slot: Slot, sha: string, lowPriority: boolean) =>
        Effect.gen(function* () {
          unwatch(slot)
          const checkout = yield* worktrees.checkoutConfig(slot.repo)
          const moved = yield* git.run(["checkout", "--quiet", "--detach", commitArg(sha)], {
            cwd: slot.path,
            worktreeOf: slot.repo,
            config: checkout,
            lowPriority,
            timeout: "10 minutes"
          })
          if (moved.exitCode !== 0 || (yield* verify(slot)) !== sha) return false
          slot.sha = sha
          yield* count("refreshed")
          return true
        }).pipe(Effect.orElseSucceed(() => false))

      const claim = (project: Project, base: ResolvedBase) =>
        Effect.gen(function* () {
          if (project.worktreePoolSize === 0) return undefined
          const ready = [...slots.values()].filter((s) => s.projectId === project.id && s.state === "ready")
          // Slots at the base first; the others only when the base is the pool's branch, which
          // moved since they were made (they are brought along), never for another base.
          const candidates = [
            ...ready.filter((s) => s.sha === base.sha),
            ...(ready.some((s) => s.sha !== base.sha) && (yield* baseOf(project))?.sha === base.sha
              ? ready.filter((s) => s.sha !== base.sha)
              : [])
          ]
          for (const slot of candidates) {
            if (slot.state !== "ready") continue
            slot.state = "busy"
            // A slot whose watch saw nothing since its check is as that check found it.
            yield* Effect.promise(settleWatches)
            const trusted =
              slot.sha === base.sha &&
              slot.watch !== undefined &&
              !slot.watch.touched() &&
              existsSync(join(slot.path, ".git"))
            unwatch(slot)
            const at = trusted ? base.sha : yield* check(slot.repo, slot.path)
            const usable = at === base.sha || (at !== undefined && (yield* moveTo(slot, base.sha, false)))
            if (!usable) {
              // Broken (gone, dirty, on a branch): discarded, never handed out. The caller holds the lock.
              yield* discardUnlocked(slot.repo, slot.path)
              continue
            }
            unwatch(slot)
            slots.delete(slot.path)
            handedOut.add(slot.path)
            yield* count("claimed")
            if (trusted) yield* count("trusted")
            yield* Queue.offer(wakeUps, undefined)
            return slot.path
          }
          return undefined
        })

      /** The commit a project's pool is kept at: its default branch's head. */
      const baseOf = (project: Project) =>
        Effect.gen(function* () {
          const name = project.defaultBranch ?? (yield* repositories.defaultBranch(project.workspaceRoot))
          if (name === undefined) return undefined
          return yield* repositories.resolveBase(project.workspaceRoot, name, { branch: true })
        }).pipe(Effect.orElseSucceed(() => undefined))

      /** Folders on disk the pool does not know (left by an earlier run): kept if usable, else discarded. */
      const reconcile = (project: Project) =>
        Effect.gen(function* () {
          if (!existsSync(folderOf(project.id))) return
          const folder = yield* realFolderOf(project.id)
          const registered = new Set(
            yield* Effect.forEach(
              yield* repositories.listWorktrees(project.workspaceRoot).pipe(Effect.orElseSucceed(() => [])),
              (entry) => Effect.promise(() => realpath(entry.path).catch(() => entry.path))
            )
          )
          for (const entry of readdirSync(folder, { withFileTypes: true })) {
            const path = join(folder, entry.name)
            if (slots.has(path) || handedOut.has(path)) continue
            if (!registered.has(path)) {
              yield* discard(project.workspaceRoot, path)
              continue
            }
            const slot: Slot = {
              path,
              projectId: project.id,
              repo: project.workspaceRoot,
              sha: "",
              state: "busy"
            }
            slots.set(path, slot)
            const at = yield* verify(slot)
            if (at === undefined) yield* discard(project.workspaceRoot, path)
            else {
              slot.sha = at
              slot.state = "ready"
            }
          }
          for (const slot of [...slots.values()]) {
            if (slot.projectId === project.id && !existsSync(slot.path)) {
              yield* discard(slot.repo, slot.path)
            }
          }
        })

      /** A new slot: registered under the lock without a checkout, then checked out outside it. */
      const createSlot = (project: Project, base: ResolvedBase) =>
        Effect.gen(function* () {
          const repo = project.workspaceRoot
          yield* Effect.tryPromise({
            try: () => mkdir(folderOf(project.id), { recursive: true, mode: 0o700 }),
            catch: (error) =>
              new Error(`Could not create the pool's folder ${folderOf(project.id)}: ${error}`)
          })
          const path = join(yield* realFolderOf(project.id), yield* randomHex(4))
          const slot: Slot = { path, projectId: project.id, repo, sha: base.sha, state: "busy" }
          slots.set(path, slot)
          const added = yield* locks.withLock(
            repo,
            git.run(
              ["worktree", "add", "--quiet", "--detach", "--no-checkout", "--", path, commitArg(base.sha)],
              {
                cwd: repo
              }
            )
          )
          const checkout = yield* worktrees.checkoutConfig(repo)
          const filled =
            added.exitCode === 0 &&
            (yield* git.run(["reset", "--hard", "--quiet"], {
              cwd: path,
              worktreeOf: repo,
              config: checkout,
              lowPriority: true,
              timeout: "30 minutes"
            })).exitCode === 0
          if (!filled || (yield* verify(slot)) !== base.sha) {
            yield* discard(repo, path)
            return
          }
          slot.state = "ready"
          yield* count("created")
        }).pipe(
          Effect.catch((error) => Effect.logWarning(`Could not make a pool slot for ${project.id}: ${error}`))
        )

      const fillProject = (project: Project) =>
        Effect.gen(function* () {
          yield* reconcile(project)
          const mine = () => [...slots.values()].filter((s) => s.projectId === project.id)
          const base = project.worktreePoolSize === 0 ? undefined : yield* baseOf(project)
          // Too many (the size went down), or no pool any more: drop ready slots.
          for (const slot of mine().slice(project.worktreePoolSize)) {
            if (slot.state === "ready") yield* discard(slot.repo, slot.path)
          }
          if (base === undefined) return
          for (const slot of mine()) {
            if (slot.state !== "ready" || slot.sha === base.sha) continue
            slot.state = "busy"
            if (yield* moveTo(slot, base.sha, true)) slot.state = "ready"
            else yield* discard(slot.repo, slot.path)
          }
          while (mine().length < project.worktreePoolSize) {
            const before = mine().length
            yield* createSlot(project, base)
            if (mine().length <= before) return // it failed; the next pass tries again
          }
        })

      const fill = fillLock.withPermits(1)(
        Effect.gen(function* () {
          const model = yield* engine.readModel
          // Only projects with a checkout on this host: another host keeps its own pool.
          const projects = [...HashMap.values(model.projects)].filter(engine.hasCheckout)
          for (const project of projects) yield* fillProject(project)
          // Slots of projects that are gone.
          if (existsSync(root)) {
            const known = new Set(projects.map((p) => slugify(p.id)))
            for (const entry of readdirSync(root, { withFileTypes: true })) {
              if (known.has(entry.name)) continue
              for (const slot of readdirSync(join(root, entry.name))) {
                const path = join(root, entry.name, slot)
                const repo = yield* repositories.mainCheckoutOf(path)
                if (repo !== null) yield* discard(repo, path)
                else rmSync(path, { recursive: true, force: true })
              }
              rmSync(join(root, entry.name), { recursive: true, force: true })
            }
          }
        })
      )

      const interval = config.poolIntervalMs ?? DEFAULT_INTERVAL_MS
      const start = Effect.gen(function* () {
        const sequence = (yield* engine.snapshot).sequence
        yield* engine.events(sequence, { wanted: PROJECT_CHANGES, background: true }).pipe(
          Stream.runForEach(() => Queue.offer(wakeUps, undefined)),
          Effect.ignore({ log: "Debug", message: "The pool stopped following project changes" }),
          (effect) => Effect.forkIn(effect, scope)
        )
        yield* Effect.gen(function* () {
          yield* fill.pipe(
            Effect.catchCause((cause) => Effect.logWarning("The worktree pool could not fill", cause))
          )
          yield* Queue.take(wakeUps).pipe(Effect.timeout(interval), Effect.ignore)
        }).pipe(Effect.forever, (effect) => Effect.forkIn(effect, scope))
      })

      return WorktreePool.of({
        claim: (project, base) =>
          claim(project, base).pipe(
            Effect.withSpan("WorktreePool.claim", { attributes: { projectId: project.id } })
          ),
        fill: fill.pipe(Effect.withSpan("WorktreePool.fill")),
        start,
        slots: (projectId) =>
          Effect.sync(() =>
            [...slots.values()]
              .filter((s) => s.projectId === projectId)
              .map(({ path, sha, state }) => ({ path, sha, state }))
          ),
        stats: Ref.get(stats)
      })
    })
  )
}

/** Whether `path` is inside the pool's folder under `worktreesRoot`. */
export const inPool = (worktreesRoot: string, path: string) =>
  path.startsWith(join(worktreesRoot, POOL_DIR) + sep)
