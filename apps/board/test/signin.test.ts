// Signing in to the board through `spindle open`'s link, in a real Chromium against the real
// server: the cookie's attributes, the address bar without the code, a code that works once, and
// requests from a foreign Origin refused (HTTP and the /ws upgrade alike).
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { WebSocket } from "ws"
import {
  cleanup,
  launchBrowser,
  type Server,
  signedInPage,
  signInLink,
  startServer,
  tempDir
} from "./harness.ts"

describe("board sign-in", () => {
  let server: Server
  let home: string
  beforeAll(async () => {
    home = tempDir("board-home-")
    server = await startServer(home)
  })
  afterAll(cleanup)

  it("spindle open's link signs the browser in with an HttpOnly, SameSite=Strict cookie and ends at / without the code", async () => {
    const browser = await launchBrowser()
    const page = await signedInPage(browser, home)
    assert.strictEqual(page.url(), `${server.url}/`)
    const cookies = await page.context().cookies()
    const cookie = cookies.find((c) => c.name === `spindle_board_${server.port}`)
    assert.isDefined(cookie)
    assert.isTrue(cookie!.httpOnly)
    assert.strictEqual(cookie!.sameSite, "Strict")
    assert.match(cookie!.value, /^spc_/)
    // The page's script cannot read it.
    assert.strictEqual(await page.evaluate(() => document.cookie), "")
    // A new client token with read and operate, not admin.
    const session = await page.evaluate(() =>
      fetch("/board/session").then((r) => r.json() as Promise<{ signedIn: boolean }>)
    )
    assert.isTrue(session.signedIn)
    await page.getByTestId("board").waitFor()
  })

  it("a code works once; a second use, an unknown code and no code are refused", async () => {
    const browser = await launchBrowser()
    const link = await signInLink(home)
    const first = await browser.newPage()
    const ok = await first.goto(link.url)
    assert.strictEqual(ok?.status(), 200)
    assert.strictEqual(first.url(), `${server.url}/`)

    const second = await (await browser.newContext()).newPage()
    const again = await second.goto(link.url)
    assert.strictEqual(again?.status(), 401)
    assert.include(await second.textContent("body"), "already used")
    assert.strictEqual((await second.context().cookies()).length, 0)
    // Without a session, / shows how to sign in, not the board.
    const home401 = await second.goto(`${server.url}/`)
    assert.strictEqual(home401?.status(), 401)
    assert.include(await second.textContent("body"), "spindle open")

    const unknown = await fetch(`${server.url}/signin?code=${"A".repeat(43)}`, { redirect: "manual" })
    assert.strictEqual(unknown.status, 401)
    const none = await fetch(`${server.url}/signin`, { redirect: "manual" })
    assert.strictEqual(none.status, 401)
  })

  it("a foreign Origin is refused: on any route, on /signin, on /signout and on the /ws upgrade with the cookie", async () => {
    const browser = await launchBrowser()
    const page = await signedInPage(browser, home)
    const cookie = (await page.context().cookies()).find((c) => c.name === `spindle_board_${server.port}`)!
    const cookieHeader = `${cookie.name}=${cookie.value}`

    const foreign = await fetch(`${server.url}/`, {
      headers: { origin: "http://evil.example", cookie: cookieHeader }
    })
    assert.strictEqual(foreign.status, 403)
    const link = await signInLink(home)
    const signin = await fetch(link.url, { headers: { origin: "http://evil.example" }, redirect: "manual" })
    assert.strictEqual(signin.status, 403)
    // Another port on the same host passes the Host/Origin guard but is not the board.
    const otherPort = await fetch(`${server.url}/signout`, {
      method: "POST",
      headers: { origin: "http://127.0.0.1:1", cookie: cookieHeader }
    })
    assert.strictEqual(otherPort.status, 403)
    const noCookie = await fetch(`${server.url}/signout`, { method: "POST", headers: { origin: server.url } })
    assert.strictEqual(noCookie.status, 401)

    const upgrade = (origin: string) =>
      new Promise<number>((resolveUpgrade) => {
        const ws = new WebSocket(`${server.url.replace("http", "ws")}/ws`, {
          headers: { origin, cookie: cookieHeader }
        })
        ws.on("open", () => {
          ws.close()
          resolveUpgrade(101)
        })
        ws.on("unexpected-response", (_req, res) => resolveUpgrade(res.statusCode ?? 0))
        ws.on("error", () => resolveUpgrade(-1))
      })
    assert.strictEqual(await upgrade("http://127.0.0.1:1"), 403)
    assert.strictEqual(await upgrade("http://evil.example"), 403)
    assert.strictEqual(await upgrade(server.url), 101)

    // The page's own sign-out revokes the session: the board then says so.
    // The page posts /signout, then reloads at the same URL: wait for the signed-out page itself.
    await page.getByRole("button", { name: "Sign out" }).click()
    await page.getByText("spindle open").first().waitFor({ timeout: 15_000 })
    assert.strictEqual(page.url(), `${server.url}/`)
    assert.strictEqual(await upgrade(server.url), 401)
  })
})
