// Hostile WebSocket inputs, part one: the shape of a command is wrong. Wrong types for every
// field, missing and extra fields, fields that do not fit the mode; sizes, nesting and protocol
// abuse are in wsProtocol.ts, value tricks in wsTricks.ts. Every case must be refused.
import {
  type Expectation,
  label,
  NOT_BOOLEANS,
  NOT_ENUMS,
  NOT_NUMBERS,
  NOT_STRINGS,
  REMOVE,
  VALIDATION,
  withField
} from "./cases.ts"
import type { HostileWorld } from "./fixture.ts"

export type WsCase = { readonly cls: string; readonly name: string; readonly expect: Expectation } & (
  | {
      readonly send: "dispatch"
      readonly command?: unknown
      /** The command as JSON text, for keys an object cannot carry. */
      readonly rawCommand?: string
      readonly await?: unknown
    }
  | {
      readonly send: "request"
      readonly tag: string
      readonly payload?: unknown
      readonly rawPayload?: string
    }
  | {
      readonly send: "frame"
      readonly data: string | Buffer
      readonly binary?: boolean
      /** The request id inside the frame, when it is a request. */
      readonly id?: string
    }
)

/** Valid commands; every case below breaks one thing in one of them. */
export const baseCommands = (w: HostileWorld) => ({
  projectCreate: {
    type: "project.create",
    commandId: "h-pc",
    projectId: "p-new",
    workspaceRoot: w.unregistered,
    title: "new project"
  },
  threadCreate: {
    type: "thread.create",
    commandId: "h-tc",
    threadId: "t-new",
    projectId: "pa",
    title: "new thread"
  },
  turnStart: {
    type: "thread.turn.start",
    commandId: "h-ts",
    threadId: "t-boot",
    prompt: "do the work",
    bootstrap: {
      createThread: { projectId: "pa", title: "boot" },
      workspace: { mode: "new_worktree" },
      runSetupScript: false
    }
  },
  projectUpdate: { type: "project.update", commandId: "h-pu", projectId: "pa", title: "renamed" },
  archive: { type: "thread.archive", commandId: "h-ar", threadId: "ta" },
  rerun: { type: "thread.setup.rerun", commandId: "h-rr", threadId: "tb1" }
})
export type Bases = ReturnType<typeof baseCommands>

const NOT_ARRAYS: ReadonlyArray<unknown> = ["a,b", 5, null, { 0: "a" }, [5]]
const NOT_OBJECTS: ReadonlyArray<unknown> = [5, "x", [], null]

export const dispatchCase = (
  cls: string,
  name: string,
  command: unknown,
  expect: Expectation = VALIDATION
): WsCase => ({
  cls,
  name,
  expect,
  send: "dispatch",
  command
})

const wrongTypes = (b: Bases): Array<WsCase> => {
  const fields: Array<[keyof Bases, ReadonlyArray<string>, ReadonlyArray<unknown>]> = [
    ["projectCreate", ["commandId"], NOT_STRINGS],
    ["projectCreate", ["projectId"], NOT_STRINGS],
    ["projectCreate", ["workspaceRoot"], NOT_STRINGS],
    ["projectCreate", ["title"], NOT_STRINGS],
    ["projectCreate", ["defaultBranch"], NOT_STRINGS],
    ["projectCreate", ["setupScript"], NOT_STRINGS],
    ["projectCreate", ["defaultModel"], NOT_STRINGS],
    ["projectCreate", ["setupTimeoutSeconds"], NOT_NUMBERS],
    ["projectCreate", ["initSubmodules"], NOT_BOOLEANS],
    ["projectCreate", ["defaultProvider"], NOT_ENUMS],
    ["threadCreate", ["threadId"], NOT_STRINGS],
    ["threadCreate", ["projectId"], NOT_STRINGS],
    ["threadCreate", ["title"], NOT_STRINGS],
    ["threadCreate", ["model"], NOT_STRINGS],
    ["threadCreate", ["tags"], NOT_ARRAYS],
    ["threadCreate", ["provider"], NOT_ENUMS],
    ["threadCreate", ["runtimeMode"], NOT_ENUMS],
    ["threadCreate", ["interactionMode"], NOT_ENUMS],
    ["turnStart", ["threadId"], NOT_STRINGS],
    ["turnStart", ["turnId"], NOT_STRINGS],
    ["turnStart", ["prompt"], NOT_STRINGS],
    ["turnStart", ["bootstrap"], NOT_OBJECTS],
    ["turnStart", ["bootstrap", "createThread"], NOT_OBJECTS],
    ["turnStart", ["bootstrap", "workspace"], NOT_OBJECTS],
    ["turnStart", ["bootstrap", "createThread", "projectId"], NOT_STRINGS],
    ["turnStart", ["bootstrap", "createThread", "title"], NOT_STRINGS],
    ["turnStart", ["bootstrap", "createThread", "tags"], NOT_ARRAYS],
    ["turnStart", ["bootstrap", "workspace", "mode"], NOT_ENUMS],
    ["turnStart", ["bootstrap", "workspace", "branch"], NOT_STRINGS],
    ["turnStart", ["bootstrap", "workspace", "baseBranch"], NOT_STRINGS],
    ["turnStart", ["bootstrap", "workspace", "fetchBase"], NOT_BOOLEANS],
    ["turnStart", ["bootstrap", "runSetupScript"], NOT_BOOLEANS],
    ["turnStart", ["bootstrap", "onSetupFailure"], NOT_ENUMS],
    ["projectUpdate", ["projectId"], NOT_STRINGS],
    ["projectUpdate", ["title"], NOT_STRINGS],
    ["projectUpdate", ["setupTimeoutSeconds"], NOT_NUMBERS],
    ["projectUpdate", ["initSubmodules"], NOT_BOOLEANS],
    ["archive", ["threadId"], NOT_STRINGS],
    ["rerun", ["threadId"], NOT_STRINGS]
  ]
  return fields.flatMap(([base, path, values]) =>
    values.map((value) =>
      dispatchCase(
        "wrong types",
        `${b[base].type} ${path.join(".")} = ${label(value)}`,
        withField(b[base], path, value)
      )
    )
  )
}

const missingFields = (b: Bases): Array<WsCase> => {
  const required: Array<[keyof Bases, ReadonlyArray<string>]> = [
    ["projectCreate", ["type"]],
    ["projectCreate", ["commandId"]],
    ["projectCreate", ["projectId"]],
    ["projectCreate", ["workspaceRoot"]],
    ["threadCreate", ["threadId"]],
    ["threadCreate", ["projectId"]],
    ["threadCreate", ["title"]],
    ["turnStart", ["threadId"]],
    ["turnStart", ["prompt"]],
    ["turnStart", ["bootstrap", "createThread"]],
    ["turnStart", ["bootstrap", "workspace"]],
    ["turnStart", ["bootstrap", "workspace", "mode"]],
    ["turnStart", ["bootstrap", "createThread", "projectId"]],
    ["projectUpdate", ["projectId"]],
    ["archive", ["threadId"]],
    ["rerun", ["commandId"]]
  ]
  return [
    ...required.map(([base, path]) =>
      dispatchCase(
        "missing fields",
        `${b[base].type} without ${path.join(".")}`,
        withField(b[base], path, REMOVE)
      )
    ),
    dispatchCase(
      "missing fields",
      "existing_worktree without worktreePath",
      withField(b.turnStart, ["bootstrap", "workspace"], { mode: "existing_worktree" }),
      { reasons: ["validation"], field: "worktreePath" }
    )
  ]
}

const extraFields = (w: HostileWorld, b: Bases): Array<WsCase> => {
  const ws = (workspace: Record<string, unknown>) =>
    withField(b.turnStart, ["bootstrap", "workspace"], workspace)
  const mismatch = (name: string, workspace: Record<string, unknown>, field: string) =>
    dispatchCase("fields that do not fit the mode", name, ws(workspace), { reasons: ["validation"], field })
  return [
    ...(Object.keys(b) as Array<keyof Bases>).map((base) =>
      dispatchCase("extra fields", `${b[base].type} with an unknown field`, { ...b[base], extra: 1 })
    ),
    dispatchCase("extra fields", "thread.create claiming actor server", {
      ...b.threadCreate,
      actor: { kind: "server" }
    }),
    dispatchCase("extra fields", "thread.turn.start claiming actor server", {
      ...b.turnStart,
      actor: { kind: "server" }
    }),
    dispatchCase("extra fields", "thread.create with its own sequence", { ...b.threadCreate, sequence: 1 }),
    dispatchCase(
      "extra fields",
      "createThread naming a parent thread",
      withField(b.turnStart, ["bootstrap", "createThread", "parentThreadId"], "ta")
    ),
    dispatchCase(
      "extra fields",
      "bootstrap with a parent",
      withField(b.turnStart, ["bootstrap", "parent"], { threadId: "ta" })
    ),
    dispatchCase(
      "extra fields",
      "workspace claiming createdByUs",
      withField(b.turnStart, ["bootstrap", "workspace", "createdByUs"], true)
    ),
    dispatchCase("extra fields", "project.update with workspaceRoot", {
      ...b.projectUpdate,
      workspaceRoot: w.repoB
    }),
    mismatch(
      "new_worktree with worktreePath",
      { mode: "new_worktree", worktreePath: w.userWorktree },
      "worktreePath"
    ),
    mismatch(
      "existing_worktree with branch",
      { mode: "existing_worktree", worktreePath: w.userWorktree, branch: "x" },
      "branch"
    ),
    mismatch(
      "existing_worktree with baseBranch",
      { mode: "existing_worktree", worktreePath: w.userWorktree, baseBranch: "main" },
      "baseBranch"
    ),
    mismatch(
      "current_checkout with baseBranch",
      { mode: "current_checkout", baseBranch: "main" },
      "baseBranch"
    ),
    mismatch("current_checkout with branch", { mode: "current_checkout", branch: "x" }, "branch"),
    mismatch(
      "current_checkout with worktreePath",
      { mode: "current_checkout", worktreePath: w.repoA },
      "worktreePath"
    ),
    mismatch("current_checkout with fetchBase", { mode: "current_checkout", fetchBase: true }, "fetchBase")
  ]
}

export const shapeCases = (w: HostileWorld): Array<WsCase> => {
  const b = baseCommands(w)
  return [...wrongTypes(b), ...missingFields(b), ...extraFields(w, b)]
}
