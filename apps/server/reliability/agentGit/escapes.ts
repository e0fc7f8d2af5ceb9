// Terminal escapes from an agent: it commits files whose names hold OSC/CSI sequences, C1 and bidi
// controls in its worktree, leaves one untracked, and names a child with a bidi override. The
// owner's real `spindle` CLI (thread show, diff, children, worktrees, thread list) must print none
// of those characters raw, yet show the names (as escapes), and the title must be refused.
import { mkdirSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import * as Effect from "effect/Effect"
import { commitFile, initRepo } from "../../src/testing/fixtures.ts"
import { runProcess } from "../../src/testing/serverProcess.ts"
import { promise } from "../harness/scenario.ts"
import { createProject, waitThread } from "../harness/world.ts"
import { toolOutcome } from "../hostile/mcpRaces.ts"
import type { AgentGitCase } from "./world.ts"

const BIN = resolve(import.meta.dirname, "../../bin/spindle.mjs")
/** Retitles the terminal (OSC 0 ... BEL). */
const UNTRACKED = "notes\u001b]0;pwned\u0007.md"
/** Clears the screen, a one-character CSI (C1), and a right-to-left override. */
const COMMITTED = "src\u001b[2J\u009b31m\u202etxt.exe"
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu

export const escapes: AgentGitCase = {
  name: "terminal escapes in file names and titles",
  run: (world) =>
    Effect.gen(function* () {
      const repo = initRepo(join(world.dir, "repo-escapes"))
      yield* createProject(world.admin, "p-escapes", repo)
      const agent = yield* world.agent("p-escapes", "esc-parent")

      const bidiTitle = yield* promise(() =>
        toolOutcome(agent, { prompt: "a child", title: "invoice \u202egnp.exe" })
      )
      const child = yield* promise(() => toolOutcome(agent, { prompt: "work on the files" }))
      const childId = child.threadId ?? "missing"
      const thread = yield* waitThread(world.admin, childId, (t) => t.bootstrap.status !== "running")
      const worktree = thread.workspace.worktreePath
      if (worktree !== null) {
        // The agent's writing, in its worktree: one file committed, one left untracked.
        mkdirSync(join(worktree, "src"), { recursive: true })
        commitFile(worktree, COMMITTED, "plain text\n")
        writeFileSync(join(worktree, UNTRACKED), "x\n")
      }

      // The owner's view, through the real bin with the owner token.
      const env = { SPINDLE_URL: world.server.url, SPINDLE_TOKEN: world.server.ownerToken }
      const views = [
        ["thread", "show", childId],
        ["thread", "diff", childId],
        ["thread", "children", "esc-parent"],
        ["thread", "list"],
        ["worktrees", "--project", "p-escapes"]
      ]
      const problems: Array<string> = []
      let shown = ""
      for (const args of views) {
        const run = yield* runProcess(process.execPath, [BIN, ...args], { env, timeout: "60 seconds" })
        const output = run.stdout + run.stderr
        shown += output
        if (run.code !== 0) problems.push(`${args.join(" ")} exited ${run.code}: ${run.stderr.slice(0, 200)}`)
        const raw = [
          ...new Set([...output.matchAll(RAW)].map((m) => `U+${m[0].codePointAt(0)!.toString(16)}`))
        ]
        if (raw.length > 0) problems.push(`${args.join(" ")} printed raw ${raw.join(", ")}`)
      }
      // Not vacuous: the names were there to print, as escapes.
      for (const name of ["notes\\u001b]0;pwned\\u0007.md", "\\u001b[2J\\u009b31m\\u202etxt.exe"]) {
        if (!shown.includes(name)) problems.push(`no view showed ${JSON.stringify(name)}`)
      }
      if (worktree === null) problems.push(`the child has no worktree (${child.answer})`)
      world.report.check("the owner's CLI prints no escape sequence an agent planted", problems)
      world.report.check("an agent's title with a bidi override is refused", [
        ...(bidiTitle.answer === "validation" ? [] : [`t3_thread_start answered ${bidiTitle.answer}`])
      ])
    })
}
