// The occupancy index against the plain definitions it replaces: over threads in every mix of
// status, bootstrap, turn, host, parent and workspace, each count it answers is the count a scan of
// every thread gives, with and without the thread asking left out; and once it reserves a queued
// thread, it answers what a fresh count of the model with that thread started answers.
import { assert, describe, it } from "@effect/vitest"
import type { ProjectId, Thread, ThreadId } from "@spindle/contracts"
import type { ReadModel } from "@spindle/read-model"
import * as HashMap from "effect/HashMap"
import { holdsTurnSlot, occupancyOf } from "./occupancy.ts"

/** A small deterministic generator, so a failure names a model that can be built again. */
const random = (seed: number) => () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
  return seed / 2 ** 31
}

const pick = <A>(next: () => number, options: ReadonlyArray<A>): A =>
  options[Math.floor(next() * options.length)] as A

const PROJECTS = ["p1", "p2", "p3"] as Array<ProjectId>
const HOSTS = [null, "host_a", "host_b"]
const PATHS = [null, "/w/1", "/w/2", "/w/3"]

const threadAt = (next: () => number, i: number): Thread => {
  const status = pick(next, ["active", "active", "queued", "archived"] as const)
  const turnStatus = pick(next, [null, "requested", "running", "completed", "failed"] as const)
  return {
    id: `t${i}` as ThreadId,
    projectId: pick(next, PROJECTS),
    host: pick(next, HOSTS),
    parentThreadId: i > 3 && next() < 0.5 ? (`t${Math.floor(next() * 4)}` as ThreadId) : null,
    status,
    bootstrap: {
      status: pick(next, ["none", "running", "completed", "failed"] as const),
      stage: null,
      error: null
    },
    latestTurn:
      turnStatus === null
        ? null
        : ({
            turnId: `u${i}`,
            status: turnStatus,
            requestedAt: "",
            completedAt: null
          } as Thread["latestTurn"]),
    workspace: {
      mode: "current_checkout",
      branch: null,
      worktreePath: pick(next, PATHS),
      baseBranch: null,
      createdByUs: false
    }
  } as Thread
}

const modelOf = (threads: ReadonlyArray<Thread>) =>
  ({ threads: HashMap.fromIterable(threads.map((t) => [t.id, t] as const)) }) as unknown as ReadModel

/** The plain definitions: a scan of every thread per question. */
const scan = (threads: ReadonlyArray<Thread>) => {
  const count = (keep: (t: Thread) => boolean) => threads.filter(keep).length
  return {
    activeIn: (p: ProjectId) => count((t) => t.projectId === p && t.status === "active"),
    childrenOf: (parent: ThreadId) => count((t) => t.parentThreadId === parent && t.status === "active"),
    bootstrapsIn: (p: ProjectId, except?: ThreadId) =>
      count((t) => t.projectId === p && t.bootstrap.status === "running" && t.id !== except),
    turnSlotsOn: (host: string | null, except?: ThreadId) =>
      count(
        (t) => t.id !== except && (host === null || t.host === null || t.host === host) && holdsTurnSlot(t)
      ),
    worktreeHolders: (path: string, except: ThreadId) =>
      threads
        .filter(
          (t) =>
            t.id !== except &&
            t.status === "active" &&
            t.bootstrap.status !== "failed" &&
            t.workspace.worktreePath === path
        )
        .map((t) => t.id)
  }
}

const compare = (
  label: string,
  threads: ReadonlyArray<Thread>,
  occupancy = occupancyOf(modelOf(threads))
) => {
  const plain = scan(threads)
  const asking = [undefined, ...threads.slice(0, 12).map((t) => t.id)]
  for (const p of PROJECTS) {
    assert.strictEqual(occupancy.activeIn(p), plain.activeIn(p), `${label}: active in ${p}`)
    for (const except of asking)
      assert.strictEqual(
        occupancy.bootstrapsIn(p, except),
        plain.bootstrapsIn(p, except),
        `${label}: bootstraps in ${p} but ${except}`
      )
  }
  for (const t of threads)
    assert.strictEqual(occupancy.childrenOf(t.id), plain.childrenOf(t.id), `${label}: children of ${t.id}`)
  for (const host of HOSTS)
    for (const except of asking)
      assert.strictEqual(
        occupancy.turnSlotsOn(host, except),
        plain.turnSlotsOn(host, except),
        `${label}: turn slots on ${host} but ${except}`
      )
  for (const path of PATHS.filter((p) => p !== null))
    for (const except of asking) {
      const holder = occupancy.worktreeHolder(path, except ?? ("none" as ThreadId))
      const holders = plain.worktreeHolders(path, except ?? ("none" as ThreadId))
      if (holders.length === 0) assert.isUndefined(holder, `${label}: no holder of ${path}`)
      else assert.include(holders, holder, `${label}: a holder of ${path}`)
    }
}

describe("occupancy", () => {
  it("answers what a scan of every thread answers, for any mix of threads", () => {
    for (let seed = 1; seed <= 40; seed++) {
      const next = random(seed)
      const threads = Array.from({ length: 5 + Math.floor(next() * 60) }, (_, i) => threadAt(next, i))
      compare(`seed ${seed}`, threads)
      // The slots counted are not all empty: the comparison means something.
      if (seed === 1) assert.isAbove(scan(threads).turnSlotsOn(null), 0)
    }
  })

  it("reserving a queued thread counts it as started on the host it is given", () => {
    for (let seed = 100; seed <= 120; seed++) {
      const next = random(seed)
      const threads = Array.from({ length: 30 }, (_, i) => threadAt(next, i))
      const occupancy = occupancyOf(modelOf(threads))
      let now = threads
      for (const queued of threads.filter((t) => t.status === "queued").slice(0, 3)) {
        const host = pick(next, HOSTS)
        occupancy.reserve(queued, host)
        // Started by hand, as the projector records a thread taken from the queue.
        const started: Thread = {
          ...queued,
          host,
          status: "active",
          queue: null,
          bootstrap: { status: "running", stage: null, error: null }
        }
        now = now.map((t) => (t.id === queued.id ? started : t))
        compare(`seed ${seed} after ${queued.id}`, now, occupancy)
      }
    }
  })
})
