// The board over HTTP: the page at `/` (or a sign-in hint without a session), its bundled script
// and styles, `/signin?code=…` (trades a one-time code for the session cookie, then redirects to
// `/` so the code does not linger in the address bar) and `POST /signout`. Everything the page
// shows comes from /ws, but for `/board/snapshot`: the state the page starts from, which the page's
// HTML preloads so it is fetched while the script loads (the page then subscribes from its
// sequence). The Host/Origin guard (http/) runs first.
import { Snapshot, SpindleError } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as Schema from "effect/Schema"
import { ClientTokens, hasScope } from "../auth/ClientTokens.ts"
import { Engine } from "../engine/Engine.ts"
import { BoardAssets } from "./BoardAssets.ts"
import { BoardSignIn } from "./BoardSignIn.ts"
import { boardCookieName, boardCookieToken, isSameOrigin } from "./boardCookie.ts"

/** The page may load its own script, styles and data, and nothing else, from nowhere else. */
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY"
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

const BOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Spindle</title>
<link rel="stylesheet" href="/assets/board.css">
<link rel="preload" href="/board/snapshot" as="fetch" crossorigin>
<script type="module" src="/assets/board.js"></script>
</head>
<body><div id="app"></div></body>
</html>
`

/** A small page without script: why the board is not shown, and what to do. */
const messagePage = (title: string, message: string, status: number) =>
  HttpServerResponse.text(
    `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Spindle: ${escapeHtml(title)}</title>
<link rel="stylesheet" href="/assets/board.css"></head>
<body><main class="message-page"><h1>${escapeHtml(title)}</h1><p class="message">${escapeHtml(message)}</p>
<p>In a terminal on this machine, run <code>spindle open</code>: it prints a sign-in link that works once, within a minute.</p></main></body></html>
`,
    {
      status,
      contentType: "text/html; charset=utf-8",
      headers: { ...SECURITY_HEADERS, "cache-control": "no-store" }
    }
  )

const asset = (
  body: Uint8Array,
  contentType: string,
  etag: string,
  request: HttpServerRequest.HttpServerRequest
) =>
  request.headers["if-none-match"] === etag
    ? HttpServerResponse.empty({ status: 304, headers: { etag } })
    : HttpServerResponse.uint8Array(body, {
        contentType,
        headers: { ...SECURITY_HEADERS, etag, "cache-control": "no-cache" }
      })

/** 401 without a session, 403 with one that may not do this; JSON with a reason, never cached. */
const refused = (session: unknown, unauthorized: string, forbidden: string) =>
  HttpServerResponse.jsonUnsafe(
    session === undefined
      ? { reason: "unauthorized", message: unauthorized }
      : { reason: "forbidden", message: forbidden },
    { status: session === undefined ? 401 : 403, headers: { "cache-control": "no-store" } }
  )

export const boardRoutes = HttpRouter.use((router) =>
  Effect.gen(function* () {
    const tokens = yield* ClientTokens
    const signIn = yield* BoardSignIn
    const assets = yield* BoardAssets
    const engine = yield* Engine

    /** The board session the request's cookie holds, if it is a live client token. */
    const sessionOf = (request: HttpServerRequest.HttpServerRequest) => {
      const token = boardCookieToken(request.cookies, request.headers.host)
      return token === undefined
        ? Effect.succeed(undefined)
        : tokens.resolve(token).pipe(Effect.orElseSucceed(() => undefined))
    }

    yield* router.add(
      "GET",
      "/",
      Effect.gen(function* () {
        const request = yield* HttpServerRequest.HttpServerRequest
        if ((yield* sessionOf(request)) === undefined) {
          return messagePage("Sign in to Spindle", "This browser is not signed in to this server.", 401)
        }
        // The browser asks for the bundle right after: start building it now.
        yield* Effect.forkDetach(
          Effect.ignore(assets.bundle, {
            log: "Debug",
            message: "Could not build the board's assets ahead of a request"
          })
        )
        return HttpServerResponse.text(BOARD_HTML, {
          contentType: "text/html; charset=utf-8",
          headers: { ...SECURITY_HEADERS, "cache-control": "no-store" }
        })
      })
    )

    yield* router.add(
      "GET",
      "/board/session",
      Effect.gen(function* () {
        const session = yield* sessionOf(yield* HttpServerRequest.HttpServerRequest)
        return HttpServerResponse.jsonUnsafe(
          session === undefined ? { signedIn: false } : { signedIn: true, tokenId: session.tokenId },
          { status: session === undefined ? 401 : 200, headers: { "cache-control": "no-store" } }
        )
      })
    )

    // The whole state the board starts from, as `orchestration.getSnapshot` answers it (read scope).
    const encodeSnapshot = Schema.encodeEffect(Snapshot)
    yield* router.add(
      "GET",
      "/board/snapshot",
      Effect.gen(function* () {
        const session = yield* sessionOf(yield* HttpServerRequest.HttpServerRequest)
        if (session === undefined || !hasScope(session, "read")) {
          return refused(
            session,
            "Not signed in to the board: run 'spindle open'.",
            "This board session cannot read threads."
          )
        }
        const snapshot = yield* Effect.flatMap(engine.snapshot, encodeSnapshot)
        return HttpServerResponse.text(JSON.stringify(snapshot), {
          contentType: "application/json",
          headers: { ...SECURITY_HEADERS, "cache-control": "no-store" }
        })
      }).pipe(
        Effect.catch(() =>
          Effect.succeed(
            HttpServerResponse.jsonUnsafe(
              { reason: "internal", message: "The server failed; see its log." },
              { status: 500, headers: { "cache-control": "no-store" } }
            )
          )
        )
      )
    )

    const serveAsset = (kind: "js" | "css") =>
      Effect.gen(function* () {
        const request = yield* HttpServerRequest.HttpServerRequest
        const bundle = yield* assets.bundle
        return asset(
          kind === "js" ? bundle.js : bundle.css,
          kind === "js" ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8",
          `"${bundle.version}-${kind}"`,
          request
        )
      }).pipe(
        Effect.catch((error: SpindleError) =>
          Effect.succeed(
            HttpServerResponse.text(error.message, { status: 500, headers: { "cache-control": "no-store" } })
          )
        )
      )
    yield* router.add("GET", "/assets/board.js", serveAsset("js"))
    yield* router.add("GET", "/assets/board.css", serveAsset("css"))

    yield* router.add(
      "GET",
      "/signin",
      Effect.gen(function* () {
        const request = yield* HttpServerRequest.HttpServerRequest
        // A navigation carries no Origin; a script on another page that tries the link does.
        if (request.headers.origin !== undefined && !isSameOrigin(request.headers)) {
          return messagePage("Sign-in refused", "A sign-in link only works when opened directly.", 403)
        }
        const code = new URL(request.url, "http://localhost").searchParams.get("code") ?? undefined
        const current = yield* sessionOf(request)
        return yield* signIn.redeem(code, current?.tokenId).pipe(
          Effect.map((session) => {
            const home = HttpServerResponse.redirect("/", {
              status: 303,
              headers: { ...SECURITY_HEADERS, "cache-control": "no-store" }
            })
            return session._tag === "Kept"
              ? home
              : home.pipe(
                  HttpServerResponse.setCookieUnsafe(boardCookieName(request.headers.host), session.token, {
                    httpOnly: true,
                    sameSite: "strict",
                    path: "/",
                    maxAge: `${session.maxAgeSeconds} seconds`
                  })
                )
          }),
          Effect.catch((error) =>
            Effect.succeed(
              messagePage(
                "Sign-in refused",
                error instanceof SpindleError ? error.message : "The server failed; see its log.",
                error instanceof SpindleError && error.reason === "unauthorized" ? 401 : 500
              )
            )
          )
        )
      })
    )

    yield* router.add(
      "POST",
      "/signout",
      Effect.gen(function* () {
        const request = yield* HttpServerRequest.HttpServerRequest
        const session = yield* sessionOf(request)
        if (session === undefined || !isSameOrigin(request.headers)) {
          return refused(session, "Not signed in to the board.", "Signing out needs the board's own Origin.")
        }
        // A sign-out that did not revoke must say so: the cookie (kept for a retry) still works.
        const revoked = yield* Effect.exit(tokens.revoke(session.tokenId))
        if (revoked._tag === "Failure") {
          yield* Effect.logWarning("Board sign-out could not revoke its token", revoked.cause).pipe(
            Effect.annotateLogs({ tokenId: session.tokenId })
          )
          return HttpServerResponse.jsonUnsafe(
            {
              reason: "internal",
              message: `Signing out failed: this browser's session (${session.tokenId}) could not be revoked and still works. Try again, or run 'spindle token revoke ${session.tokenId}'.`
            },
            { status: 500, headers: { "cache-control": "no-store" } }
          )
        }
        return HttpServerResponse.empty({ status: 204 }).pipe(
          HttpServerResponse.expireCookieUnsafe(boardCookieName(request.headers.host), { path: "/" })
        )
      })
    )
  })
)
