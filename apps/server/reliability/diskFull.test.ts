// A full disk, as a user meets it: the real server (`npm start`) with its home on a small tmpfs; a
// thread's setup script fills the disk, so neither its log nor the store can write. Once the test
// frees the space, without a restart, the bootstrap must settle, its first prompt be requested
// exactly once, and `setup rerun` and `archive` work. Where no tmpfs can be mounted (no
// CAP_SYS_ADMIN), the scenario says so and checks nothing.
import { existsSync, rmSync } from "node:fs"
import { join } from "node:path"
import { describe, it } from "@effect/vitest"
import type { Thread, ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import { gitRepo } from "../src/testing/fixtures.ts"
import { MOUNT_REFUSED, smallDisk } from "../src/testing/smallDisk.ts"
import { checkServerInvariants } from "./harness/invariants.ts"
import { runScenario } from "./harness/scenario.ts"
import { startSpindle } from "./harness/spindle.ts"
import { adminClient, createProject, dispatch, outcome } from "./harness/world.ts"

const FILLER = "filler.bin"

describe("reliability: full disk", () => {
  it.live("setup fills the home's disk; once space returns the bootstrap settles without a restart", () =>
    runScenario("disk-full", "Full disk", (report) =>
      Effect.gen(function* () {
        if (MOUNT_REFUSED !== undefined) {
          report.figure("not run on this machine", MOUNT_REFUSED)
          return
        }
        const disk = yield* smallDisk("96m")
        const server = yield* startSpindle(join(disk, "home"))
        const admin = yield* adminClient(server)
        // The first run fills the disk (head stops at ENOSPC) and ends while it is full; reruns do not.
        yield* createProject(admin, "p1", yield* gitRepo, {
          setupScript: `if [ -e .filled ]; then echo again; else : > .filled; head -c 200M /dev/zero > ${FILLER} 2>/dev/null; echo filled; fi`
        })
        // Its caller waits for the whole bootstrap, through the full disk.
        const started = yield* Effect.forkChild(
          outcome(
            dispatch(admin, {
              type: "thread.turn.start",
              commandId: "start-full",
              threadId: "full",
              prompt: "work on a full disk",
              bootstrap: { createThread: { projectId: "p1" }, workspace: { mode: "new_worktree" } }
            })
          )
        )
        const get = () => admin["thread.get"]({ threadId: "full" as ThreadId })
        const until = (ok: (t: Thread) => boolean, seconds: number) =>
          get().pipe(
            Effect.repeat({ until: ok, schedule: Schedule.spaced("200 millis") }),
            Effect.timeoutOption(`${seconds} seconds`),
            Effect.flatMap((found) => (found._tag === "Some" ? Effect.succeed(found.value) : get()))
          )
        yield* get().pipe(Effect.retry({ schedule: Schedule.spaced("100 millis"), times: 300 }))
        const filling = yield* until(
          (t) => t.workspace.worktreePath !== null && t.setup.status !== "pending",
          60
        )
        const filler = join(filling.workspace.worktreePath ?? "", FILLER)
        yield* Effect.sleep("3 seconds")
        report.check("the setup script filled the disk", existsSync(filler) ? [] : ["no filler file"])
        const during = yield* get()
        report.figure(
          "while the disk is full",
          `bootstrap ${during.bootstrap.status}, setup ${during.setup.status}, turn ${during.latestTurn?.status ?? "none"}`
        )
        // While the disk is full, a person's command is refused with the fix.
        const refused = yield* outcome(
          dispatch(admin, { type: "project.update", commandId: "rename", projectId: "p1", title: "renamed" })
        )
        report.figure("a command while the disk is full answers", refused)
        // Space returns; no restart.
        rmSync(filler, { force: true })
        const freedAt = Date.now()
        const settled = yield* until((t) => t.bootstrap.status !== "running", 60)
        report.check(
          "the bootstrap settles without a restart once space returns",
          settled.bootstrap.status === "completed"
            ? []
            : [`bootstrap ${settled.bootstrap.status}, setup ${settled.setup.status}`]
        )
        report.figure("settled after space returned (ms)", Date.now() - freedAt)
        const answer = yield* Fiber.join(started).pipe(Effect.timeoutOption("30 seconds"))
        report.check(
          "the caller that started it gets its answer",
          answer._tag === "Some" && answer.value === "ok"
            ? []
            : [`${answer._tag === "Some" ? answer.value : "no answer"}`]
        )
        report.figure(
          "the server waited for the store",
          server.output().includes("waits for the store") ? "yes (logged)" : "no write met the full disk"
        )
        const events = yield* admin["thread.events"]({ threadId: "full" as ThreadId, limit: 1000 })
        const requested = events.filter((e) => e.type === "thread.turn-start-requested").length
        report.check(
          "the first prompt is requested exactly once",
          requested === 1 && settled.latestTurn !== null ? [] : [`${requested} requests`]
        )
        const rerun = yield* outcome(
          dispatch(admin, { type: "thread.setup.rerun", commandId: "rerun-full", threadId: "full" })
        )
        const rerunEnded = yield* until((t) => t.setup.runs >= 2 && t.setup.status !== "running", 60)
        report.check(
          "setup rerun works without a restart",
          rerun === "ok" && rerunEnded.setup.runs >= 2
            ? []
            : [`rerun ${rerun}, setup ${rerunEnded.setup.status}`]
        )
        const archived = yield* outcome(
          dispatch(admin, { type: "thread.archive", commandId: "archive-full", threadId: "full" })
        )
        report.check("archive works without a restart", archived === "ok" ? [] : [archived])

        yield* checkServerInvariants(report, server, admin, [server.ownerToken])
      })
    )
  )
})
