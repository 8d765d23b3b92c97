// Masking secrets (passwords, application credential secrets, tokens) out of any text before it leaves the client.

/** The shortest run of a secret's characters that is masked; shorter runs are too common to tell apart from text. */
export const MIN_MASKED_RUN = 4;
export const MASK = "***";

/**
 * The forms a secret takes in what a cloud sends back: as is, JSON-escaped (also with every non-ASCII
 * character as \uXXXX, as Python's json.dumps writes it), URL-encoded (form and path), HTML-escaped.
 */
export function secretForms(secret: string): string[] {
  const json = JSON.stringify(secret).slice(1, -1);
  const asciiJson = json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  const html = secret.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#x27;");
  let url: string;
  try {
    url = encodeURIComponent(secret);
  } catch {
    url = secret; // a lone surrogate cannot be URL-encoded; the other forms still cover it
  }
  return [...new Set([secret, json, asciiJson, html, url, url.replace(/%20/g, "+")])];
}

/**
 * Replaces every run of at least MIN_MASKED_RUN characters that also occurs in a secret (in any of its
 * forms) with "***". Not only whole occurrences: a cloud may echo a truncated password, and a message
 * clipped in the middle of a token must not keep its first characters. Masking runs before any clipping.
 */
export class SecretMasker {
  private readonly grams = new Set<string>();
  private readonly secrets = new Set<string>();

  add(secret: string | undefined): void {
    if (secret === undefined || secret.length < MIN_MASKED_RUN || this.secrets.has(secret)) return;
    this.secrets.add(secret);
    for (const form of secretForms(secret)) addGrams(this.grams, form);
  }

  /** A masker with these secrets plus `extra` (per request values such as an adminPass). */
  with(extra: readonly string[]): SecretMasker {
    if (extra.length === 0) return this;
    const copy = new SecretMasker();
    for (const g of this.grams) copy.grams.add(g);
    for (const s of extra) copy.add(s);
    return copy;
  }

  mask(text: string): string {
    return maskGrams(text, this.grams);
  }
}

function addGrams(grams: Set<string>, form: string): void {
  for (let i = 0; i + MIN_MASKED_RUN <= form.length; i++) grams.add(form.slice(i, i + MIN_MASKED_RUN));
}

function maskGrams(text: string, grams: ReadonlySet<string>): string {
  if (grams.size === 0 || text.length < MIN_MASKED_RUN) return text;
  // One mask per stretch of characters covered by (overlapping or adjacent) runs of a secret.
  let out = "";
  let stretchEnd = -1; // exclusive end of the current stretch; -1 before the first
  for (let i = 0; i + MIN_MASKED_RUN <= text.length; i++) {
    if (!grams.has(text.slice(i, i + MIN_MASKED_RUN))) continue;
    if (i > stretchEnd) out += `${stretchEnd < 0 ? text.slice(0, i) : `${MASK}${text.slice(stretchEnd, i)}`}`;
    stretchEnd = i + MIN_MASKED_RUN;
  }
  return stretchEnd < 0 ? text : `${out}${MASK}${text.slice(stretchEnd)}`;
}

/** Masks with the given secrets only (for callers without a masker, e.g. configuration errors). */
export function maskSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  const masker = new SecretMasker();
  for (const s of secrets) masker.add(s);
  return masker.mask(text);
}
