// Where a project's repository is on each host. A project registered by a host lists that host's
// checkout first; one from before hosts were recorded lists none, and its workspaceRoot serves
// whichever host runs.
import type { Project } from "@spindle/contracts"

/** The project's checkout on `host`, or undefined when that host has none. */
export const checkoutOn = (project: Project, host: string | undefined): string | undefined => {
  if (project.checkouts.length === 0 || host === undefined) return project.workspaceRoot
  return project.checkouts.find((checkout) => checkout.host === host)?.workspaceRoot
}

/** Whether `host` holds a checkout of the project (so its threads may run there). */
export const hasCheckoutOn = (project: Project, host: string | undefined) =>
  checkoutOn(project, host) !== undefined

/**
 * The project as `host` works with it: its workspaceRoot that host's checkout. A host without one
 * sees the project as recorded (and makes nothing for it: hasCheckoutOn).
 */
export const projectOn = (project: Project, host: string | undefined): Project => {
  const root = checkoutOn(project, host)
  return root === undefined || root === project.workspaceRoot ? project : { ...project, workspaceRoot: root }
}
