/**
 * Which URLs model text may keep (issue 11): an answer must make no request by itself, so
 * the only URL an element may load is an inline `data:` image, and a link keeps its URL
 * only when following it is the reader's choice and leaves the Jupyter server alone.
 */

/** Image types a `data:` URL may carry in `img src`: no SVG (it is a document), no HTML. */
const SAFE_IMAGE = /^data:image\/(?:png|jpeg|gif|webp)[;,]/i;

/** Schemes a link may keep: web pages elsewhere, and mail. */
const LINK_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);

/** Whether `url` is an inline PNG, JPEG, GIF or WebP image (nothing is fetched for it). */
export function isSafeImageUrl(url: string): boolean {
  return SAFE_IMAGE.test(url.trim());
}

/**
 * The URL a link may keep, normalised, or `null` when the link must go.
 *
 * Kept: `#fragment` (this page), `mailto:`, and http(s) URLs of another origin. Gone:
 * relative and same-origin URLs (the Jupyter server's API, files, terminals and proxies
 * are the worst places a model could send the reader), `javascript:`, `data:`, `file:`
 * and every other scheme, and whatever does not parse.
 */
export function allowedLinkUrl(href: string, origin: string): string | null {
  const trimmed = href.trim();
  if (/^#[^\s]*$/.test(trimmed)) {
    return trimmed;
  }
  const parsed = parseUrl(trimmed, origin);
  if (!parsed || !LINK_PROTOCOLS.has(parsed.protocol)) {
    return null;
  }
  if (parsed.protocol !== 'mailto:' && parsed.origin === origin) {
    return null;
  }
  return parsed.href;
}

/** `url` when it is an absolute http(s) URL of another origin (what a remote image offers). */
export function remoteHttpUrl(url: string, origin: string): string | null {
  const parsed = parseUrl(url.trim(), origin);
  const remote =
    parsed !== null &&
    (parsed.protocol === 'http:' || parsed.protocol === 'https:') &&
    parsed.origin !== origin;
  return remote ? parsed.href : null;
}

/** `url` resolved as the page would resolve it (browsers drop tabs, newlines, edge spaces). */
function parseUrl(url: string, origin: string): URL | null {
  try {
    return new URL(url, `${origin}/`);
  } catch {
    return null;
  }
}
