// The board's own actions, in a real Chromium against the real server: the new-thread form starts
// a thread in a new worktree (it then shows that thread's page), and the page's archive button
// archives it, removing its clean worktree; a child an agent started (through MCP, with its
// thread's token) shows in its parent's children tree, with the suggested order to merge them in;
// the merge panel previews, then merges, a
// thread's commit into main and archives it. What the server did is read back through the CLI
// and git.
import { execFileSync } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
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

const git = (cwd: string, ...args: Array<string>) =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@spindle.invalid", ...args], {
    cwd,
    encoding: "utf8"
  })

describe("board actions", () => {
  let home: string
  let repo: string
  beforeAll(async () => {
    home = tempDir("board-actions-")
    await startServer(home)
    repo = await gitRepo()
    const added = await spindle(home, ["project", "add", repo, "--id", "p1"])
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
    // Archived threads show only when asked for.
    await page.getByTestId("board").waitFor()
    assert.strictEqual(await page.getByTestId("column-archived").count(), 0)
    await page.getByTestId("show-archived").check()
    await waitForCard(page, threadId, "archived")
    await browser.close()
  })

  it("children an agent starts show in its parent's tree, with their state and the order to merge them in", async () => {
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
    const startChild = async (title: string) => {
      const started = await client.callTool({ name: "t3_thread_start", arguments: { prompt: title, title } })
      assert.notStrictEqual(started.isError, true, JSON.stringify(started.content))
      return (started.structuredContent as { threadId: string }).threadId
    }
    const childId = await startChild("Child from MCP")
    // Two more that commit the same new file differently, and so conflict.
    const clashing: Array<string> = []
    for (const title of ["Clash one", "Clash two"]) {
      const id = await startChild(title)
      const worktree = (await show(home, id)).workspace.worktreePath!
      writeFileSync(join(worktree, "clash.txt"), `${title}\n`)
      const git = (...args: Array<string>) =>
        execFileSync("git", ["-C", worktree, ...args], { encoding: "utf8" })
      git("add", "clash.txt")
      git("-c", "user.name=a", "-c", "user.email=a@spindle.invalid", "commit", "-qm", title)
      clashing.push(id)
    }
    await client.close()

    const browser = await launchBrowser()
    const page = await signedInPage(browser, home)
    assert.include(
      await page.locator('[data-testid="card"][data-thread-id="parent"]').textContent(),
      "3 children"
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

    // The suggested merge order, asked for on the parent's page: the clashing pair in order, the
    // second told it conflicts with the first.
    await page.getByTestId("load-merge-order").click()
    const entries = page.getByTestId("merge-order-entry")
    await entries.first().waitFor({ timeout: 15_000 })
    const order = (
      await entries.evaluateAll((items) => items.map((li) => li.getAttribute("data-thread-id")))
    ).filter((id) => id !== childId)
    assert.sameMembers(order, clashing)
    const [first, second] = order as [string, string]
    const entry = (id: string) => page.locator(`[data-testid="merge-order-entry"][data-thread-id="${id}"]`)
    assert.include(await entry(second).textContent(), `conflicts with ${first}`)
    assert.include(await entry(first).textContent(), "1 file +1 -0, 1 commit ahead")
    // A clashing child's overlap panel names its sibling and points to the parent's merge order.
    await page.evaluate((id) => {
      location.hash = `#/thread/${id}`
    }, clashing[0]!)
    await page
      .getByTestId("overlaps")
      .locator(`[data-testid="overlap"][data-thread-id="${clashing[1]}"]`)
      .waitFor({ timeout: 15_000 })
    assert.include(await page.getByTestId("overlap-merge-order").textContent(), "its parent's page")
    await browser.close()
  })

  it("the merge panel previews, then merges a thread's commit into main and archives the thread", async () => {
    const started = await spindle(home, [
      "thread",
      "start",
      "--project",
      "p1",
      "--prompt",
      "to merge",
      "--thread-id",
      "tomerge",
      "--no-setup"
    ])
    assert.strictEqual(started.code, 0, started.stderr)
    const worktree = (await show(home, "tomerge")).workspace.worktreePath!
    writeFileSync(join(worktree, "merged.txt"), "from the thread\n")
    git(worktree, "add", "merged.txt")
    git(worktree, "commit", "--quiet", "-m", "the thread's work")
    const mainBefore = git(repo, "rev-parse", "refs/heads/main").trim()

    const browser = await launchBrowser()
    const page = await signedInPage(browser, home)
    await page.evaluate(() => {
      location.hash = "#/thread/tomerge"
    })
    const panel = page.getByTestId("merge-panel")
    await panel.waitFor({ timeout: 15_000 })
    await panel.getByTestId("merge-preview").click()
    await panel.getByTestId("merge-outcome").getByText("would apply cleanly").waitFor({ timeout: 15_000 })
    assert.include(await panel.getByTestId("merge-outcome").textContent(), "merged.txt")
    assert.strictEqual(
      git(repo, "rev-parse", "refs/heads/main").trim(),
      mainBefore,
      "a preview writes nothing"
    )

    await panel.getByTestId("merge-strategy").selectOption("squash")
    await panel.getByText("archive after").click()
    await panel.getByTestId("merge").click()
    await panel.getByTestId("merge-outcome").getByText("Merged").waitFor({ timeout: 15_000 })
    await panel.getByTestId("last-merge").getByText("squash").waitFor({ timeout: 15_000 })
    assert.strictEqual(
      git(repo, "log", "-1", "--format=%s", "refs/heads/main").trim(),
      "Squash thread tomerge (to merge) into main"
    )
    assert.strictEqual(readFileSync(join(repo, "merged.txt"), "utf8"), "from the thread\n")
    const after = await show(home, "tomerge")
    assert.strictEqual(after.status, "archived")
    await browser.close()
  })
})
