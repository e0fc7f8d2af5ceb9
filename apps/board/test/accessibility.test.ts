// The board's accessibility, checked by axe-core (an npm devDependency) inside the real Chromium, in
// the light and the dark theme (the theme follows the system's setting): every view a user works in
// (the columns, the list, the keys' help, the notification settings, a thread's conversation, its
// diff, its timeline, the new-thread form) has no serious or critical violation of WCAG 2.1 A/AA,
// contrast included; a control reached with the keyboard shows a visible focus ring. A project
// webhook that fails is flagged in the header and said in the notification settings.
import { readFileSync } from "node:fs"
import { createServer, type Server } from "node:http"
import { createRequire } from "node:module"
import type { AddressInfo } from "node:net"
import { join } from "node:path"
import type { Page } from "playwright-core"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import {
  addCommandProject,
  agentScript,
  cleanup,
  launchBrowser,
  REPO_ROOT,
  screenshotPath,
  signedInPage,
  spindle,
  startServer,
  startThread,
  tempDir,
  waitForCard
} from "./harness.ts"

const AXE = readFileSync(
  createRequire(join(REPO_ROOT, "package.json")).resolve("axe-core/axe.min.js"),
  "utf8"
)

interface Violation {
  readonly id: string
  readonly impact: string | null
  readonly help: string
  readonly nodes: ReadonlyArray<{ readonly target: ReadonlyArray<string>; readonly failureSummary?: string }>
}

/** axe-core's serious and critical WCAG 2.1 A/AA violations on the page as it is now. */
const seriousViolations = async (page: Page): Promise<ReadonlyArray<string>> => {
  if (!(await page.evaluate(() => "axe" in globalThis))) await page.evaluate(AXE)
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as any).axe
    const result = await axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
      resultTypes: ["violations"]
    })
    return result.violations as ReadonlyArray<Violation>
  })
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help}\n${v.nodes
          .slice(0, 5)
          .map((n) => `  ${n.target.join(" ")}: ${n.failureSummary ?? ""}`)
          .join("\n")}`
    )
}

describe("board accessibility", () => {
  let home: string
  let attempt: string
  let receiver: Server
  beforeAll(async () => {
    home = tempDir("board-a11y-")
    // Commits a file named by its prompt and says so in Markdown, unless the prompt is "fail".
    const agent = agentScript([
      'if [ "$1" = "fail" ]; then echo broke >&2; exit 4; fi',
      'printf "one\\ntwo\\nconst x = 1 // three\\n" > "$1.ts"',
      'git add "$1.ts" && git -c user.name=a -c user.email=a@spindle.invalid commit -qm "$1"',
      'echo "Wrote **$1.ts**: see [the docs](https://example.invalid/docs) and \\`code\\`."'
    ])
    await startServer(home, { args: ["--providers", "on"] })
    // The project's webhook goes to a receiver that refuses every delivery (HTTP 410, not retried).
    receiver = createServer((request, response) => {
      request.resume()
      request.on("end", () => response.writeHead(410).end())
    })
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve))
    const { port } = receiver.address() as AddressInfo
    await addCommandProject(home, "p1", agent, ["--notify-webhook", `http://127.0.0.1:${port}/hook`])
    await startThread(home, "p1", "t1", "feature")
    await startThread(home, "p1", "t2", "fail")
    const variants = await spindle(home, [
      "thread",
      "start",
      "--project",
      "p1",
      "--prompt",
      "tries",
      "--variants",
      "2",
      "--json"
    ])
    assert.strictEqual(variants.code, 0, variants.stderr)
    attempt = (JSON.parse(variants.stdout) as { attemptId: string }).attemptId
  })
  afterAll(async () => {
    await cleanup()
    receiver.close()
  })

  for (const scheme of ["light", "dark"] as const) {
    it(`every view has no serious violation in the ${scheme} theme`, async () => {
      const browser = await launchBrowser()
      const page = await signedInPage(browser, home)
      await page.emulateMedia({ colorScheme: scheme })
      await waitForCard(page, "t1", "review", 30_000)
      await waitForCard(page, "t2", "needs-you", 30_000)
      const found: Array<string> = []
      const check = async (view: string) => {
        for (const violation of await seriousViolations(page)) found.push(`${view}: ${violation}`)
      }
      await check("the columns")
      await page.screenshot({ path: screenshotPath(`board-${scheme}.png`) })
      await page.keyboard.press("?")
      await page.getByTestId("help").waitFor()
      await check("the keys' help")
      await page.keyboard.press("Escape")
      // The webhook's failure shows in the header, and in the settings with what it answered.
      await page.getByTestId("webhook-failing").waitFor({ timeout: 30_000 })
      await page.getByTestId("notify-toggle").click()
      assert.include(await page.getByTestId("webhook-status").textContent(), "FAILED after 1 attempt(s)")
      assert.include(await page.getByTestId("webhook-status").textContent(), "HTTP 410")
      await check("the notification settings")
      await page.getByTestId("notify-toggle").click()
      await page.getByTestId("view-toggle").click()
      await page.getByTestId("list").waitFor()
      await check("the list")
      await page.getByTestId("view-toggle").click()
      await page.getByTestId("new-thread").click()
      await check("the new-thread form")
      await page.getByTestId("new-thread").click()

      await page.locator('[data-testid="card"][data-thread-id="t1"]').click()
      await page.getByTestId("conversation").getByTestId("turn-end").waitFor()
      await check("a thread's conversation")
      await page.screenshot({ path: screenshotPath(`thread-${scheme}.png`), fullPage: true })
      await page.getByTestId("load-diff").click()
      await page.locator(".diff-table").first().waitFor()
      await check("a thread's diff")
      await page.getByTestId("merge-preview").click()
      await page.getByTestId("merge-outcome").waitFor()
      await check("a merge's preview")
      await page.getByRole("tab", { name: /timeline/i }).click()
      await check("a thread's timeline")

      await page.goto(page.url().replace(/#.*$/, "#/thread/t2"))
      await page.getByTestId("thread-page").waitFor()
      await check("a failed thread")

      await page.goto(page.url().replace(/#.*$/, `#/attempt/${attempt}`))
      await page.getByTestId("variant").nth(1).waitFor()
      await check("an attempt's variants")
      assert.deepStrictEqual(found, [], found.join("\n"))
      await browser.close()
    })
  }

  it("a control reached with the keyboard shows a visible focus ring", async () => {
    const browser = await launchBrowser()
    const page = await signedInPage(browser, home)
    await page.keyboard.press("Tab")
    const ring = await page.evaluate(() => {
      const focused = document.activeElement as HTMLElement | null
      if (focused === null || focused === document.body) return null
      const style = getComputedStyle(focused)
      return {
        tag: focused.tagName,
        outline: style.outlineStyle,
        width: Number.parseFloat(style.outlineWidth)
      }
    })
    assert.isNotNull(ring, "Tab moves the focus to a control")
    assert.notStrictEqual(ring!.outline, "none")
    assert.isAtLeast(ring!.width, 2)
    await browser.close()
  })
})
