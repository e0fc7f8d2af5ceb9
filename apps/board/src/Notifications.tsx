// What the board tells a person who is looking elsewhere: the tab's title counts the threads that
// need them, and, when they turn it on (off by default; the browser asks its permission then, once),
// a browser notification for each thread that enters a state they chose (an approval waits, a turn
// or setup failed, ready to review). The choice is this browser's, kept in its local storage. The
// projects' webhooks (`--notify-webhook`) show where they send and how their last delivery went;
// one that failed is flagged in the header.
import { notifyOutcomeText, type Project } from "@spindle/contracts"
import * as HashMap from "effect/HashMap"
import { useEffect, useRef, useState } from "preact/hooks"
import { useStore } from "./hooks.ts"
import { visibleThreads } from "./model.ts"
import { NOTIFY_EVENTS, type NotifyEvent, needsYouCount, notificationsDue } from "./notify.ts"
import type { BoardStore } from "./store.ts"

const KEY = "spindle.notifications"

interface Settings {
  readonly on: boolean
  readonly events: ReadonlyArray<NotifyEvent>
}

const load = (): Settings => {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) ?? "null") as Settings | null
    if (saved !== null && typeof saved.on === "boolean" && Array.isArray(saved.events)) return saved
  } catch {
    // A setting this page cannot read: the defaults.
  }
  return { on: false, events: NOTIFY_EVENTS.map((e) => e.id) }
}

/** A project's webhook and how its last delivery went, in words. */
const webhookLine = (project: Project): string => {
  const last = project.lastNotify
  const target = `${project.title}: ${project.notifyWebhook?.url}`
  return last === null ? `${target}, nothing sent yet` : `${target}, last ${notifyOutcomeText(last)}`
}

/** Keeps the tab's title and sends the browser notifications; renders the setting's control. */
export const Notifications = ({ store }: { store: BoardStore }) => {
  useStore(store)
  const [settings, setSettings] = useState(load)
  const [open, setOpen] = useState(false)
  const seen = useRef<ReturnType<typeof notificationsDue>["now"] | undefined>(undefined)
  useEffect(() => localStorage.setItem(KEY, JSON.stringify(settings)), [settings])
  useEffect(() => {
    const look = () => {
      const model = store.model
      if (model === undefined) return
      const threads = visibleThreads(model)
      const count = needsYouCount(threads)
      document.title = count === 0 ? "Spindle" : `(${count}) Spindle`
      const { now, due } = notificationsDue(seen.current, threads, new Set(settings.events))
      seen.current = now
      if (!settings.on || typeof Notification === "undefined" || Notification.permission !== "granted") return
      for (const note of due) {
        const shown = new Notification(note.title, { body: note.body, tag: `spindle-${note.threadId}` })
        shown.onclick = () => {
          focus()
          location.hash = `#/thread/${encodeURIComponent(note.threadId)}`
        }
      }
    }
    look()
    return store.subscribe(look)
  }, [store, settings])

  const turnOn = async (on: boolean) => {
    if (on && typeof Notification !== "undefined" && Notification.permission === "default") {
      await Notification.requestPermission()
    }
    setSettings({ ...settings, on })
  }
  const denied = typeof Notification === "undefined" || Notification.permission === "denied"
  const webhooks =
    store.model === undefined
      ? []
      : Array.from(HashMap.values(store.model.projects)).filter((p) => p.notifyWebhook !== null)
  const failing = webhooks.filter((p) => p.lastNotify?.ok === false).length
  return (
    <span class="notify-settings">
      <button
        type="button"
        class="link"
        data-testid="notify-toggle"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
      >
        Notifications {settings.on ? "on" : "off"}
      </button>
      {failing === 0 ? null : (
        <span class="chip warn" data-testid="webhook-failing" title="A project's webhook could not deliver">
          {failing === 1 ? "a webhook failed" : `${failing} webhooks failed`}
        </span>
      )}
      {open ? (
        <span class="notify-panel" data-testid="notify-panel">
          <label>
            <input
              type="checkbox"
              data-testid="notify-on"
              checked={settings.on}
              disabled={denied}
              onChange={(e) => void turnOn((e.currentTarget as HTMLInputElement).checked)}
            />{" "}
            Tell me in this browser {denied ? "(blocked by the browser)" : ""}
          </label>
          {NOTIFY_EVENTS.map((event) => (
            <label key={event.id}>
              <input
                type="checkbox"
                data-testid={`notify-${event.id}`}
                checked={settings.events.includes(event.id)}
                onChange={(e) =>
                  setSettings({
                    ...settings,
                    events: (e.currentTarget as HTMLInputElement).checked
                      ? [...settings.events, event.id]
                      : settings.events.filter((id) => id !== event.id)
                  })
                }
              />{" "}
              {event.label}
            </label>
          ))}
          {webhooks.length === 0 ? null : (
            <span class="webhooks">
              Project webhooks (set with <code>spindle project update --notify-webhook</code>):
              <ul>
                {webhooks.map((p) => (
                  <li
                    key={p.id}
                    data-testid="webhook-status"
                    class={p.lastNotify?.ok === false ? "fail-reason" : undefined}
                  >
                    {webhookLine(p)}
                  </li>
                ))}
              </ul>
            </span>
          )}
        </span>
      ) : null}
    </span>
  )
}
