// An agent in trouble, seen where a person looks, in a real Chromium and the real CLI against the
// real server running the real Codex CLI: its model is on a closed port (Codex retries for ever)
// and an MCP server of the project does not start. The server's stall timeout (a serve flag) marks
// the turn stalled: the card says so with the agent's error, the thread page shows the stall and
// what the agent reported, and `thread list --state stalled` / `thread show` say the same.
import { readdirSync, readFileSync, rmSync } from "node:fs"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { startFakeModel } from "../../server/src/testing/fakeModel.ts"
import {
  cleanup,
  codexArgs,
  codexHomeDir,
  gitRepo,
  launchBrowser,
  signedInPage,
  spindle,
  startServer,
  tempDir,
  waitForCard
} from "./harness.ts"

/** Whether a process still runs with `home` as its CODEX_HOME (a Codex the stopped server left exiting). */
const codexStillIn = (home: string) =>
  readdirSync("/proc").some((entry) => {
    if (!/^\d+$/.test(entry)) return false
    try {
      return readFileSync(`/proc/${entry}/environ`, "latin1").split("\0").includes(`CODEX_HOME=${home}`)
    } catch {
      return false
    }
  })

describe("board: an agent in trouble", () => {
  let home: string
  let codexHome: string
  beforeAll(async () => {
    home = tempDir("board-home-")
    // A fake model started and closed at once: its port is closed, as a stopped local model's is.
    const model = await startFakeModel()
    await model.close()
    codexHome = codexHomeDir()
    await startServer(home, {
      args: [...codexArgs(model), "--turn-stall-timeout", "3s", "--turn-stall-interrupt", "0"],
      env: { CODEX_HOME: codexHome }
    })
    const added = await spindle(home, [
      "project",
      "add",
      await gitRepo(),
      "--id",
      "p1",
      "--codex-config",
      `mcp_servers.docs.url="http://127.0.0.1:${model.port}/mcp"`
    ])
    assert.strictEqual(added.code, 0, added.stderr)
  })
  afterAll(async () => {
    await cleanup()
    if (codexHome === undefined) return
    // A Codex still exiting would write its home again after it is removed.
    for (let waited = 0; waited < 10_000 && codexStillIn(codexHome); waited += 100) {
      await new Promise((r) => setTimeout(r, 100))
    }
    rmSync(codexHome, { recursive: true, force: true })
  })

  it("a stalled turn and the agent's errors show on its card, its page, thread list and thread show", async () => {
    const browser = await launchBrowser()
    const page = await signedInPage(browser, home)
    const started = await spindle(home, [
      "thread",
      "start",
      "--project",
      "p1",
      "--prompt",
      "hello",
      "--thread-id",
      "t1",
      "--no-setup"
    ])
    assert.strictEqual(started.code, 0, started.stderr)
    await waitForCard(page, "t1", "working", 30_000)
    const card = page.locator('[data-testid="card"][data-thread-id="t1"]')
    await page.waitForFunction(
      () =>
        document.querySelector('[data-testid="card"][data-thread-id="t1"] [data-testid="card-need"]')
          ?.textContent === "turn stalled",
      undefined,
      { timeout: 60_000 }
    )
    await card.getByTestId("card-trouble").waitFor({ timeout: 30_000 })
    assert.include(await card.getByTestId("card-trouble").textContent(), "agent")

    await card.click()
    await page.getByTestId("stalled").waitFor()
    assert.include(await page.getByTestId("stalled").textContent(), "no progress from the agent")
    assert.strictEqual(await page.getByTestId("turn-status").textContent(), "stalled")
    await page.waitForFunction(
      () =>
        (document.querySelector('[data-testid="agent-notices"]')?.textContent ?? "").includes("Reconnecting"),
      undefined,
      { timeout: 30_000 }
    )
    const notices = (await page.getByTestId("agent-notices").textContent()) ?? ""
    assert.include(notices, "mcp:docs")
    assert.include(notices, "MCP server 'docs' failed to start")
    // The page's timeline is the thread's history, loaded after the page opens.
    await page.waitForFunction(
      () => (document.querySelector('[data-testid="timeline"]')?.textContent ?? "").includes("turn stalled"),
      undefined,
      { timeout: 30_000 }
    )

    const listed = await spindle(home, ["thread", "list", "--state", "stalled", "--json"])
    assert.strictEqual(listed.code, 0, listed.stderr)
    assert.deepStrictEqual(
      (JSON.parse(listed.stdout) as Array<{ id: string }>).map((t) => t.id),
      ["t1"]
    )
    const shown = await spindle(home, ["thread", "show", "t1"])
    assert.match(shown.stdout, /turn stalled \(no progress since /)
    assert.include(shown.stdout, "agent error (codex")
    assert.include(shown.stdout, "Reconnecting")
    assert.include(shown.stdout, "agent warning (mcp:docs")
  })
})
