// The board's event lines, pure functions of an event (no browser needed).
import type { SpindleEvent } from "@spindle/contracts"
import { assert, describe, it } from "vitest"
import { describeEvent } from "../src/model.ts"

const sessionChanged = (payload: Record<string, unknown>) =>
  ({
    type: "thread.session-changed",
    payload: { threadId: "t1", providerSessionId: "s1", resumeCursor: null, error: null, ...payload }
  }) as unknown as SpindleEvent

describe("the board's event lines", () => {
  it("a session Spindle stopped at the idle timeout says why; a failed one says its error", () => {
    const reason = "idle for 15m (session idle timeout 15m); the next prompt resumes its conversation"
    assert.strictEqual(
      describeEvent(sessionChanged({ status: "stopped", reason })),
      `session stopped: ${reason}`
    )
    assert.strictEqual(describeEvent(sessionChanged({ status: "stopped" })), "session stopped")
    assert.strictEqual(
      describeEvent(sessionChanged({ status: "error", error: "exited with code 1" })),
      "session error: exited with code 1"
    )
  })
})
