// Hostile WebSocket inputs, part one and a half: sizes and protocol abuse. Huge strings and
// arrays, deep nesting, `__proto__` keys and prototype names as command types, internal command
// types from a client, null and array payloads, unknown `await` and RPC tags, and frames that are
// not requests at all.
import { label, nestedArrays, nestedObjects, VALIDATION, withField, withRawKey } from "./cases.ts"
import type { HostileWorld } from "./fixture.ts"
import { type Bases, baseCommands, dispatchCase, type WsCase } from "./wsCases.ts"

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

export const protocolCases = (w: HostileWorld): Array<WsCase> => {
  const b = baseCommands(w)
  return [...huge(w, b), ...deep(b), ...prototypes(b), ...payloads(b)]
}
