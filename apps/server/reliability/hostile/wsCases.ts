// Hostile WebSocket inputs, part one: the shape of a command is wrong. Wrong types for every
// field, missing and extra fields, fields that do not fit the mode, huge strings and arrays, deep
// nesting, null and array payloads, unknown `await`, `__proto__` keys and command types, and
// frames that are not requests at all. Every case must be refused (tricks are in wsTricks.ts).
import {
  type Expectation,
  label,
  NOT_BOOLEANS,
  NOT_ENUMS,
  NOT_NUMBERS,
  NOT_STRINGS,
  nestedArrays,
  nestedObjects,
  REMOVE,
  VALIDATION,
  withField,
  withRawKey
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
type Bases = ReturnType<typeof baseCommands>

const NOT_ARRAYS: ReadonlyArray<unknown> = ["a,b", 5, null, { 0: "a" }, [5]]
const NOT_OBJECTS: ReadonlyArray<unknown> = [5, "x", [], null]

const dispatchCase = (
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

const huge = (w: HostileWorld, b: Bases): Array<WsCase> => {
  const c = (name: string, command: unknown) => dispatchCase("huge strings and arrays", name, command)
  return [
    c("prompt of 120,001 characters", { ...b.turnStart, prompt: "x".repeat(120_001) }),
    c("prompt of 120,001 characters after trimming", {
      ...b.turnStart,
      prompt: `   ${"y".repeat(120_001)}   `
    }),
    c("prompt of 900 KB", { ...b.turnStart, prompt: "z".repeat(900_000) }),
    c("title of 201 characters", { ...b.threadCreate, title: "t".repeat(201) }),
    c("title of 100,000 characters", { ...b.threadCreate, title: "t".repeat(100_000) }),
    c("33 tags", { ...b.threadCreate, tags: Array.from({ length: 33 }, (_, i) => `t${i}`) }),
    c("10,000 tags", { ...b.threadCreate, tags: Array.from({ length: 10_000 }, (_, i) => `t${i}`) }),
    c("a tag of 65 characters", { ...b.threadCreate, tags: ["t".repeat(65)] }),
    c(
      "branch of 251 characters",
      withField(b.turnStart, ["bootstrap", "workspace", "branch"], "b".repeat(251))
    ),
    c(
      "worktreePath of 5,000 characters",
      withField(b.turnStart, ["bootstrap", "workspace"], {
        mode: "existing_worktree",
        worktreePath: `/${"a".repeat(5_000)}`
      })
    ),
    c("setup script of 20,001 characters", { ...b.projectCreate, setupScript: "e".repeat(20_001) }),
    c("model of 201 characters", { ...b.threadCreate, model: "m".repeat(201) }),
    c("commandId of 129 characters", { ...b.threadCreate, commandId: "c".repeat(129) }),
    c("projectId of 129 characters", {
      ...b.projectCreate,
      projectId: "p".repeat(129),
      workspaceRoot: w.unregistered
    }),
    {
      cls: "huge strings and arrays",
      name: "a 2 MiB frame",
      expect: { frame: true },
      send: "frame",
      data: `{"_tag":"Request","id":"big","tag":"orchestration.dispatchCommand","payload":{"command":${JSON.stringify({ ...b.turnStart, prompt: "q".repeat(2 * 1024 * 1024) })}},"headers":[]}`
    }
  ]
}

const deep = (b: Bases): Array<WsCase> => {
  const json = JSON.stringify(b.threadCreate)
  return [
    {
      cls: "deep nesting",
      name: "command as arrays 50,000 deep",
      expect: VALIDATION,
      send: "dispatch",
      rawCommand: nestedArrays(50_000)
    },
    {
      cls: "deep nesting",
      name: "command as objects 20,000 deep",
      expect: VALIDATION,
      send: "dispatch",
      rawCommand: nestedObjects(20_000)
    },
    {
      cls: "deep nesting",
      name: "an extra field 10,000 objects deep",
      expect: VALIDATION,
      send: "dispatch",
      rawCommand: withRawKey(json, "deep", nestedObjects(10_000))
    },
    {
      cls: "deep nesting",
      name: "title as arrays 10,000 deep",
      expect: VALIDATION,
      send: "dispatch",
      rawCommand: withRawKey(
        JSON.stringify({ ...b.threadCreate, title: undefined }),
        "title",
        nestedArrays(10_000)
      )
    },
    {
      cls: "deep nesting",
      name: "await as arrays 10,000 deep",
      expect: VALIDATION,
      send: "request",
      tag: "orchestration.dispatchCommand",
      rawPayload: `{"command":${json},"await":${nestedArrays(10_000)}}`
    }
  ]
}

const PROTO_TYPES = [
  "constructor",
  "toString",
  "__proto__",
  "hasOwnProperty",
  "valueOf",
  "__defineGetter__",
  "prototype",
  "isPrototypeOf",
  "",
  " thread.create",
  "thread.create ",
  "THREAD.CREATE",
  "thread.create\u0000"
]
const INTERNAL_TYPES = [
  "thread.bootstrap.begin",
  "thread.workspace.record",
  "thread.setup.start",
  "thread.setup.finish",
  "thread.turn.request",
  "thread.bootstrap.fail",
  "thread.bootstrap.complete"
]

const prototypes = (b: Bases): Array<WsCase> => {
  const raw = (name: string, rawCommand: string): WsCase => ({
    cls: "__proto__ and constructor",
    name,
    expect: VALIDATION,
    send: "dispatch",
    rawCommand
  })
  const tc = JSON.stringify(b.threadCreate)
  const ts = JSON.stringify(b.turnStart)
  const inner = (path: string, key: string, value: string) =>
    ts.replace(`"${path}":{`, `"${path}":{"${key}":${value},`)
  return [
    raw("__proto__ key on thread.create", withRawKey(tc, "__proto__", '{"title":"polluted"}')),
    raw("constructor key on thread.create", withRawKey(tc, "constructor", '{"prototype":{"admin":true}}')),
    raw("prototype key on thread.create", withRawKey(tc, "prototype", "1")),
    raw("__proto__ in createThread", inner("createThread", "__proto__", '{"parentThreadId":"ta"}')),
    raw("__proto__ in workspace", inner("workspace", "__proto__", '{"mode":"current_checkout"}')),
    raw("__proto__ in bootstrap", inner("bootstrap", "__proto__", '{"runSetupScript":true}')),
    {
      cls: "__proto__ and constructor",
      name: "__proto__ key on the RPC payload",
      expect: VALIDATION,
      send: "request",
      tag: "orchestration.dispatchCommand",
      rawPayload: `{"__proto__":{"await":"turn"},"command":${tc}}`
    },
    ...PROTO_TYPES.map((type) =>
      dispatchCase("__proto__ and constructor", `command type ${JSON.stringify(type)}`, {
        ...b.threadCreate,
        type
      })
    ),
    ...INTERNAL_TYPES.map((type) =>
      dispatchCase(
        "internal command types",
        `client sends ${type}`,
        { ...b.threadCreate, type, threadId: "ta" },
        { reasons: ["validation", "forbidden"] }
      )
    )
  ]
}

const payloads = (b: Bases): Array<WsCase> => {
  const turn = (i: number) => ({
    ...b.turnStart,
    commandId: `h-await-${i}`,
    threadId: `t-await-${i}`,
    bootstrap: { createThread: { projectId: "pa" }, workspace: { mode: "current_checkout" } }
  })
  const request = (name: string, tag: string, rawPayload: string): WsCase => ({
    cls: "null and array payloads",
    name,
    expect: { refusal: true },
    send: "request",
    tag,
    rawPayload
  })
  const frame = (name: string, data: string): WsCase => ({
    cls: "frames that are not requests",
    name,
    expect: { frame: true },
    send: "frame",
    data
  })
  return [
    ...[null, [], [b.threadCreate], "thread.create", 42, true, {}].map((command) =>
      dispatchCase("null and array payloads", `command = ${label(command)}`, command)
    ),
    ...["forever", null, 1, "Workspace", ["turn"], {}].map(
      (value, i): WsCase => ({
        cls: "unknown await",
        name: `await = ${label(value)}`,
        expect: VALIDATION,
        send: "dispatch",
        command: turn(i),
        await: value
      })
    ),
    request("payload null", "orchestration.dispatchCommand", "null"),
    request(
      "payload an array",
      "orchestration.dispatchCommand",
      `[${JSON.stringify({ command: b.threadCreate })}]`
    ),
    request("payload a string", "orchestration.dispatchCommand", '"thread.create"'),
    request("payload a number", "orchestration.dispatchCommand", "5"),
    request("payload without command", "orchestration.dispatchCommand", "{}"),
    ...[
      "nope",
      "__proto__",
      "constructor",
      "toString",
      "hasOwnProperty",
      "orchestration.dispatchCommand "
    ].map((tag) =>
      request(`RPC tag ${JSON.stringify(tag)}`, tag, `{"command":${JSON.stringify(b.threadCreate)}}`)
    ),
    frame("not JSON", "{not json"),
    frame("JSON null", "null"),
    frame("a JSON number", "42"),
    frame("a request without an id", `{"_tag":"Request","tag":"project.list","payload":{},"headers":[]}`),
    frame("an unknown message tag", `{"_tag":"Nope","id":"x"}`)
  ]
}

export const shapeCases = (w: HostileWorld): Array<WsCase> => {
  const b = baseCommands(w)
  return [
    ...wrongTypes(b),
    ...missingFields(b),
    ...extraFields(w, b),
    ...huge(w, b),
    ...deep(b),
    ...prototypes(b),
    ...payloads(b)
  ]
}
