// A server refusal of a typed value, said in the flags a person typed.
import { assert, describe, it } from "@effect/vitest"
import { inFlagWords } from "./flagNames.ts"

describe("inFlagWords", () => {
  it("says a schema's issue after the flag, with the fields it names as flags", () => {
    assert.strictEqual(
      inFlagWords(
        "bootstrap.workspace.fromThread",
        "Invalid thread.turn.start command: bootstrap.workspace.fromThread: cannot be given with baseBranch: the new branch starts at the thread's HEAD. Give either fromThread or baseBranch."
      ),
      "--from-thread cannot be given with --base: the new branch starts at the thread's HEAD. Give either --from-thread or --base."
    )
    assert.strictEqual(
      inFlagWords(
        "bootstrap.workspace.includeUncommitted",
        "bootstrap.workspace.includeUncommitted: applies only when starting from a thread's present (fromThread); give fromThread, or leave includeUncommitted out"
      ),
      "--include-uncommitted applies only when starting from a thread's present (--from-thread); give --from-thread, or leave --include-uncommitted out"
    )
    assert.strictEqual(
      inFlagWords(
        "bootstrap.workspace.branch",
        "bootstrap.workspace.branch: does not apply to mode current_checkout; leave it out or choose another mode"
      ),
      "--branch does not apply with --mode current_checkout; leave it out or choose another --mode"
    )
  })

  it("puts a colon before the server's own sentence, and leaves plain words alone", () => {
    assert.strictEqual(
      inFlagWords(
        "bootstrap.workspace.fromThread",
        "Thread t-1 belongs to project other, not demo: the new branch starts elsewhere."
      ),
      "--from-thread: Thread t-1 belongs to project other, not demo: the new branch starts elsewhere."
    )
    assert.isUndefined(inFlagWords("bootstrap.workspace.fetchBase", "anything"))
  })
})
