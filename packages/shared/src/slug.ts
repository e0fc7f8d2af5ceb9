// File-name-safe slugs with no domain knowledge.

/** Lowercase ASCII letters, digits, '.', '_' and '-', at most `max` long; never empty. */
export const slugify = (text: string, max = 64): string => {
  const slug = text
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^[-.]+|[-.]+$/g, "")
    .slice(0, max)
    .replace(/[-.]+$/g, "")
  return slug === "" ? "x" : slug
}
