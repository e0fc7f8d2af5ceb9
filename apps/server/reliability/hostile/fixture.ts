// The world the hostile inputs are thrown at: a real server with two projects (one with a thread in
// its checkout, one with a worktree Spindle made), a user's own worktree bound to a thread, an
// unregistered repository, symlinks out of and into repositories, and a provider token. Plus a
// fingerprint of everything on disk and in the database that no refused input may change.
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { Snapshot } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import type { SpindleClient } from "../../src/cli/rpcClient.ts"
import { git, initRepo, tempDir } from "../../src/testing/fixtures.ts"
import { branchesOf, eventSequences, worktreeFolders, worktreesOf } from "../harness/disk.ts"
import type { SeededChange } from "../harness/invariants.ts"
import { startSpindle } from "../harness/spindle.ts"
import {
  adminClient,
  bootstrap,
  bootstrapCommand,
  createProject,
  dispatch,
  seededRepo
} from "../harness/world.ts"

export const hostileWorld = Effect.gen(function* () {
  const dir = yield* tempDir("spindle-hostile-")
  const a = seededRepo(dir, "repo-a")
  const b = seededRepo(dir, "repo-b")
  const unregistered = initRepo(join(dir, "repo-c"))
  const outside = join(dir, "outside")
  mkdirSync(outside)
  writeFileSync(join(outside, "secret.txt"), "outside every repository\n")
  // A symlink inside repository A that leads out of it.
  symlinkSync(outside, join(a.repo, "escape"))
  const userWorktree = join(dir, "user-wt")
  git(a.repo, "worktree", "add", "--quiet", "-b", "user/feature", userWorktree)
  // A user's worktree no thread is bound to yet (the MCP race binds it).
  const freeWorktree = join(dir, "free-wt")
  git(a.repo, "worktree", "add", "--quiet", "-b", "user/free", freeWorktree)

  const server = yield* startSpindle(join(dir, "home"))
  const client = yield* adminClient(server)
  yield* createProject(client, "pa", a.repo)
  yield* createProject(client, "pb", b.repo)
  yield* dispatch(client, {
    type: "thread.create",
    commandId: "create-ta",
    threadId: "ta",
    projectId: "pa",
    title: "ta"
  })
  const inB = yield* bootstrap(
    client,
    bootstrapCommand("pb", "tb1", { mode: "new_worktree" }, { runSetupScript: false }),
    "turn"
  )
  yield* bootstrap(
    client,
    bootstrapCommand(
      "pa",
      "tbound",
      { mode: "existing_worktree", worktreePath: userWorktree },
      { runSetupScript: false }
    ),
    "turn"
  )
  // Symlinks from outside into worktrees: one bound to a thread of A, one of project B.
  symlinkSync(userWorktree, join(outside, "into-bound"))
  symlinkSync(inB.worktreePath, join(outside, "into-b"))

  // An agent's thread in A with a provider token, and one in B with a child of its own.
  yield* dispatch(client, {
    type: "thread.create",
    commandId: "create-mparent",
    threadId: "mparent",
    projectId: "pa",
    title: "agent"
  })
  yield* dispatch(client, {
    type: "thread.create",
    commandId: "create-mother",
    threadId: "mother",
    projectId: "pb",
    title: "other agent"
  })
  const token = (yield* client["token.issueMcp"]({ threadId: "mparent" as never })).token
  const otherToken = (yield* client["token.issueMcp"]({ threadId: "mother" as never })).token

  const seeded: Array<SeededChange> = [
    ...a.seeded,
    ...b.seeded,
    { path: join(outside, "secret.txt"), content: "outside every repository\n" }
  ]
  // What the set-up set off settles first (the conflict radar counting the new worktrees'
  // changes), so that whatever changes after this is the hostile cases' doing.
  yield* quiet(client)
  return {
    dir,
    server,
    client,
    home: server.home,
    repoA: a.repo,
    repoB: b.repo,
    unregistered,
    outside,
    userWorktree,
    freeWorktree,
    worktreeB: inB.worktreePath,
    token,
    otherToken,
    seeded
  }
})
export type HostileWorld = Effect.Success<typeof hostileWorld>

const listing = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isSymbolicLink()) return [`${path} -> link`]
    if (entry.isDirectory()) return [path, ...listing(path)]
    return [`${path} ${statSync(path).size} ${readFileSync(path, "utf8").length}`]
  })

/** Everything a refused input must leave as it was. */
export const fingerprint = (world: HostileWorld, snapshot: Snapshot) => ({
  sequence: snapshot.sequence,
  log: eventSequences(world.home).length,
  projects: JSON.stringify(snapshot.projects),
  threads: JSON.stringify([...snapshot.threads].sort((x, y) => x.id.localeCompare(y.id))),
  folders: worktreeFolders(world.home).sort().join("\n"),
  repositories: [world.repoA, world.repoB, world.unregistered]
    .map((repo) => `${JSON.stringify(worktreesOf(repo))} ${branchesOf(repo).join(",")}`)
    .join("\n"),
  outside: listing(world.outside).join("\n")
})

/** The parts of two fingerprints that differ. */
export const changes = (before: ReturnType<typeof fingerprint>, after: ReturnType<typeof fingerprint>) =>
  (Object.keys(before) as Array<keyof typeof before>)
    .filter((key) => before[key] !== after[key])
    .map(
      (key) => `${key} changed (${String(before[key]).slice(0, 60)} -> ${String(after[key]).slice(0, 60)})`
    )

export const snapshotOf = (client: SpindleClient) => client["orchestration.getSnapshot"]()

/** Waits (10 s at most) until the server's sequence has not moved for half a second. */
const quiet = (client: SpindleClient) =>
  Effect.gen(function* () {
    let last = (yield* snapshotOf(client)).sequence
    for (let waited = 0; waited < 10_000; waited += 500) {
      yield* Effect.sleep("500 millis")
      const now = (yield* snapshotOf(client)).sequence
      if (now === last) return
      last = now
    }
  })
