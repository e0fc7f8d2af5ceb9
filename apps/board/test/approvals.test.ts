// An approval answered from the board, in a real Chromium, against the real server running the
// real Codex CLI (`codex app-server`, pinned by npm) pointed at the loopback fake model: the card
// moves to "needs approval", the thread page shows the command with its buttons, and accepting
// runs the command and completes the turn.
import { existsSync, rmSync } from "node:fs"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { type FakeModel, startFakeModel } from "../../server/src/testing/fakeModel.ts"
import {
  cleanup,
  codexArgs,
  codexHomeDir,
  gitRepo,
  launchBrowser,
  signedInPage,
  spindle,
  spindleInBackground,
  startServer,
  tempDir,
  waitForCard
} from "./harness.ts"

describe("board approvals", () => {
  let home: string
  let model: FakeModel
  let codexHome: string
  beforeAll(async () => {
    home = tempDir("board-home-")
    model = await startFakeModel()
    codexHome = codexHomeDir()
    await startServer(home, {
      args: [...codexArgs(model)],
      env: { CODEX_HOME: codexHome }
    })
    const added = await spindle(home, ["project", "add", await gitRepo(), "--id", "p1"])
    assert.strictEqual(added.code, 0, added.stderr)
  })
  afterAll(async () => {
    await cleanup()
    await model?.close()
    if (codexHome !== undefined) rmSync(codexHome, { recursive: true, force: true })
  })

  it("a command waiting for approval is accepted from the thread page; it runs and the turn completes", async () => {
    const browser = await launchBrowser()
    const page = await signedInPage(browser, home)
    spindleInBackground(home, [
      "thread",
      "start",
      "--project",
      "p1",
      "--prompt",
      "[[run: touch approved.txt]]",
      "--thread-id",
      "t1",
      "--runtime-mode",
      "approval-required",
      "--no-setup"
    ])
    await waitForCard(page, "t1", "needs-you", 60_000)
    await page.locator('[data-testid="card"][data-thread-id="t1"]').click()
    const approval = page.getByTestId("approval")
    await approval.waitFor()
    assert.include(await approval.textContent(), "touch approved.txt")
    // Codex offers only accept or cancel: the page says what declining would do.
    assert.include(await page.getByTestId("decline-ends-turn").textContent(), "Declining ends the turn")
    assert.strictEqual(await page.getByTestId("approval-decline").textContent(), "decline (ends the turn)")
    const worktree = (await page.getByTestId("worktree-path").textContent())!
    assert.isFalse(existsSync(join(worktree, "approved.txt")), "nothing ran before the answer")
    await page.getByTestId("approval-accept").click()
    await page.waitForFunction(
      () => document.querySelector('[data-testid="turn-status"]')?.textContent === "completed",
      undefined,
      { timeout: 60_000 }
    )
    assert.isTrue(existsSync(join(worktree, "approved.txt")))
    assert.strictEqual(await page.getByTestId("approvals").count(), 0)
    await page.waitForFunction(
      () => (document.querySelector('[data-testid="timeline"]')?.textContent ?? "").includes("approval"),
      undefined,
      { timeout: 30_000 }
    )
    assert.include(await page.getByTestId("timeline").textContent(), "accept")
  })
})
