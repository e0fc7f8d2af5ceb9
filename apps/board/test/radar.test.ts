// The conflict radar on the board, in a real Chromium against the real server: two threads that
// write the same new file get an "overlaps" badge on both cards as the radar records the overlap,
// and the thread page's overlap panel names the other thread and the file; once one side removes
// its file the badge goes.
import { rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { cleanup, gitRepo, launchBrowser, signedInPage, spindle, startServer, tempDir } from "./harness.ts"

const worktreeOf = async (home: string, id: string) => {
  const shown = await spindle(home, ["thread", "path", id])
  assert.strictEqual(shown.code, 0, shown.stderr)
  return shown.stdout.trim()
}

describe("board conflict radar", () => {
  let home: string
  beforeAll(async () => {
    home = tempDir("board-radar-")
    await startServer(home)
    const repo = await gitRepo()
    const added = await spindle(home, ["project", "add", repo, "--id", "p1"])
    assert.strictEqual(added.code, 0, added.stderr)
  })
  afterAll(cleanup)

  it("a badge on both overlapping cards and a panel on the thread page", async () => {
    for (const id of ["ra", "rb"]) {
      const started = await spindle(home, [
        "thread",
        "start",
        "--project",
        "p1",
        "--prompt",
        id,
        "--thread-id",
        id,
        "--no-setup"
      ])
      assert.strictEqual(started.code, 0, started.stderr)
    }
    const browser = await launchBrowser()
    const page = await signedInPage(browser, home)
    const badge = (id: string) =>
      page.locator(`[data-testid="card"][data-thread-id="${id}"] [data-testid="card-overlaps"]`)
    await page.locator('[data-testid="card"][data-thread-id="rb"]').waitFor({ timeout: 15_000 })
    assert.strictEqual(await badge("ra").count(), 0)

    const a = await worktreeOf(home, "ra")
    const b = await worktreeOf(home, "rb")
    writeFileSync(join(a, "same.txt"), "from a\n")
    writeFileSync(join(b, "same.txt"), "from b\n")
    await badge("ra").waitFor({ timeout: 15_000 })
    await badge("rb").waitFor({ timeout: 15_000 })
    assert.strictEqual((await badge("ra").textContent())?.trim(), "overlaps 1")

    await page.evaluate(() => {
      location.hash = "#/thread/ra"
    })
    const item = page.getByTestId("overlaps").locator('[data-testid="overlap"][data-thread-id="rb"]')
    await item.waitFor({ timeout: 15_000 })
    assert.include(await item.textContent(), "same.txt: this new file · rb new file")

    rmSync(join(b, "same.txt"))
    await page
      .getByTestId("overlaps")
      .getByText("No live thread changes the same lines.")
      .waitFor({ timeout: 15_000 })
    await page.evaluate(() => {
      location.hash = "#/"
    })
    await page.locator('[data-testid="card"][data-thread-id="ra"]').waitFor({ timeout: 15_000 })
    assert.strictEqual(await badge("ra").count(), 0)
    await browser.close()
  })
})
