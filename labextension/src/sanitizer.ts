/**
 * A sanitizer wrapper for model text: JupyterLab's sanitizer first, then a pass that stops
 * the answer from loading anything off the server (tracking pixels, remote media, CSS
 * `url()`) or running JupyterLab commands.
 *
 * Untrusted Markdown in JupyterLab may still load remote images; a model answer must not,
 * since the model can be steered by whatever text or data it was shown.
 */
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';

/** Attributes that make the browser fetch a URL as soon as the element exists. */
const FETCHING_ATTRIBUTES = ['src', 'poster', 'background'];
const COMMAND_ATTRIBUTES = [
  'data-commandlinker-command',
  'data-commandlinker-args'
];
const FETCHING_STYLE = /url\s*\(|image(-set)?\s*\(|\\/i;

/** Wrap `base` so that its output also loses remote resources (see `stripRemoteResources`). */
export function guardSanitizer(
  base: IRenderMime.ISanitizer,
  origin: string = window.location.origin
): IRenderMime.ISanitizer {
  return {
    sanitize: (dirty, options) =>
      stripRemoteResources(base.sanitize(dirty, options), origin),
    getAutolink: () => base.getAutolink?.() ?? true,
    allowNamedProperties: base.allowNamedProperties,
    allowCommandLinker: false
  };
}

/**
 * Return `html` without URLs that leave `origin` (data: URLs stay), command-linker
 * attributes or CSS that can fetch; a remote image becomes a link the reader may follow.
 *
 * The HTML is parsed in a `<template>`, whose content is inert: nothing loads while we look.
 */
export function stripRemoteResources(html: string, origin: string): string {
  const template = document.createElement('template');
  template.innerHTML = html;
  for (const element of Array.from(template.content.querySelectorAll('*'))) {
    stripElement(element, origin);
  }
  return template.innerHTML;
}

/** Whether the browser may fetch `url` for a document served from `origin`. */
export function isLocalUrl(url: string, origin: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url.trim(), `${origin}/`);
  } catch {
    return false;
  }
  return parsed.protocol === 'data:' || parsed.origin === origin;
}

function stripElement(element: Element, origin: string): void {
  for (const name of COMMAND_ATTRIBUTES) {
    element.removeAttribute(name);
  }
  const style = element.getAttribute('style');
  if (style !== null && FETCHING_STYLE.test(style)) {
    element.removeAttribute('style');
  }
  element.removeAttribute('srcset');
  for (const name of FETCHING_ATTRIBUTES) {
    const url = element.getAttribute(name);
    if (url !== null && !isLocalUrl(url, origin)) {
      element.removeAttribute(name);
      if (name === 'src' && element.localName === 'img') {
        element.replaceWith(remoteImageLink(element, url));
      }
    }
  }
}

/** A plain link standing in for a remote image: loading it is the reader's choice. */
function remoteImageLink(image: Element, url: string): Element {
  const doc = image.ownerDocument;
  const label = image.getAttribute('alt') || 'image';
  let href: string | null = null;
  try {
    const parsed = new URL(url.trim());
    href = ['http:', 'https:'].includes(parsed.protocol) ? parsed.href : null;
  } catch {
    href = null;
  }
  const link = doc.createElement(href ? 'a' : 'span');
  link.className = 'jp-KimiTurn-remoteImage';
  link.textContent = `Remote image: ${label}`;
  link.setAttribute('title', `Remote image not loaded: ${url}`);
  if (href) {
    link.setAttribute('href', href);
    link.setAttribute('rel', 'nofollow noopener noreferrer');
    link.setAttribute('target', '_blank');
  }
  return link;
}
