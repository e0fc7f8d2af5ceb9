// A thread's page as a conversation, in a real Chromium against the real server running real
// agents against loopback fake models: a Codex turn shows the user's prompt, a command with its exit
// code and the agent's message; a Claude Code turn (through its ACP adapter) shows a file change
// with its diff; a follow-up sent with Ctrl+Enter becomes the next turn; the agent's Markdown is
// rendered without running any HTML in it.
import { rmSync } from "node:fs"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { startFakeAnthropic } from "../../server/src/testing/fakeAnthropic.ts"
import { type FakeModel, startFakeModel } from "../../server/src/testing/fakeModel.ts"
import { claudeEnv, PIXEL_PNG } from "../../server/src/testing/providers.ts"
import {
  cleanup,
  codexArgs,
  codexHomeDir,
  gitRepo,
  launchBrowser,
  signedInPage,
  spindle,
  startServer,
  startThread,
  tempDir,
  waitForCard
} from "./harness.ts"

describe("board: the thread page is a conversation", () => {
  let home: string
  let codexHome: string
  let model: FakeModel
  let closeAnthropic: () => Promise<void>
  beforeAll(async () => {
    home = tempDir("board-conversation-")
    model = await startFakeModel()
    const anthropic = await startFakeAnthropic()
    closeAnthropic = anthropic.close
    codexHome = codexHomeDir()
    await startServer(home, {
      args: [
        ...codexArgs(model),
        ...Object.entries(claudeEnv(anthropic, tempDir("board-claude-"))).flatMap(([k, v]) => [
          "--agent-env",
          `${k}=${v}`
        ])
      ],
      env: { CODEX_HOME: codexHome }
    })
    for (const [id, extra] of [
      ["p1", []],
      ["p2", []]
    ] as const) {
      const added = await spindle(home, ["project", "add", await gitRepo(), "--id", id, ...extra])
      assert.strictEqual(added.code, 0, added.stderr)
    }
  })
  afterAll(async () => {
    await cleanup()
    await closeAnthropic()
    await model.close()
    rmSync(codexHome, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })
  })

  it("prompt, command with its exit code, message, file change with its diff, and a follow-up with Ctrl+Enter", async () => {
    const browser = await launchBrowser()
    const page = await signedInPage(browser, home)
    const codex = await spindle(home, [
      "thread",
      "start",
      "--project",
      "p1",
      "--thread-id",
      "t1",
      "--prompt",
      "Check it. [[run: echo checked; exit 3]]"
    ])
    assert.strictEqual(codex.code, 0, codex.stderr)
    await waitForCard(page, "t1", "done", 60_000)
    await page.locator('[data-testid="card"][data-thread-id="t1"]').click()
    const conversation = page.getByTestId("conversation")
    await conversation.getByTestId("turn-end").getByText("turn completed").waitFor({ timeout: 30_000 })
    assert.include(await conversation.getByTestId("prompt").first().textContent(), "Check it.")
    const command = conversation.getByTestId("item-command")
    assert.include(await command.textContent(), "echo checked")
    assert.strictEqual(await command.getByTestId("item-exit").textContent(), "exit 3")
    await command.locator("summary").click()
    assert.include(await command.locator("pre").textContent(), "checked")
    assert.include(await conversation.getByTestId("item-message").last().textContent(), "echo checked")

    // A follow-up, sent with Ctrl+Enter, is the next turn, under its own prompt.
    await page
      .getByTestId("follow-up")
      .fill(
        "And now? [[say: It **failed** with <b>exit 3</b>; see [the docs](https://example.invalid/docs) or [this](javascript:alert(1)).]]"
      )
    await page.getByTestId("follow-up").press("Control+Enter")
    const second = page.getByTestId("turn").nth(1)
    await second.getByTestId("turn-end").getByText("turn completed").waitFor({ timeout: 30_000 })
    assert.include(await second.getByTestId("prompt").textContent(), "And now?")
    assert.strictEqual(await page.getByTestId("follow-up").inputValue(), "", "the composer is emptied")
    // The message's Markdown: bold and a safe link rendered, the HTML and the javascript: link as text.
    const message = second.getByTestId("item-message").last()
    assert.strictEqual(await message.locator("strong").textContent(), "failed")
    assert.strictEqual(await message.locator("b").count(), 0, "no HTML from the agent")
    assert.include(await message.textContent(), "<b>exit 3</b>")
    const links = await message
      .locator("a")
      .evaluateAll((as) =>
        as.map((a) => `${a.getAttribute("href")} ${a.getAttribute("rel")} ${a.getAttribute("target")}`)
      )
    assert.deepStrictEqual(links, ["https://example.invalid/docs noopener noreferrer _blank"])
    assert.include(await message.textContent(), "[this](javascript:alert(1))")

    // Claude Code writes a file through Spindle: a file change, whose diff opens under it.
    await page.goto(page.url().replace(/#.*$/, "#/"))
    const claude = await spindle(home, [
      "thread",
      "start",
      "--project",
      "p2",
      "--provider",
      "claude",
      "--runtime-mode",
      "full-access",
      "--thread-id",
      "t2",
      "--prompt",
      'Write it. [[call: acp.Write {"file_path":"$CWD/notes.txt","content":"from claude\\n"}]]'
    ])
    assert.strictEqual(claude.code, 0, claude.stderr)
    await waitForCard(page, "t2", "review", 60_000)
    await page.locator('[data-testid="card"][data-thread-id="t2"]').click()
    const files = page.getByTestId("item-files")
    await files.waitFor({ timeout: 30_000 })
    assert.include(await files.textContent(), "notes.txt")
    await files.locator("summary").click()
    await files.getByRole("button", { name: /Show the diff/ }).click()
    await files.locator(".diff-table").getByText("+from claude").waitFor()
    await browser.close()
  })

  it("files dropped, pasted and picked in the composer go with the follow-up; the prompt lists them", async () => {
    const browser = await launchBrowser()
    const page = await signedInPage(browser, home)
    await startThread(home, "p1", "t3", "First.")
    await waitForCard(page, "t3", "done", 60_000)
    await page.locator('[data-testid="card"][data-thread-id="t3"]').click()
    await page.getByTestId("turn-end").getByText("turn completed").waitFor({ timeout: 30_000 })
    const composer = page.getByTestId("composer")
    // A text file dropped on the composer, a screenshot pasted into the prompt, a file picked.
    await composer.evaluate((form) => {
      const files = new DataTransfer()
      files.items.add(new File(["# plan\nship the board\n"], "plan.md", { type: "text/markdown" }))
      form.dispatchEvent(new DragEvent("drop", { dataTransfer: files, bubbles: true, cancelable: true }))
    })
    await page.getByTestId("follow-up").evaluate((area, png) => {
      const files = new DataTransfer()
      const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0))
      files.items.add(new File([bytes], "screen.png", { type: "image/png" }))
      area.dispatchEvent(
        new ClipboardEvent("paste", { clipboardData: files, bubbles: true, cancelable: true })
      )
    }, PIXEL_PNG)
    await page.getByTestId("attach-input").setInputFiles({
      name: "data.json",
      mimeType: "application/json",
      buffer: Buffer.from('{"leftOut":"zq9xv"}')
    })
    // Not an attachment: said at once, and left out.
    await page.getByTestId("attach-input").setInputFiles({
      name: "tool.bin",
      mimeType: "application/octet-stream",
      buffer: Buffer.from([0, 1, 2])
    })
    await page.getByTestId("notice").getByText("tool.bin: attach an image").waitFor()
    const chips = page.getByTestId("attachment")
    await chips.nth(2).waitFor()
    assert.deepStrictEqual(
      (await chips.allTextContents()).map((t) => t.split(" ")[0]),
      ["plan.md", "screen.png", "data.json"]
    )
    // One removed before sending.
    await page.getByRole("button", { name: "Remove data.json" }).click()
    await page.getByTestId("follow-up").fill("Read these.")
    const asked = model.requests.length
    await page.getByTestId("follow-up").press("Control+Enter")
    const second = page.getByTestId("turn").nth(1)
    await second.getByTestId("turn-end").getByText("turn completed").waitFor({ timeout: 30_000 })
    assert.deepStrictEqual(await second.getByTestId("prompt-file").allTextContents(), [
      "plan.md",
      "screen.png"
    ])
    assert.strictEqual(await chips.count(), 0, "the composer is emptied")
    const sent = JSON.stringify(model.requests.slice(asked).map((r) => r.input))
    assert.include(sent, "attached file plan.md")
    assert.include(sent, "ship the board")
    assert.include(sent, "input_image")
    assert.notInclude(sent, "zq9xv")
    await browser.close()
  })
})
