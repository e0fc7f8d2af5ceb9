// The board's columns answer "what needs me?", in a real Chromium against the real server with a
// command agent: a turn that changed files waits in Ready to review with its diff stat and its last
// message; one that changed nothing is Done, and so is the first once merged; Archived shows only
// when asked for; the keyboard moves through the cards, opens one, filters and shows its help; the
// tab's title counts what needs you, and a browser notification (stubbed) comes once turned on.
import { execFileSync } from "node:child_process"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import {
  addCommandProject,
  agentScript,
  cleanup,
  launchBrowser,
  signedInPage,
  spindle,
  startThread as startIn,
  startServer,
  tempDir,
  waitForCard
} from "./harness.ts"

describe("board triage", () => {
  let home: string
  let repo: string
  beforeAll(async () => {
    home = tempDir("board-triage-")
    // The agent writes a file named by its prompt, unless the prompt is "nothing"; "fail" fails;
    // "clash" and "commit-…" commit their file; "big" also writes 5,000 lines.
    const agent = agentScript([
      'if [ "$1" = "fail" ]; then echo broke >&2; exit 4; fi',
      'if [ "$1" != "nothing" ]; then printf "one\\ntwo\\n" > "$1.txt"; fi',
      'if [ "$1" = "big" ]; then seq 1 5000 > big.txt; fi',
      'case "$1" in clash|commit-*) git add "$1.txt" && git -c user.name=a -c user.email=a@spindle.invalid commit -qm "$1";; esac',
      'echo "did: $1"'
    ])
    await startServer(home, { args: ["--providers", "on"] })
    repo = await addCommandProject(home, "p1", agent)
  })
  afterAll(cleanup)

  /** `spindle thread start` in project p1, which must succeed. */
  const startThread = (threadId: string, prompt: string) => startIn(home, "p1", threadId, prompt)

  it("changes wait in Ready to review with their diff stat; no changes, or merged, is Done; the keyboard moves, opens and filters", async () => {
    const browser = await launchBrowser()
    const page = await signedInPage(browser, home)
    for (const [id, prompt] of [
      ["t1", "feature"],
      ["t2", "nothing"]
    ] as const) {
      await startThread(id, prompt)
    }
    await waitForCard(page, "t1", "review", 30_000)
    await waitForCard(page, "t2", "done", 30_000)
    const t1 = page.locator('[data-testid="card"][data-thread-id="t1"]')
    assert.strictEqual(await t1.getByTestId("card-changes").textContent(), "1 file +2 -0")
    assert.strictEqual(await t1.getByTestId("card-message").textContent(), "did: feature")
    assert.strictEqual(await t1.getByTestId("card-agent").textContent(), "command · sandboxed")
    assert.strictEqual(await page.getByTestId("column-archived").count(), 0, "archived only when asked")
    assert.strictEqual(
      await page.locator('[data-testid="card"][data-thread-id="t2"] [data-testid="card-changes"]').count(),
      0
    )

    // The keyboard: j selects the first card, j the next, k back; Enter opens the selected one.
    await page.keyboard.press("j")
    await page.locator(".card.selected").waitFor()
    const first = await page.locator(".card.selected").getAttribute("data-thread-id")
    await page.keyboard.press("j")
    const second = await page.locator(".card.selected").getAttribute("data-thread-id")
    assert.notStrictEqual(first, second)
    assert.sameMembers([first, second], ["t1", "t2"])
    await page.keyboard.press("k")
    assert.strictEqual(await page.locator(".card.selected").getAttribute("data-thread-id"), first)
    await page.keyboard.press("Enter")
    await page.waitForFunction((id) => location.hash === `#/thread/${id}`, first)
    await page.goto(page.url().replace(/#.*$/, "#/"))
    await page.getByTestId("board").waitFor()
    // `/` goes to the filter (typing there moves nothing), Escape leaves it; `?` shows the keys.
    await page.keyboard.press("/")
    assert.strictEqual(
      await page.evaluate(() => document.activeElement?.getAttribute("data-testid")),
      "filter-text"
    )
    await page.keyboard.type("j")
    assert.strictEqual(await page.getByTestId("filter-text").inputValue(), "j")
    assert.strictEqual(await page.locator(".card.selected").count(), 0, "j in the filter is text, not a move")
    await page.getByTestId("filter-text").fill("feat")
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="card"]').length === 1)
    await page.keyboard.press("Escape")
    await page.keyboard.press("?")
    assert.include(await page.getByTestId("help").textContent(), "next / previous thread")
    await page.keyboard.press("Escape")
    assert.strictEqual(await page.getByTestId("help").count(), 0)

    // The list view shows the same threads, a row each, with their column.
    await page.getByTestId("filter-text").fill("")
    await page.getByTestId("view-toggle").click()
    await page.getByTestId("list").waitFor()
    assert.sameMembers(
      await page
        .getByTestId("list-row")
        .evaluateAll((rows) =>
          rows.map((r) => `${r.getAttribute("data-thread-id")} ${r.children[1]?.textContent}`)
        ),
      ["t1 Ready to review", "t2 Done"]
    )
    await page.getByTestId("view-toggle").click()

    // Merged, its changes are in main: nothing is left to review.
    const merged = await spindle(home, ["thread", "merge", "t1", "--commit"])
    assert.strictEqual(merged.code, 0, merged.stderr)
    await waitForCard(page, "t1", "done", 30_000)
    await browser.close()
  })
  it("the tab's title counts the threads that need you; a browser notification, once turned on, for a thread ready to review", async () => {
    const browser = await launchBrowser()
    // The Notification API, stubbed in the page only: permission granted when asked, each one kept.
    const page = await signedInPage(browser, home, () => {
      const shown: Array<{ title: string; body: string }> = []
      ;(globalThis as any).shownNotifications = shown
      class FakeNotification {
        static permission = "default"
        static requestPermission = async () => {
          FakeNotification.permission = "granted"
          return "granted"
        }
        onclick: (() => void) | null = null
        constructor(title: string, options: { body: string }) {
          shown.push({ title, body: options.body })
        }
      }
      ;(globalThis as any).Notification = FakeNotification
    })
    await page.getByTestId("board").waitFor()
    await page.getByTestId("notify-toggle").click()
    await page.getByTestId("notify-on").check()
    assert.isTrue(await page.evaluate(() => (globalThis as any).Notification.permission === "granted"))
    const titleBefore = await page.title()
    await startThread("t3", "fail")
    await waitForCard(page, "t3", "needs-you", 30_000)
    await page.waitForFunction(() => document.title === "(1) Spindle")
    assert.strictEqual(titleBefore, "Spindle")
    await startThread("t4", "second")
    await waitForCard(page, "t4", "review", 30_000)
    await page.waitForFunction(() =>
      (globalThis as any).shownNotifications.some(
        (n: { title: string }) => n.title === "second: ready to review"
      )
    )
    const shown = await page.evaluate(
      () => (globalThis as any).shownNotifications as Array<{ title: string; body: string }>
    )
    assert.deepStrictEqual(
      shown.map((n) => n.title),
      ["fail: a turn or setup failed", "second: ready to review"],
      "each once, only for what changed after the page loaded"
    )
    assert.strictEqual(shown[1]?.body, "Its turn completed: 1 file +2 -0.")
    await browser.close()
  })
  it("a merge from the board that conflicts lists the files, changes nothing, and puts the thread in Needs you", async () => {
    const browser = await launchBrowser()
    const page = await signedInPage(browser, home)
    await startThread("t5", "clash")
    await waitForCard(page, "t5", "review", 30_000)
    // main adds the same file after the thread forked.
    writeFileSync(join(repo, "clash.txt"), "main's own\n")
    const git = (...args: Array<string>) =>
      execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@spindle.invalid", ...args], {
        cwd: repo,
        encoding: "utf8"
      })
    git("add", "clash.txt")
    git("commit", "-qm", "main adds clash.txt")
    const mainBefore = git("rev-parse", "refs/heads/main").trim()
    await page.locator('[data-testid="card"][data-thread-id="t5"]').click()
    await page.getByTestId("merge-strategy").selectOption("merge")
    await page.getByTestId("merge-preview").click()
    await page.getByTestId("merge-outcome").getByText("would conflict in").waitFor()
    assert.include(await page.getByTestId("merge-outcome").textContent(), "clash.txt")
    await page.getByTestId("merge").click()
    await page.getByTestId("notice").first().waitFor()
    assert.include(await page.getByTestId("notice").first().textContent(), "conflict")
    assert.strictEqual(git("rev-parse", "refs/heads/main").trim(), mainBefore, "main did not move")
    assert.strictEqual(git("status", "--porcelain"), "", "main's checkout is as it was")
    await page.goto(page.url().replace(/#.*$/, "#/"))
    await waitForCard(page, "t5", "needs-you")
    assert.strictEqual(
      await page.locator('[data-testid="card"][data-thread-id="t5"] [data-testid="card-need"]').textContent(),
      "merge into main conflicts: clash.txt"
    )
    await browser.close()
  })
  it("a 5,000-line diff: a file list, the first lines of the file and more on request, unified or side by side", async () => {
    const browser = await launchBrowser()
    const page = await signedInPage(browser, home)
    await startThread("t6", "big")
    await waitForCard(page, "t6", "review", 30_000)
    await page.locator('[data-testid="card"][data-thread-id="t6"]').click()
    await page.getByTestId("load-diff").click()
    await page.getByTestId("diff-tree").waitFor()
    assert.deepStrictEqual(
      await page
        .getByTestId("diff-file")
        .evaluateAll((files) => files.map((f) => f.getAttribute("data-path"))),
      ["big.txt"]
    )
    const big = page.locator('[data-testid="diff-file"][data-path="big.txt"]')
    assert.include(await big.locator("summary").textContent(), "+5000")
    // Only the first lines are in the page; more come on request.
    assert.strictEqual(await big.getByTestId("diff-line").count(), 399)
    await big.getByTestId("diff-more").click()
    assert.strictEqual(await big.getByTestId("diff-line").count(), 2399)
    await page.getByTestId("diff-split-toggle").click()
    await big.getByTestId("diff-split").waitFor()
    assert.isAbove(await big.getByTestId("diff-line").count(), 0)
    await browser.close()
  })
  it("an attempt's variants side by side, and Pick merges one and archives the rest", async () => {
    const browser = await launchBrowser()
    const page = await signedInPage(browser, home)
    const started = await spindle(home, [
      "thread",
      "start",
      "--project",
      "p1",
      "--prompt",
      "commit-variant",
      "--variants",
      "2",
      "--providers",
      "command,command",
      "--json"
    ])
    assert.strictEqual(started.code, 0, started.stderr)
    const { attemptId, threads } = JSON.parse(started.stdout) as {
      attemptId: string
      threads: ReadonlyArray<{ id: string }>
    }
    for (const t of threads) await waitForCard(page, t.id, "review", 30_000)
    await page.locator(`[data-testid="card"][data-thread-id="${threads[0]!.id}"]`).click()
    await page.getByTestId("attempt-link").click()
    await page.getByTestId("attempt-page").waitFor()
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="variant"]').length === 2)
    const diffs = await page.getByTestId("variant-diff").allTextContents()
    assert.deepStrictEqual(diffs, ["1 file(s) +2 -0", "1 file(s) +2 -0"])
    await page
      .locator(`[data-testid="variant"][data-thread-id="${threads[1]!.id}"] [data-testid="variant-pick"]`)
      .click()
    await page.getByTestId("attempt-pick-result").waitFor({ timeout: 30_000 })
    assert.include(await page.getByTestId("attempt-pick-result").textContent(), threads[0]!.id)
    const shown = await spindle(home, ["attempt", "show", attemptId, "--json"])
    assert.strictEqual((JSON.parse(shown.stdout) as { picked: string }).picked, threads[1]!.id)
    await browser.close()
  })
})
