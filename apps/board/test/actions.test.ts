// The board's own actions, in a real Chromium against the real server: the new-thread form starts
// a thread in a new worktree (it then shows that thread's page), and the page's archive button
// archives it, removing its clean worktree; a child an agent started (through MCP, with its
// thread's token) shows in its parent's children tree. What the server did is read back through
// the CLI.
import { existsSync } from "node:fs"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
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

  it("a child an agent starts shows in its parent's children tree, with its state", async () => {
    const parent = await spindle(home, [
      "thread",
      "start",
      "--project",
      "p1",
      "--prompt",
      "the parent",
      "--thread-id",
      "parent",
      "--no-setup"
    ])
    assert.strictEqual(parent.code, 0, parent.stderr)
    const issued = await spindle(home, ["token", "issue-mcp", "--thread", "parent", "--json"])
    assert.strictEqual(issued.code, 0, issued.stderr)
    const { token, mcpUrl } = JSON.parse(issued.stdout) as { token: string; mcpUrl: string }
    const client = new Client({ name: "board-test-agent", version: "1.0.0" })
    await client.connect(
      new StreamableHTTPClientTransport(new URL(mcpUrl), {
        requestInit: { headers: { authorization: `Bearer ${token}` } }
      })
    )
    const started = await client.callTool({
      name: "t3_thread_start",
      arguments: { prompt: "the child's work", title: "Child from MCP" }
    })
    await client.close()
    assert.notStrictEqual(started.isError, true, JSON.stringify(started.content))
    const childId = (started.structuredContent as { threadId: string }).threadId

    const browser = await launchBrowser()
    const page = await signedInPage(browser, home)
    assert.include(
      await page.locator('[data-testid="card"][data-thread-id="parent"]').textContent(),
      "1 child"
    )
    await page.evaluate(() => {
      location.hash = "#/thread/parent"
    })
    const children = page.getByTestId("children")
    await children
      .getByText("Child from MCP")
      .waitFor({ timeout: 15_000 })
      .catch(async (error) => {
        throw new Error(`no child in the tree; the page says: ${await page.locator("body").innerText()}`, {
          cause: error
        })
      })
    // Its state as on its card: providers are off here, so its first turn stays requested.
    assert.include(await children.textContent(), "turn requested")
    const shown = await show(home, childId)
    assert.strictEqual((shown as unknown as { parentThreadId: string }).parentThreadId, "parent")
    await browser.close()
  })
})
