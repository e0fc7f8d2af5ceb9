import { assert, describe, it } from "@effect/vitest"
import { emptyReadModel } from "../domain/readModel.ts"
import { applyCommand } from "../testing/decide.ts"
import { ids } from "../testing/fixtures.ts"
import { formatThread } from "./threadView.ts"

describe("thread show", () => {
  it("shows what Spindle refused to do with the thread, and why", () => {
    const warning = "Spindle runs no git in /w: /w's .git points at /w/.fake/.git"
    const model = [
      {
        type: "project.create",
        commandId: ids.command("c1"),
        projectId: ids.project("p1"),
        workspaceRoot: "/r"
      },
      {
        type: "thread.create",
        commandId: ids.command("c2"),
        threadId: ids.thread("t1"),
        projectId: ids.project("p1"),
        title: "T"
      },
      { type: "thread.warn", commandId: ids.command("c3"), threadId: ids.thread("t1"), warning }
    ].reduce((m, command) => applyCommand(m, command as never), emptyReadModel)
    const thread = [...model.threads][0]![1]
    assert.include(formatThread(thread), `\n  ! ${warning}`)
  })
})
