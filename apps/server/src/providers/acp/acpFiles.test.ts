// The files an ACP agent may read and write through Spindle: its worktree's, nothing else, never
// through a link, with real files and links in a temp dir.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { tempDir } from "../../testing/fixtures.ts"
import { allowedByMode, declineEndsTurn, permissionAnswer } from "./acpApprovals.ts"
import { FileRefused, readTextFile, writeTextFile } from "./acpFiles.ts"

const refused = (f: () => unknown, text: string) => {
  try {
    f()
  } catch (error) {
    assert.instanceOf(error, FileRefused)
    assert.include((error as Error).message, text)
    return
  }
  assert.fail(`not refused: ${text}`)
}

describe("an ACP agent's files", () => {
  it.live("reads and writes inside the worktree; refuses outside, relative paths and links out", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir()
      const worktree = join(dir, "wt")
      const outside = join(dir, "secret.txt")
      mkdirSync(worktree)
      writeFileSync(outside, "not yours\n")
      writeFileSync(join(worktree, "a.txt"), "one\ntwo\nthree\n")

      assert.strictEqual(readTextFile(worktree, join(worktree, "a.txt")), "one\ntwo\nthree\n")
      assert.strictEqual(readTextFile(worktree, join(worktree, "a.txt"), 2, 1), "two")
      writeTextFile(worktree, join(worktree, "src", "new.ts"), "made\n")
      assert.strictEqual(readFileSync(join(worktree, "src", "new.ts"), "utf8"), "made\n")

      refused(() => readTextFile(worktree, outside), "outside the thread's worktree")
      refused(() => readTextFile(worktree, join(worktree, "..", "secret.txt")), "outside")
      refused(() => readTextFile(worktree, "a.txt"), "not an absolute path")
      symlinkSync(outside, join(worktree, "link.txt"))
      symlinkSync(dir, join(worktree, "up"))
      refused(() => readTextFile(worktree, join(worktree, "link.txt")), "outside")
      refused(() => writeTextFile(worktree, join(worktree, "link.txt"), "x"), "outside")
      refused(() => writeTextFile(worktree, join(worktree, "up", "planted.txt"), "x"), "outside")
      refused(() => writeTextFile(worktree, outside, "x"), "outside")
      assert.strictEqual(readFileSync(outside, "utf8"), "not yours\n", "nothing outside was written")
      // A link that points back inside is still not written through.
      symlinkSync(join(worktree, "a.txt"), join(worktree, "inner-link"))
      refused(() => writeTextFile(worktree, join(worktree, "inner-link"), "x"), "symbolic link")
    })
  )
})

describe("an ACP agent's permission requests", () => {
  const options = [
    { optionId: "once", name: "Allow", kind: "allow_once" as const },
    { optionId: "always", name: "Always", kind: "allow_always" as const },
    { optionId: "no", name: "Reject", kind: "reject_once" as const }
  ]
  const request = (kind: "edit" | "execute", path = "/w/a.ts") => ({
    sessionId: "s",
    options,
    toolCall: { toolCallId: "c", kind, locations: [{ path }] }
  })

  it("answers with the offered option closest to the decision", () => {
    assert.deepStrictEqual(permissionAnswer(options, "accept"), {
      outcome: { outcome: "selected", optionId: "once" }
    })
    assert.deepStrictEqual(permissionAnswer(options, "accept-for-session"), {
      outcome: { outcome: "selected", optionId: "always" }
    })
    assert.deepStrictEqual(permissionAnswer(options, "decline"), {
      outcome: { outcome: "selected", optionId: "no" }
    })
    const noReject = options.slice(0, 2)
    assert.deepStrictEqual(permissionAnswer(noReject, "decline"), { outcome: { outcome: "cancelled" } })
    assert.isTrue(declineEndsTurn(noReject))
    assert.isFalse(declineEndsTurn(options))
  })

  it("allows by itself only what the runtime mode allows: edits inside the worktree, or everything", () => {
    assert.isTrue(allowedByMode("full-access", "/w", request("execute")))
    assert.isFalse(allowedByMode("approval-required", "/w", request("edit")))
    for (const mode of ["auto-accept-edits", "sandboxed"] as const) {
      assert.isTrue(allowedByMode(mode, "/w", request("edit")), mode)
      assert.isFalse(allowedByMode(mode, "/w", request("edit", "/etc/passwd")), mode)
      assert.isFalse(allowedByMode(mode, "/w", request("edit", "/w/../etc/passwd")), mode)
      assert.isFalse(allowedByMode(mode, "/w", request("execute")), mode)
    }
  })
})
