// The board's own actions, in a real Chromium against the real server: the new-thread form starts
// a thread in a new worktree (it then shows that thread's page), and the page's archive button
// archives it, removing its clean worktree. What the server did is read back through the CLI.
import { existsSync } from "node:fs"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import {
  cleanup,
  gitRepo,
  launchBrowser,
  signedInPage,
  spindle,
  startServer,
  tempDir,
  waitForCard
} from "./harness.ts"

interface ThreadJson {
  readonly id: string
  readonly projectId: string
  readonly title: string
  readonly status: string
  readonly workspace: {
    readonly mode: string
    readonly worktreePath: string | null
    readonly branch: string | null
  }
  readonly setup: { readonly status: string }
}

const show = async (home: string, id: string) => {
  const shown = await spindle(home, ["thread", "show", id, "--json"])
  assert.strictEqual(shown.code, 0, shown.stderr)
  return JSON.parse(shown.stdout) as ThreadJson
}

describe("board actions", () => {
  let home: string
  beforeAll(async () => {
    home = tempDir("board-actions-")
    await startServer(home)
    const added = await spindle(home, ["project", "add", await gitRepo(), "--id", "p1"])
    assert.strictEqual(added.code, 0, added.stderr)
  })
  afterAll(cleanup)

  it("the new-thread form starts a thread in a new worktree, and the archive button archives it", async () => {
    const browser = await launchBrowser()
    const page = await signedInPage(browser, home)
    await page.getByTestId("new-thread").click()
    const form = page.getByTestId("new-thread-form")
    await form.locator('select[name="project"]').selectOption("p1")
    await form.locator('textarea[name="prompt"]').fill("started from the board's form")
    await form.locator('input[name="title"]').fill("Form thread")
    await form.locator('input[name="branch"]').fill("from-the-form")
    await form.locator('input[name="setup"]').uncheck()
    await form.locator('button[type="submit"]').click()
    await page.waitForFunction(() => location.hash.startsWith("#/thread/"), undefined, { timeout: 15_000 })
    const threadId = decodeURIComponent(await page.evaluate(() => location.hash.slice("#/thread/".length)))

    const started = await show(home, threadId)
    assert.strictEqual(started.projectId, "p1")
    assert.strictEqual(started.title, "Form thread")
    assert.strictEqual(started.workspace.mode, "new_worktree")
    assert.strictEqual(started.workspace.branch, "from-the-form")
    assert.strictEqual(started.setup.status, "not-requested")
    assert.isTrue(existsSync(started.workspace.worktreePath!))

    await page.getByTestId("archive").click()
    await page.waitForFunction(
      async (id) => {
        const thread = await (globalThis as any).spindleBoard.run((c: any) =>
          c["thread.get"]({ threadId: id })
        )
        return thread?.status === "archived"
      },
      threadId,
      { timeout: 15_000, polling: 200 }
    )
    const archived = await show(home, threadId)
    assert.strictEqual(archived.status, "archived")
    assert.isFalse(existsSync(started.workspace.worktreePath!), "its clean worktree was removed")
    await page.goto(page.url().replace(/#.*$/, "#/"))
    await waitForCard(page, threadId, "archived")
    await browser.close()
  })
})
