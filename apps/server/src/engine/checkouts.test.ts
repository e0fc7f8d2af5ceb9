// A project's checkouts, one per host, as the decider keeps them: the registering host's first;
// another host adds its own clone once; two projects never share a path on one host; a project
// from before hosts were recorded is claimed by its own host first. Threads are created only on a
// host with a checkout.
import { describe, expect, it } from "@effect/vitest"
import type { Command, ProjectId, ThreadId } from "@spindle/contracts"
import { checkoutOn, emptyReadModel } from "@spindle/read-model"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import { DEFAULT_LIMITS } from "../config/ServerConfig.ts"
import { applyCommand, refusalOf } from "../testing/decide.ts"

const create = (projectId: string, workspaceRoot: string) =>
  ({ type: "project.create", commandId: `create-${projectId}`, projectId, workspaceRoot }) as Command
const add = (projectId: string, workspaceRoot: string, n = 1) =>
  ({ type: "project.checkout.add", commandId: `add-${projectId}-${n}`, projectId, workspaceRoot }) as Command
const projectOf = (model: ReturnType<typeof applyCommand>, id: string) =>
  Option.getOrThrow(HashMap.get(model.projects, id as ProjectId))

describe("project checkouts", () => {
  it("the registering host's checkout first, then each host's own once", () => {
    let model = applyCommand(emptyReadModel, create("p1", "/a/repo"), DEFAULT_LIMITS, "host_a")
    model = applyCommand(model, add("p1", "/b/clone"), DEFAULT_LIMITS, "host_b")
    const project = projectOf(model, "p1")
    expect(project.checkouts).toEqual([
      { host: "host_a", workspaceRoot: "/a/repo" },
      { host: "host_b", workspaceRoot: "/b/clone" }
    ])
    expect(checkoutOn(project, "host_b")).toBe("/b/clone")
    expect(checkoutOn(project, "host_c")).toBeUndefined()
    expect(refusalOf(model, add("p1", "/b/other", 2), DEFAULT_LIMITS, "host_b").message).toContain(
      "already has a checkout on this host: /b/clone"
    )
    // The same path is another clone on another host, but one repository on the same host.
    const second = applyCommand(model, create("p2", "/a/repo"), DEFAULT_LIMITS, "host_b")
    expect(checkoutOn(projectOf(second, "p2"), "host_b")).toBe("/a/repo")
    expect(refusalOf(model, create("p3", "/b/clone"), DEFAULT_LIMITS, "host_b").reason).toBe("conflict")
  })

  it("a project from before hosts were recorded is claimed by its host before others add theirs", () => {
    const legacy = applyCommand(emptyReadModel, create("p1", "/a/repo"))
    expect(projectOf(legacy, "p1").checkouts).toEqual([])
    expect(refusalOf(legacy, add("p1", "/b/clone"), DEFAULT_LIMITS, "host_b").message).toContain(
      "was registered before hosts were recorded"
    )
    const claimed = applyCommand(legacy, add("p1", "/a/repo"), DEFAULT_LIMITS, "host_a")
    const added = applyCommand(claimed, add("p1", "/b/clone", 2), DEFAULT_LIMITS, "host_b")
    expect(projectOf(added, "p1").checkouts.map((c) => c.host)).toEqual(["host_a", "host_b"])
  })

  it("threads start only on a host with a checkout, and name it as theirs", () => {
    const model = applyCommand(emptyReadModel, create("p1", "/a/repo"), DEFAULT_LIMITS, "host_a")
    const thread = (id: string) =>
      ({
        type: "thread.create",
        commandId: `t-${id}`,
        threadId: id as ThreadId,
        projectId: "p1",
        title: id
      }) as Command
    expect(refusalOf(model, thread("t1"), DEFAULT_LIMITS, "host_b")).toMatchObject({ reason: "unavailable" })
    const created = applyCommand(model, thread("t1"), DEFAULT_LIMITS, "host_a")
    expect(Option.getOrThrow(HashMap.get(created.threads, "t1" as ThreadId)).host).toBe("host_a")
  })
})
