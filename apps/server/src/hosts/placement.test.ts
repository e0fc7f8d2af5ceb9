// Where a new thread goes: the named host, else the parent's, else the online host with a checkout
// that has the most free turn slots (then the fewest threads, this host first); refusals name the
// host and what to do.
import { describe, expect, it } from "@effect/vitest"
import type { Host, Project } from "@spindle/contracts"
import * as Result from "effect/Result"
import { findHost, placeThread } from "./placement.ts"

const host = (name: string, fields: Partial<Host> = {}): Host => ({
  id: `host_${name}`,
  name,
  url: `http://127.0.0.1/${name}`,
  state: "online",
  maxRunningTurns: 2,
  runningTurns: 0,
  threads: 0,
  version: "0",
  startedAt: "",
  heartbeatAt: "",
  stoppedAt: null,
  self: false,
  ...fields
})
const project = (hosts: ReadonlyArray<string>) =>
  ({
    id: "p1",
    workspaceRoot: "/repo",
    checkouts: hosts.map((h) => ({ host: `host_${h}`, workspaceRoot: `/${h}/repo` }))
  }) as unknown as Project
const placed = (result: Result.Result<Host, unknown>) =>
  Result.isSuccess(result) ? result.success.name : "refused"

describe("placement", () => {
  it("the most free turn slots, then the fewest threads, this host first among equals", () => {
    const all = [
      host("a", { self: true, runningTurns: 1 }),
      host("b", { runningTurns: 0, threads: 3 }),
      host("c", { runningTurns: 0, threads: 1 })
    ]
    expect(placed(placeThread(all, { project: project(["a", "b", "c"]) }))).toBe("c")
    expect(placed(placeThread(all, { project: project(["a", "b"]) }))).toBe("b")
    const even = [host("a", { self: true }), host("b")]
    expect(placed(placeThread(even, { project: project(["a", "b"]) }))).toBe("a")
    // No limit counts as the most room.
    expect(
      placed(
        placeThread([host("a", { self: true }), host("b", { maxRunningTurns: null })], {
          project: project(["a", "b"])
        })
      )
    ).toBe("b")
  })

  it("offline hosts and hosts without a checkout are passed over; all full queues here", () => {
    const all = [host("a", { self: true, runningTurns: 2 }), host("b", { state: "offline" }), host("c")]
    expect(placed(placeThread(all, { project: project(["a", "b"]) }))).toBe("a")
    const full = [host("a", { self: true, runningTurns: 2 }), host("b", { runningTurns: 2 })]
    expect(placed(placeThread(full, { project: project(["a", "b"]) }))).toBe("a")
    const none = placeThread([host("a", { self: true }), host("b", { state: "offline" })], {
      project: project(["b"])
    })
    expect(Result.isFailure(none) && none.failure.reason).toBe("unavailable")
  })

  it("a named host, or the parent's, is taken as given, or refused saying why", () => {
    const all = [host("a", { self: true }), host("b", { runningTurns: 2 }), host("c", { state: "offline" })]
    expect(placed(placeThread(all, { project: project(["a", "b"]), named: "b" }))).toBe("b")
    expect(placed(placeThread(all, { project: project(["a", "b"]), named: "host_b" }))).toBe("b")
    expect(placed(placeThread(all, { project: project(["a", "b"]), parentHost: "host_b" }))).toBe("b")
    const noCheckout = placeThread(all, { project: project(["a"]), named: "b" })
    expect(Result.isFailure(noCheckout) && noCheckout.failure.message).toContain(
      "has no checkout of project p1"
    )
    const offline = placeThread(all, { project: project(["a", "c"]), named: "c" })
    expect(Result.isFailure(offline) && offline.failure.reason).toBe("unavailable")
    const unknown = findHost(all, "zeta")
    expect(Result.isFailure(unknown) && unknown.failure.reason).toBe("not-found")
    const twins = findHost([host("a"), { ...host("a"), id: "host_a2" }], "a")
    expect(Result.isFailure(twins) && twins.failure.reason).toBe("conflict")
  })
})
