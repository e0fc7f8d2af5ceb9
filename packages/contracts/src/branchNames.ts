// What makes a new branch's name unable to shadow anything, decided from the name alone: no name
// git reads as an object id, a special ref or another namespace, and no name that looks like a
// different one. What depends on the repository (its remotes, tags and branches) is checked by
// the server. Pure functions, no I/O.

/**
 * A name git's revision parser can read as an object: 7 or more hex digits (git's default
 * abbreviation, and what it prints), whole or after `-g` as `git describe` writes it. A ref of
 * such a name wins over the abbreviated object in git's lookup, so it would redirect anyone who
 * pastes a short commit id. Shorter hex words (`cafe`, `add`) are left alone: git prints no
 * abbreviation under 7 digits unless configured to. Slash-separated components are never read
 * as object ids, so `spindle/1a2b3c4d` (Spindle's own default) stays usable.
 */
export const looksLikeObjectName = (name: string): boolean =>
  /^[0-9a-f]{7,}$/i.test(name) || /-g[0-9a-f]{7,}$/i.test(name)

/** Git's special refs (files in the git dir that revision lookup tries before any branch). */
const SPECIAL = /^(?:HEAD|AUTO_MERGE|[A-Z0-9_-]*_HEAD)$/

/** Namespaces a name under refs/heads would appear to belong to. `origin` is the usual remote. */
const NAMESPACES = ["refs", "remotes", "heads", "tags", "origin"] as const

// Characters that change nothing visible or reorder text: format (Cf, which holds zero-width
// and bidi controls), controls, separators other than none at all, default-ignorables
// (variation selectors, Hangul fillers), private use, lone surrogates and unassigned code points.
const INVISIBLE =
  /[\p{Cc}\p{Cf}\p{Z}\p{Co}\p{Cs}\p{Cn}\p{Default_Ignorable_Code_Point}\p{Bidi_Control}\ufffd]/u

// Scripts whose letters include look-alikes of Latin ones (а/a, ο/o, ս/u, Ꭺ/A).
const LATIN = /\p{Script=Latin}/u
const LOOKALIKE_SCRIPTS = [
  ["Cyrillic", /\p{Script=Cyrillic}/u],
  ["Greek", /\p{Script=Greek}/u],
  ["Armenian", /\p{Script=Armenian}/u],
  ["Cherokee", /\p{Script=Cherokee}/u]
] as const

const codePoint = (char: string) =>
  `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`

/** Why `name` may not be a new branch's name (a sentence saying what to use instead), or undefined. */
export const branchNameProblem = (name: string): string | undefined => {
  const invisible = INVISIBLE.exec(name)
  if (invisible !== null)
    return `it contains ${codePoint(invisible[0])}, an invisible, spacing or text-direction character that makes different names look the same. Type the name without it`
  if (name.normalize("NFKC") !== name)
    return `it contains compatibility or decomposed characters (fullwidth letters, ligatures, combining accents) that look like other text. Use the plain form '${name.normalize("NFKC")}'`
  if (LATIN.test(name)) {
    for (const [script, pattern] of LOOKALIKE_SCRIPTS) {
      const mixed = pattern.exec(name)
      if (mixed !== null)
        return `it mixes Latin letters with ${script} ones ('${mixed[0]}' is ${codePoint(mixed[0])}), which look alike. Write it in one script`
    }
  }
  if (SPECIAL.test(name))
    return `${name} is one of git's special refs (HEAD, FETCH_HEAD, ORIG_HEAD, MERGE_HEAD, ...), which git reads before any branch. Choose another name, for example spindle/${name.toLowerCase().replace(/_/g, "-")}`
  const first = name.split("/")[0] ?? name
  const namespace = NAMESPACES.find((ns) => first === ns)
  if (namespace !== undefined)
    return namespace === "origin"
      ? `it is or starts with 'origin', the usual remote, so it would hide the remote-tracking branch of that name. Choose a name that does not start with a remote's name, for example spindle/${name.split("/").slice(1).join("/") || "work"}`
      : `it is or starts with '${namespace}', so it reads as a ref namespace rather than a branch. Give the branch's own name without '${namespace}/'`
  if (looksLikeObjectName(name))
    return `it looks like a commit id (7 or more hex digits${/-g[0-9a-f]{7,}$/i.test(name) ? " after '-g', as git describe writes" : ""}), and git would read the branch in place of that commit. Add a word, for example fix-${name.slice(0, 12)}`
  return undefined
}

// Latin look-alikes of Cyrillic, Greek, Armenian and Cherokee letters, and of digits (after
// NFKD, before lowercasing so `I` and `l` meet): enough to catch a name made to pass for another.
const LOOKALIKES: Record<string, string> = {
  а: "a",
  в: "b",
  е: "e",
  к: "k",
  м: "m",
  н: "h",
  о: "o",
  р: "p",
  с: "c",
  т: "t",
  у: "y",
  х: "x",
  і: "i",
  ј: "j",
  ѕ: "s",
  ԁ: "d",
  ԛ: "q",
  ԝ: "w",
  ӏ: "l",
  һ: "h",
  ү: "y",
  ɡ: "g",
  А: "A",
  В: "B",
  Е: "E",
  К: "K",
  М: "M",
  Н: "H",
  О: "O",
  Р: "P",
  С: "C",
  Т: "T",
  Х: "X",
  У: "Y",
  І: "l",
  Ј: "J",
  Ѕ: "S",
  Ԛ: "Q",
  Ԝ: "W",
  α: "a",
  ο: "o",
  ρ: "p",
  ν: "v",
  ι: "i",
  κ: "k",
  τ: "t",
  υ: "u",
  χ: "x",
  γ: "y",
  Α: "A",
  Β: "B",
  Ε: "E",
  Ζ: "Z",
  Η: "H",
  Ι: "l",
  Κ: "K",
  Μ: "M",
  Ν: "N",
  Ο: "O",
  Ρ: "P",
  Τ: "T",
  Υ: "Y",
  Χ: "X",
  ս: "u",
  օ: "o",
  ց: "g",
  հ: "h",
  ո: "n",
  ա: "w",
  Ꭺ: "A",
  Ᏼ: "B",
  Ꮯ: "C",
  Ꭼ: "E",
  Ꮋ: "H",
  Ꮶ: "K",
  Ꮇ: "M",
  Ꮲ: "P",
  Ꭲ: "T",
  Ꮃ: "W",
  "0": "O",
  "1": "l",
  I: "l"
}

/**
 * A name's look: NFKD without marks, invisible characters dropped, look-alike letters and digits
 * mapped to Latin, lowercased (two branches differing only in case also collide in a loose ref
 * store on a case-insensitive disk). Two names with one skeleton pass for each other.
 */
export const branchSkeleton = (name: string): string =>
  Array.from(name.normalize("NFKD").replace(/\p{M}/gu, "").replace(new RegExp(INVISIBLE.source, "gu"), ""))
    .map((char) => LOOKALIKES[char] ?? char)
    .join("")
    .toLowerCase()
