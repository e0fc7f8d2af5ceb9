// Hostile WebSocket inputs, part two: the values are tricks. NUL and control characters,
// invalid UTF-8 as raw bytes, branch and base-ref tricks, paths that leave the repository (through
// `..` or symlinks either way), other projects' ids and ids that only look like real ones.
import {
  BAD_BASE_REFS,
  BAD_BRANCHES,
  CONTROL_TEXTS,
  confusablesOf,
  type Expectation,
  label,
  VALIDATION,
  withField
} from "./cases.ts"
import type { HostileWorld } from "./fixture.ts"
import { baseCommands, type WsCase } from "./wsCases.ts"

type Bases = ReturnType<typeof baseCommands>

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

const controls = (w: HostileWorld, b: Bases): Array<WsCase> => {
  const c = (name: string, command: unknown) => dispatchCase("NUL and control characters", name, command)
  return [
    ...CONTROL_TEXTS.flatMap(([what, text]) => [
      c(`prompt: ${what}`, { ...b.turnStart, prompt: text }),
      c(`title: ${what}`, { ...b.threadCreate, title: text }),
      c(`tag: ${what}`, { ...b.threadCreate, tags: ["ok", text] }),
      c(`model: ${what}`, { ...b.threadCreate, model: text })
    ]),
    c("model with a space and a quote", { ...b.threadCreate, model: 'gpt "5"; rm -rf' }),
    c("branch with NUL", withField(b.turnStart, ["bootstrap", "workspace", "branch"], "a\u0000b")),
    c("branch with ESC", withField(b.turnStart, ["bootstrap", "workspace", "branch"], "a\u001bb")),
    c("workspaceRoot with NUL", { ...b.projectCreate, workspaceRoot: `${w.unregistered}\u0000/x` }),
    c(
      "worktreePath with NUL",
      withField(b.turnStart, ["bootstrap", "workspace"], {
        mode: "existing_worktree",
        worktreePath: `${w.userWorktree}\u0000`
      })
    ),
    c("setup script with NUL", { ...b.projectUpdate, setupScript: "echo a\u0000b" }),
    c("project title with a line separator", { ...b.projectUpdate, title: "a\u2028b" }),
    c("commandId with NUL", { ...b.threadCreate, commandId: "h\u0000x" })
  ]
}

/** A whole request frame as bytes, with `bytes` put where `marker` was in the command's JSON. */
const frameWith = (id: string, command: unknown, marker: string, bytes: ReadonlyArray<number>) => {
  const text = `{"_tag":"Request","id":"${id}","tag":"orchestration.dispatchCommand","payload":{"command":${JSON.stringify(command)}},"headers":[]}`
  const at = text.indexOf(marker)
  return Buffer.concat([
    Buffer.from(text.slice(0, at)),
    Buffer.from(bytes),
    Buffer.from(text.slice(at + marker.length))
  ])
}

const invalidUtf8 = (b: Bases): Array<WsCase> => {
  const M = "@@BYTES@@"
  const binary = (name: string, command: unknown, bytes: ReadonlyArray<number>, i: number): WsCase => ({
    cls: "invalid UTF-8",
    name,
    expect: VALIDATION,
    send: "frame",
    binary: true,
    id: `utf8-${i}`,
    data: frameWith(`utf8-${i}`, command, M, bytes)
  })
  return [
    binary("projectId with 0xFF 0xFE", { ...b.threadCreate, projectId: `p${M}` }, [0xff, 0xfe], 1),
    binary("commandId with a lone continuation byte", { ...b.threadCreate, commandId: `c${M}` }, [0x80], 2),
    binary(
      "command type with an overlong '/'",
      { ...b.threadCreate, type: `thread${M}create` },
      [0xc0, 0xaf],
      3
    ),
    binary("threadId with a truncated sequence", { ...b.archive, threadId: `ta${M}` }, [0xe2, 0x82], 4),
    binary("prompt with 0xFF", { ...b.turnStart, prompt: `fix ${M} this` }, [0xff], 5),
    binary("title with an encoded surrogate", { ...b.threadCreate, title: `t ${M}` }, [0xed, 0xa0, 0x80], 6),
    dispatchCase("invalid UTF-8", "projectId with a lone surrogate escape", {
      ...b.threadCreate,
      projectId: "p\ud800"
    }),
    dispatchCase("invalid UTF-8", "threadId with a reversed surrogate pair", {
      ...b.archive,
      threadId: "t\udc00\ud800"
    }),
    {
      cls: "invalid UTF-8",
      name: "a text frame that is not UTF-8",
      expect: { frame: true },
      send: "frame",
      data: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d])
    }
  ]
}

const refTricks = (b: Bases): Array<WsCase> => {
  const branch = (name: string, value: string) =>
    dispatchCase(
      "branch tricks",
      `branch ${name}`,
      withField(b.turnStart, ["bootstrap", "workspace", "branch"], value),
      {
        reasons: ["validation", "conflict"]
      }
    )
  const base = (value: string) =>
    dispatchCase(
      "branch tricks",
      `baseBranch ${JSON.stringify(value)}`,
      withField(b.turnStart, ["bootstrap", "workspace", "baseBranch"], value),
      { reasons: ["validation", "not-found"] }
    )
  return [
    ...BAD_BRANCHES.map((value) => branch(JSON.stringify(value), value)),
    branch("checked out in a user's worktree", "user/feature"),
    ...BAD_BASE_REFS.map(base),
    dispatchCase("branch tricks", "project default branch '-x'", { ...b.projectUpdate, defaultBranch: "-x" })
  ]
}

const pathTricks = (w: HostileWorld, b: Bases): Array<WsCase> => {
  const existing = (name: string, worktreePath: string) =>
    dispatchCase(
      "path and symlink tricks",
      `existing_worktree ${name}`,
      withField(b.turnStart, ["bootstrap", "workspace"], { mode: "existing_worktree", worktreePath }),
      { reasons: ["validation", "not-found", "conflict", "forbidden"] }
    )
  const root = (name: string, workspaceRoot: string) =>
    dispatchCase(
      "path and symlink tricks",
      `project root ${name}`,
      { ...b.projectCreate, workspaceRoot },
      {
        reasons: ["validation", "not-found", "conflict"]
      }
    )
  return [
    existing("relative path", "relative/path"),
    existing("'..' relative path", "../user-wt"),
    existing("'.'", "."),
    existing("'/'", "/"),
    existing("/etc", "/etc"),
    existing("/tmp", "/tmp"),
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
    existing("the bound worktree with '//'", `${w.userWorktree}//`),
    root("relative", "repo"),
    root("'/'", "/"),
    root("a folder that is no repository", w.outside),
    root("an already registered repository", w.repoA),
    root("a registered repository with '/.'", `${w.repoA}/.`),
    root("a registered repository with a trailing slash", `${w.repoA}/`),
    root("a symlink out of a repository", `${w.repoA}/escape`),
    root("a .git folder", `${w.repoA}/.git`)
  ]
}

const otherIds = (w: HostileWorld, b: Bases): Array<WsCase> => {
  const c = (
    name: string,
    command: unknown,
    reasons: ReadonlyArray<"validation" | "not-found" | "conflict" | "forbidden">
  ) => dispatchCase("other projects' ids", name, command, { reasons })
  const request = (name: string, tag: string, payload: unknown): WsCase => ({
    cls: "other projects' ids",
    name,
    expect: { reasons: ["not-found"] },
    send: "request",
    tag,
    payload
  })
  return [
    c(
      "thread.create reusing a thread id of project A in B",
      { ...b.threadCreate, threadId: "ta", projectId: "pb" },
      ["conflict"]
    ),
    c("thread.create reusing a thread id of project B in A", { ...b.threadCreate, threadId: "tb1" }, [
      "conflict"
    ]),
    c("bootstrap into A reusing B's thread id", { ...b.turnStart, threadId: "tb1" }, ["conflict"]),
    c("project.create reusing a project id", { ...b.projectCreate, projectId: "pa" }, ["conflict"]),
    c("project.update of a missing project", { ...b.projectUpdate, projectId: "p-missing" }, ["not-found"]),
    c("thread.archive of a missing thread", { ...b.archive, threadId: "t-missing" }, ["not-found"]),
    c("thread.setup.rerun of a missing thread", { ...b.rerun, threadId: "t-missing" }, ["not-found"]),
    c("thread.create in a missing project", { ...b.threadCreate, projectId: "p-missing" }, ["not-found"]),
    c(
      "bootstrap in a missing project",
      withField(b.turnStart, ["bootstrap", "createThread", "projectId"], "p-missing"),
      ["not-found"]
    ),
    c(
      "bootstrap in A of B's worktree",
      withField(b.turnStart, ["bootstrap", "workspace"], {
        mode: "existing_worktree",
        worktreePath: w.worktreeB
      }),
      ["validation", "not-found", "conflict", "forbidden"]
    ),
    request("token.issueMcp for a missing thread", "token.issueMcp", { threadId: "t-missing" }),
    request("thread.get of a missing thread", "thread.get", { threadId: "t-missing" }),
    request("setup log of a missing thread", "thread.streamSetupLog", { threadId: "t-missing" })
  ]
}

const confusables = (b: Bases): Array<WsCase> => [
  ...confusablesOf("pa")
    .filter(([, id]) => id !== "pa")
    .map(([what, id]) =>
      dispatchCase("confusable ids", `projectId 'pa' with ${what}`, { ...b.threadCreate, projectId: id })
    ),
  ...confusablesOf("ta")
    .filter(([, id]) => id !== "ta")
    .map(([what, id]) =>
      dispatchCase("confusable ids", `threadId 'ta' with ${what}`, { ...b.archive, threadId: id })
    ),
  dispatchCase(
    "confusable ids",
    "threadId 'TA' (case differs)",
    { ...b.archive, threadId: "TA" },
    { reasons: ["not-found"] }
  ),
  dispatchCase("confusable ids", `commandId ${label("h\u2011x")} (non-breaking hyphen)`, {
    ...b.threadCreate,
    commandId: "h\u2011x"
  })
]

export const trickCases = (w: HostileWorld): Array<WsCase> => {
  const b = baseCommands(w)
  return [
    ...controls(w, b),
    ...invalidUtf8(b),
    ...refTricks(b),
    ...pathTricks(w, b),
    ...otherIds(w, b),
    ...confusables(b)
  ]
}
