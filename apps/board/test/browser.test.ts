// `npm ci` + `npm test` need no browser on the machine: with the system's Chromium hidden, the
// tests unpack and drive the one inside the @sparticuz/chromium package from the npm registry.
import { chromium } from "playwright-core"
import { afterEach, assert, describe, it } from "vitest"
import { chooseBrowser } from "./browser.ts"
import { REPO_ROOT } from "./harness.ts"

describe("the tests' browser", () => {
  const named = process.env.SPINDLE_TEST_CHROMIUM
  afterEach(() => {
    if (named === undefined) delete process.env.SPINDLE_TEST_CHROMIUM
    else process.env.SPINDLE_TEST_CHROMIUM = named
  })

  it("without a system Chromium, unpacks the npm package's and renders a page with it", async () => {
    process.env.SPINDLE_TEST_CHROMIUM = "/nonexistent/chromium"
    const choice = await chooseBrowser(REPO_ROOT)
    assert.strictEqual(choice.source, "npm package")
    assert.include(choice.executablePath, "node_modules/.cache/spindle-chromium-")
    const browser = await chromium.launch({
      executablePath: choice.executablePath,
      env: { ...process.env, ...choice.env },
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", ...choice.args],
      timeout: 30_000
    })
    try {
      const page = await browser.newPage()
      await page.setContent(
        "<main><h1>Spindle</h1><p id='n'></p></main><script>n.textContent = 6 * 7</script>"
      )
      assert.strictEqual(await page.textContent("h1"), "Spindle")
      assert.strictEqual(await page.textContent("#n"), "42")
    } finally {
      await browser.close()
    }
  })

  it("prefers the browser SPINDLE_TEST_CHROMIUM names when it exists", async () => {
    process.env.SPINDLE_TEST_CHROMIUM = process.execPath
    const choice = await chooseBrowser(REPO_ROOT)
    assert.deepStrictEqual([choice.source, choice.executablePath], ["system", process.execPath])
  })
})
