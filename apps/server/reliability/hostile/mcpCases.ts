// Hostile MCP inputs: tools/call of t3_thread_start / status / list with wrong, missing, extra,
// huge, nested, control-character and trick arguments, and raw JSON-RPC bodies that are not what
// the protocol allows (bad UTF-8, null and array params, prototype names). Each must be a
// JSON-RPC error or a tool error with a reason; domain refusals say which reason.
import {
  BAD_BASE_REFS,
  BAD_BRANCHES,
  CONTROL_TEXTS,
  confusablesOf,
  type Expectation,
  label,
  NOT_BOOLEANS,
  NOT_ENUMS,
  NOT_STRINGS,
  nestedArrays,
  nestedObjects,
  REMOVE,
  rpcOrValidation,
  withField,
  withRawKey
} from "./cases.ts"
import type { HostileWorld } from "./fixture.ts"

export type McpCase = { readonly cls: string; readonly name: string; readonly expect: Expectation } & (
  | { readonly send: "call"; readonly tool: string; readonly args?: unknown; readonly rawArgs?: string }
  | { readonly send: "body"; readonly body: string | Buffer }
)

const START = "t3_thread_start"
const STATUS = "t3_thread_status"
const base = { prompt: "do the work", runSetupScript: false }
const RPC = rpcOrValidation()
const NOT_ARRAYS: ReadonlyArray<unknown> = ["a,b", 5, null, { 0: "a" }, [5]]

const call = (
  cls: string,
  name: string,
  args: unknown,
  expect: Expectation = RPC,
  tool = START
): McpCase => ({
  cls,
  name,
  expect,
  send: "call",
  tool,
  args
})

const shapes = (w: HostileWorld): Array<McpCase> => {
  const existing = { ...base, mode: "existing_worktree", worktreePath: w.userWorktree }
  const types: Array<[Record<string, unknown>, string, ReadonlyArray<unknown>]> = [
    ...["prompt", "title", "branch", "baseBranch", "model", "clientRequestId"].map(
      (f): [Record<string, unknown>, string, ReadonlyArray<unknown>] => [base, f, NOT_STRINGS]
    ),
    [existing, "worktreePath", NOT_STRINGS],
    ...["mode", "baseBranchSource", "provider", "runtimeMode", "interactionMode"].map(
      (f): [Record<string, unknown>, string, ReadonlyArray<unknown>] => [base, f, NOT_ENUMS]
    ),
    [base, "runSetupScript", NOT_BOOLEANS],
    [base, "tags", NOT_ARRAYS]
  ]
  const mismatch = (name: string, args: Record<string, unknown>, field: string) =>
    call("fields that do not fit the mode", name, { ...base, ...args }, rpcOrValidation(field))
  return [
    ...types.flatMap(([b, field, values]) =>
      values.map((value) => call("wrong types", `${field} = ${label(value)}`, withField(b, [field], value)))
    ),
    ...NOT_STRINGS.map((value) =>
      call("wrong types", `status threadId = ${label(value)}`, { threadId: value }, RPC, STATUS)
    ),
    call("missing fields", "no arguments", {}),
    call("missing fields", "no prompt", withField(base, ["prompt"], REMOVE)),
    call(
      "missing fields",
      "existing_worktree without worktreePath",
      { ...base, mode: "existing_worktree" },
      rpcOrValidation("worktreePath")
    ),
    call("missing fields", "status without threadId", {}, RPC, STATUS),
    ...["projectId", "threadId", "parentThreadId", "workspaceRoot", "commandId", "sequence"].map((field) =>
      call("extra fields", `start with ${field}`, { ...base, [field]: "pb" })
    ),
    call("extra fields", "start claiming actor server", { ...base, actor: { kind: "server" } }),
    call("extra fields", "start widening its capabilities", { ...base, capabilities: ["thread-management"] }),
    call("extra fields", "list with an argument", { x: 1 }, RPC, "t3_thread_list"),
    call("extra fields", "status with an extra argument", { threadId: "ta", all: true }, RPC, STATUS),
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
      "existing_worktree with baseBranchSource",
      { mode: "existing_worktree", worktreePath: w.userWorktree, baseBranchSource: "source" },
      "baseBranchSource"
    ),
    mismatch("current_checkout with branch", { mode: "current_checkout", branch: "x" }, "branch"),
    mismatch(
      "current_checkout with baseBranch",
      { mode: "current_checkout", baseBranch: "main" },
      "baseBranch"
    ),
    mismatch(
      "current_checkout with worktreePath",
      { mode: "current_checkout", worktreePath: w.repoA },
      "worktreePath"
    ),
    mismatch(
      "current_checkout with baseBranchSource",
      { mode: "current_checkout", baseBranchSource: "default" },
      "baseBranchSource"
    ),
    mismatch(
      "baseBranch with baseBranchSource",
      { baseBranch: "main", baseBranchSource: "source" },
      "baseBranchSource"
    )
  ]
}

const sizes = (): Array<McpCase> => {
  const c = (name: string, args: unknown) => call("huge strings and arrays", name, args)
  return [
    c("prompt of 120,001 characters", { ...base, prompt: "x".repeat(120_001) }),
    c("prompt of 120,001 characters after trimming", { ...base, prompt: `  ${"y".repeat(120_001)}  ` }),
    c("prompt of 900 KB", { ...base, prompt: "z".repeat(900_000) }),
    c("title of 201 characters", { ...base, title: "t".repeat(201) }),
    c("33 tags", { ...base, tags: Array.from({ length: 33 }, (_, i) => `t${i}`) }),
    c("10,000 tags", { ...base, tags: Array.from({ length: 10_000 }, (_, i) => `t${i}`) }),
    c("a tag of 65 characters", { ...base, tags: ["t".repeat(65)] }),
    c("branch of 251 characters", { ...base, branch: "b".repeat(251) }),
    c("clientRequestId of 129 characters", { ...base, clientRequestId: "c".repeat(129) }),
    c("worktreePath of 5,000 characters", {
      ...base,
      mode: "existing_worktree",
      worktreePath: `/${"a".repeat(5_000)}`
    }),
    c("model of 201 characters", { ...base, model: "m".repeat(201) }),
    {
      cls: "huge strings and arrays",
      name: "a 5 MB body",
      expect: RPC,
      send: "body",
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 9001,
        method: "tools/call",
        params: { name: START, arguments: { ...base, prompt: "p".repeat(5_000_000) } }
      })
    }
  ]
}

const body = (cls: string, name: string, text: string | Buffer): McpCase => ({
  cls,
  name,
  expect: RPC,
  send: "body",
  body: text
})
const callBody = (id: number, params: string) =>
  `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":${params}}`

const nesting = (): Array<McpCase> => {
  const json = JSON.stringify(base)
  return [
    {
      cls: "deep nesting",
      name: "an extra argument 10,000 objects deep",
      expect: RPC,
      send: "call",
      tool: START,
      rawArgs: withRawKey(json, "deep", nestedObjects(10_000))
    },
    {
      cls: "deep nesting",
      name: "prompt as arrays 10,000 deep",
      expect: RPC,
      send: "call",
      tool: START,
      rawArgs: `{"prompt":${nestedArrays(10_000)}}`
    },
    {
      cls: "deep nesting",
      name: "tags as arrays 10,000 deep",
      expect: RPC,
      send: "call",
      tool: START,
      rawArgs: `{"prompt":"x","tags":${nestedArrays(10_000)}}`
    },
    body("deep nesting", "a body of arrays 100,000 deep", nestedArrays(100_000))
  ]
}

const bytes = (): Array<McpCase> => {
  const M = "@@BYTES@@"
  const withBytes = (
    name: string,
    args: Record<string, unknown>,
    b: ReadonlyArray<number>,
    i: number,
    tool = START
  ) => {
    const text = callBody(8000 + i, JSON.stringify({ name: tool, arguments: args }))
    const at = text.indexOf(M)
    return body(
      "invalid UTF-8",
      name,
      Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from(b), Buffer.from(text.slice(at + M.length))])
    )
  }
  return [
    withBytes("tool name with 0xFF", { ...base }, [0xff], 1, `t3_thread_start${M}`),
    withBytes("mode with an overlong byte pair", { ...base, mode: `current${M}checkout` }, [0xc0, 0xaf], 2),
    withBytes(
      "clientRequestId with a lone continuation byte",
      { ...base, clientRequestId: `r${M}` },
      [0x80],
      3
    ),
    withBytes("prompt with 0xFF 0xFE", { ...base, prompt: `fix ${M} this` }, [0xff, 0xfe], 4),
    body("invalid UTF-8", "a body of bytes that are not UTF-8", Buffer.from([0x7b, 0xff, 0xfe, 0xfd, 0x7d]))
  ]
}

const controls = (): Array<McpCase> => [
  ...CONTROL_TEXTS.flatMap(([what, text]) => [
    call("NUL and control characters", `prompt: ${what}`, { ...base, prompt: text }),
    call("NUL and control characters", `title: ${what}`, { ...base, title: text }),
    call("NUL and control characters", `tag: ${what}`, { ...base, tags: ["ok", text] }),
    call("NUL and control characters", `model: ${what}`, { ...base, model: text })
  ]),
  call("NUL and control characters", "branch with NUL", { ...base, branch: "a\u0000b" }),
  call("NUL and control characters", "clientRequestId with NUL", { ...base, clientRequestId: "r\u0000" })
]

const prototypes = (): Array<McpCase> => {
  const json = JSON.stringify({ ...base, mode: "current_checkout" })
  const raw = (name: string, rawArgs: string): McpCase => ({
    cls: "__proto__ and constructor",
    name,
    expect: RPC,
    send: "call",
    tool: START,
    rawArgs
  })
  const method = (m: string, i: number) =>
    body(
      "__proto__ and constructor",
      `method ${m}`,
      `{"jsonrpc":"2.0","id":${7000 + i},"method":"${m}","params":{}}`
    )
  return [
    raw("__proto__ argument", withRawKey(json, "__proto__", '{"mode":"new_worktree"}')),
    raw("constructor argument", withRawKey(json, "constructor", '{"prototype":{"admin":true}}')),
    raw("prototype argument", withRawKey(json, "prototype", "1")),
    ...["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"].map((tool) =>
      call("__proto__ and constructor", `tool ${tool}`, { ...base }, RPC, tool)
    ),
    ...["__proto__", "constructor", "toString"].map(method)
  ]
}

const payloads = (): Array<McpCase> => {
  const raw = (name: string, rawArgs: string): McpCase => ({
    cls: "null and array payloads",
    name,
    expect: RPC,
    send: "call",
    tool: START,
    rawArgs
  })
  const b = (name: string, text: string) => body("null and array payloads", name, text)
  const good = JSON.stringify({ name: START, arguments: { ...base, mode: "current_checkout" } })
  return [
    raw("arguments null", "null"),
    raw("arguments an array", '["do the work"]'),
    raw("arguments a string", '"do the work"'),
    raw("arguments a number", "5"),
    b("params null", callBody(6001, "null")),
    b("params an array", callBody(6002, `[${good}]`)),
    b("no params", `{"jsonrpc":"2.0","id":6003,"method":"tools/call"}`),
    b("body null", "null"),
    b("body an array", "[]"),
    b("body a string", '"tools/call"'),
    b("body a number", "5"),
    b("body an empty object", "{}"),
    b("a batch of two calls", `[${callBody(6004, good)},${callBody(6005, good)}]`),
    b("jsonrpc 1.0", callBody(6006, good).replace('"2.0"', '"1.0"')),
    b("an object as id", callBody(6007, good).replace('"id":6007', '"id":{"x":1}')),
    b("no method", `{"jsonrpc":"2.0","id":6008,"params":${good}}`)
  ]
}

const tricks = (w: HostileWorld): Array<McpCase> => {
  const refused = (cls: string, name: string, args: unknown): McpCase =>
    call(cls, name, args, { rpcOr: ["validation", "not-found", "conflict", "forbidden"] })
  const existing = (name: string, worktreePath: string) =>
    refused("path and symlink tricks", `existing_worktree ${name}`, {
      ...base,
      mode: "existing_worktree",
      worktreePath
    })
  return [
    ...BAD_BRANCHES.map((branch) =>
      refused("branch tricks", `branch ${JSON.stringify(branch)}`, { ...base, branch })
    ),
    refused("branch tricks", "branch checked out in a user's worktree", { ...base, branch: "user/feature" }),
    ...BAD_BASE_REFS.map((baseBranch) =>
      refused("branch tricks", `baseBranch ${JSON.stringify(baseBranch)}`, { ...base, baseBranch })
    ),
    existing("relative path", "relative/path"),
    existing("'..' relative path", "../user-wt"),
    existing("'/'", "/"),
    existing("/etc", "/etc"),
    existing("the repository's .git folder", `${w.repoA}/.git`),
    existing("another project's root", w.repoB),
    existing("another project's worktree", w.worktreeB),
    existing("an unregistered repository", w.unregistered),
    existing("through <home>/worktrees/../..", `${w.home}/worktrees/../../etc`),
    existing("the Spindle home", w.home),
    existing("a symlink in the repository leading out", `${w.repoA}/escape`),
    existing("a symlink outside leading to a bound worktree", `${w.outside}/into-bound`),
    existing("a symlink outside leading to another project's worktree", `${w.outside}/into-b`),
    existing("a worktree bound to another thread", w.userWorktree),
    existing("the bound worktree with a trailing slash", `${w.userWorktree}/`),
    existing("the bound worktree with '/.'", `${w.userWorktree}/.`),
    existing("the bound worktree through '..'", `${w.userWorktree}/../user-wt`),
    existing("the bound worktree with '//'", `${w.userWorktree}//`)
  ]
}

const ids = (otherChild: string): Array<McpCase> => {
  const forbidden: Expectation = { reasons: ["forbidden", "not-found"] }
  const status = (name: string, threadId: string, expect: Expectation = forbidden) =>
    call("other threads' ids", name, { threadId }, expect, STATUS)
  return [
    // Its own thread's status is its to read (where a parent finds its children's merge order).
    status("status of a thread it did not start", "ta"),
    status("status of another project's thread", "tb1"),
    status("status of another agent's thread", "mother"),
    status("status of another agent's child", otherChild),
    status("status of a missing thread", "t-missing"),
    ...confusablesOf(otherChild)
      .filter(([, id]) => id !== otherChild)
      .map(([what, id]) =>
        call(
          "confusable ids",
          `status of another's child with ${what}`,
          { threadId: id },
          { rpcOr: ["validation", "forbidden", "not-found"] },
          STATUS
        )
      ),
    call("confusable ids", "clientRequestId with a Cyrillic letter", {
      ...base,
      clientRequestId: "req\u0430"
    })
  ]
}

export const mcpCases = (w: HostileWorld, otherChild: string): Array<McpCase> => [
  ...shapes(w),
  ...sizes(),
  ...nesting(),
  ...bytes(),
  ...controls(),
  ...prototypes(),
  ...payloads(),
  ...tricks(w),
  ...ids(otherChild)
]
