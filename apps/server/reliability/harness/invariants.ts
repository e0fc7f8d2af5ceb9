// The one invariant checker every scenario ends with. It answers a list of violations (empty when
// all hold) rather than throwing at the first, so a report names everything that broke:
// gapless events seen once and in order by every subscriber; worktrees and spindle/* branches
// that match live threads both ways; every archived thread's worktree cleanup recorded, and true;
// every worktree /health reports as kept still there; no thread stuck in a transient state; every
// seeded user or agent change still there; no token secret in a log, a database file or the
// server's output.
import { existsSync, readFileSync } from "node:fs"
import { sep } from "node:path"
import type { Snapshot, Thread } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type { SpindleClient } from "../../src/cli/rpcClient.ts"
import { getJson } from "../../src/testing/http.ts"
import {
  eventSequences,
  isDirty,
  secretLeaks,
  spindleBranchesOf,
  worktreeFolders,
  worktreesOf,
  worktreesRoot
} from "./disk.ts"
import { caughtUp, type Tracker, trackerViolations } from "./tracker.ts"

/** A file a user or an agent wrote, which nothing may remove or change. */
export interface SeededChange {
  readonly path: string
  readonly content: string
}

export interface InvariantInput {
  readonly home: string
  readonly url: string
  readonly client: SpindleClient
  readonly trackers?: ReadonlyArray<Tracker>
  readonly seeded?: ReadonlyArray<SeededChange>
  /** Secrets this run issued (owner and client tokens, provider tokens). */
  readonly secrets?: ReadonlyArray<string>
  /** Output of every server process of the run, by name. */
  readonly outputs?: Record<string, string>
  /** A client token, to read what /health tells only clients (the orphaned worktrees). */
  readonly ownerToken?: string
  /** How long in-flight bootstraps may take to settle before "running" counts as stuck. */
  readonly settle?: "0 millis" | "10 seconds" | "30 seconds"
}

export interface InvariantReport {
  readonly violations: ReadonlyArray<string>
  readonly notes: ReadonlyArray<string>
  readonly events: number
  readonly threads: number
  readonly worktrees: number
}

export const transient = (thread: Thread) =>
  thread.bootstrap.status === "running" ||
  thread.setup.status === "running" ||
  thread.setup.status === "pending"

/** The snapshot once no bootstrap or setup is in flight (or the bound passed). */
const settled = (client: SpindleClient, settle: InvariantInput["settle"]) =>
  client["orchestration.getSnapshot"]().pipe(
    Effect.repeat({
      until: (snapshot) => !snapshot.threads.some(transient),
      schedule: Schedule.spaced("100 millis")
    }),
    Effect.timeoutOption(settle ?? "0 millis"),
    Effect.flatMap((found) =>
      found._tag === "Some" ? Effect.succeed(found.value) : client["orchestration.getSnapshot"]()
    )
  )

const describe = (t: Thread) =>
  `${t.id} (bootstrap ${t.bootstrap.status}${t.bootstrap.stage === null ? "" : `/${t.bootstrap.stage}`}, setup ${t.setup.status})`

/**
 * An archived thread with a worktree has its cleanup recorded, and the record is true: a kept
 * worktree is there, a removed one is not (`registered`: what git lists in the thread's project).
 */
const cleanupViolations = (t: Thread, registered: ReadonlySet<string>, violations: Array<string>) => {
  const cleanup = t.cleanup
  if (cleanup === null) {
    if (t.workspace.worktreePath !== null)
      violations.push(`archived thread ${describe(t)} has no cleanup record for ${t.workspace.worktreePath}`)
    return
  }
  const path = cleanup.worktreePath
  if (path === null || cleanup.outcome === "not-ours") return
  const there = existsSync(path) && registered.has(path)
  if (cleanup.outcome === "kept" && !there)
    violations.push(
      `archived thread ${t.id} says its worktree ${path} was kept, but git has no worktree there`
    )
  if (cleanup.outcome === "removed" && registered.has(path))
    violations.push(`archived thread ${t.id} says its worktree ${path} was removed, but git still lists it`)
}

/** What /health reports recovery did with orphaned worktrees is still true. */
const healthViolations = (body: Record<string, unknown>, violations: Array<string>) => {
  const orphans = (body.orphanedWorktrees ?? []) as ReadonlyArray<{ path: string; action: string }>
  for (const orphan of orphans) {
    if (orphan.action === "kept" && !existsSync(orphan.path))
      violations.push(`/health reports ${orphan.path} as kept, but it does not exist`)
    if (orphan.action === "removed" && existsSync(orphan.path))
      violations.push(`/health reports ${orphan.path} as removed, but it is still there`)
  }
}

/** Worktrees and branches against the threads, in both directions. */
export const workspaceViolations = (
  home: string,
  snapshot: Snapshot,
  violations: Array<string>,
  notes: Array<string>
) => {
  const root = worktreesRoot(home)
  const under = (path: string) => path.startsWith(root + sep)
  const byPath = new Map<string, Thread>()
  for (const t of snapshot.threads)
    if (t.workspace.worktreePath !== null) byPath.set(t.workspace.worktreePath, t)
  const registered = new Set<string>()
  let count = 0
  for (const project of snapshot.projects) {
    if (!existsSync(project.workspaceRoot)) continue
    const threads = snapshot.threads.filter((t) => t.projectId === project.id)
    const liveBranches = new Set(
      threads.filter((t) => t.bootstrap.status !== "failed").map((t) => t.workspace.branch)
    )
    const keptBranches = new Set<string | null>()
    for (const wt of worktreesOf(project.workspaceRoot)) {
      registered.add(wt.path)
      if (!under(wt.path)) continue
      count++
      if (wt.prunable) violations.push(`${wt.path} is registered with git but its folder is gone (prunable)`)
      const owner = byPath.get(wt.path)
      if (owner !== undefined && owner.bootstrap.status !== "failed") continue
      if (isDirty(wt.path)) {
        keptBranches.add(wt.branch)
        notes.push(
          `${wt.path} kept: it holds changes (${owner === undefined ? "no thread" : describe(owner)})`
        )
        continue
      }
      violations.push(
        `${wt.path} (branch ${wt.branch}) belongs to no live thread${owner === undefined ? "" : `: ${describe(owner)}`}`
      )
    }
    for (const branch of spindleBranchesOf(project.workspaceRoot)) {
      if (!liveBranches.has(branch) && !keptBranches.has(branch))
        violations.push(`branch ${branch} in ${project.id} has no thread`)
    }
    for (const t of threads) {
      const path = t.workspace.worktreePath
      if (t.status === "archived") {
        cleanupViolations(t, registered, violations)
        continue
      }
      if (path === null || t.bootstrap.status === "failed") continue
      if (!existsSync(path)) violations.push(`thread ${describe(t)} works in ${path}, which does not exist`)
      else if (t.workspace.mode !== "current_checkout" && !registered.has(path))
        violations.push(`thread ${describe(t)} works in ${path}, which git does not list as a worktree`)
    }
  }
  for (const folder of worktreeFolders(home)) {
    if (!registered.has(folder))
      violations.push(`${folder} is under <home>/worktrees but is not a git worktree`)
  }
  return count
}

export const checkInvariants = (input: InvariantInput) =>
  Effect.gen(function* () {
    const violations: Array<string> = []
    const notes: Array<string> = []
    const health = yield* getJson(
      `${input.url}/health`,
      input.ownerToken === undefined ? {} : { authorization: `Bearer ${input.ownerToken}` }
    ).pipe(Effect.orElseSucceed(() => ({ status: 0, body: {} as Record<string, unknown> })))
    if (health.status !== 200 || health.body.status !== "ready")
      violations.push(`health is ${health.status} ${JSON.stringify(health.body).slice(0, 200)}`)
    let snapshot = yield* settled(input.client, input.settle)

    // The log: gapless from 1, and the snapshot is at its end. Reactors may still append (the
    // conflict radar counting a restored worktree's changes): the two must meet within 2 s, and the
    // snapshot is never ahead of the log.
    let sequences = eventSequences(input.home)
    for (let tries = 0; tries < 20 && snapshot.sequence !== (sequences.at(-1) ?? 0); tries++) {
      if (snapshot.sequence > (sequences.at(-1) ?? 0)) break
      yield* Effect.sleep("100 millis")
      snapshot = yield* input.client["orchestration.getSnapshot"]()
      sequences = eventSequences(input.home)
    }
    const gaps = sequences.filter((s, i) => s !== i + 1).length
    if (gaps > 0) violations.push(`the event log has ${gaps} sequences out of place (gaps or repeats)`)
    const last = sequences.at(-1) ?? 0
    if (snapshot.sequence !== last) violations.push(`snapshot at ${snapshot.sequence}, log at ${last}`)

    for (const tracker of input.trackers ?? []) {
      yield* caughtUp(tracker, last)
      violations.push(...trackerViolations(tracker, last))
    }

    const worktrees = workspaceViolations(input.home, snapshot, violations, notes)
    healthViolations(health.body, violations)

    for (const thread of snapshot.threads) {
      if (transient(thread)) violations.push(`thread ${describe(thread)} is stuck in a transient state`)
    }

    for (const change of input.seeded ?? []) {
      if (!existsSync(change.path)) violations.push(`${change.path} (a user's or agent's change) was removed`)
      else if (readFileSync(change.path, "utf8") !== change.content)
        violations.push(`${change.path} was changed`)
    }

    violations.push(...secretLeaks(input.home, input.secrets ?? [], input.outputs ?? {}))
    return {
      violations,
      notes,
      events: last,
      threads: snapshot.threads.length,
      worktrees
    } satisfies InvariantReport
  })

/**
 * The check every single-server scenario ends with: the invariants once in-flight work settled
 * (at most 10 s), with the server's output and the secrets it must not show.
 */
export const checkServerInvariants = (
  report: { readonly check: (name: string, problems: ReadonlyArray<string>) => void },
  server: { readonly home: string; readonly url: string; readonly output: () => string },
  client: SpindleClient,
  secrets: ReadonlyArray<string>
) =>
  Effect.map(
    checkInvariants({
      home: server.home,
      url: server.url,
      client,
      secrets,
      outputs: { server: server.output() },
      settle: "10 seconds"
    }),
    (invariants) => report.check("invariants", invariants.violations)
  )
