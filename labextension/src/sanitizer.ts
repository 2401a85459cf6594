/**
 * A sanitizer wrapper for model text: JupyterLab's sanitizer first, then a pass that leaves
 * nothing in the answer that loads or runs by itself.
 *
 * The model can be steered by whatever text or data it was shown, so its answer is treated
 * as hostile (issue 11): no request at all, same-origin included (the Jupyter server's API,
 * files, terminals and proxies are the worst case, not the safe one). The only URL an
 * element keeps for loading is an inline PNG, JPEG, GIF or WebP `data:` image; an image
 * that would load becomes a placeholder. Links stay only when following them is the
 * reader's click, in a new tab, with no opener and no referrer (`urlpolicy.ts`).
 *
 * JupyterLab adds nodes after sanitizing (MathJax's `\href` links, its own link hardening),
 * so `watchRendered` keeps applying the same rules to the rendered answer.
 */
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';

import { allowedLinkUrl, isSafeImageUrl, remoteHttpUrl } from './urlpolicy';

/** Elements that run, load or restyle the page just by existing: removed with their content. */
const REMOVED =
  'script, style, link, meta, base, iframe, frame, frameset, object, embed, ' +
  'applet, portal, svg, math, template, noscript';

/** Attributes that fetch (now or on a click) or that name a URL to fetch. */
const URL_ATTRIBUTES = new Set([
  'action',
  'archive',
  'background',
  'cite',
  'classid',
  'codebase',
  'data',
  'dynsrc',
  'formaction',
  'href',
  'icon',
  'imagesrcset',
  'longdesc',
  'lowsrc',
  'manifest',
  'ping',
  'poster',
  'profile',
  'src',
  'srcdoc',
  'srcset',
  'xlink:href'
]);

/** Attributes this pass sets on links itself, and others it never keeps. */
const DROPPED = new Set([
  'autofocus',
  'data-commandlinker-args',
  'data-commandlinker-command',
  'download',
  'referrerpolicy',
  'rel',
  'target'
]);

/** CSS that can fetch (`url()`, `image-set()`, `src()`, `@import`) or hide it (escapes). */
const FETCHING_STYLE =
  /(?:url|src|image|image-set|cross-fade|element|paint|expression)\s*\(|\\|@|binding|behavior/i;

/** Attributes whose value is text or a name, never a URL: `data:` in them is just text. */
const NEVER_URLS = new Set([
  'alt',
  'aria-label',
  'class',
  'data-jupyter-id',
  'id',
  'label',
  'title',
  'value'
]);

/** A scheme that runs or embeds a document, spelled with any whitespace or controls inside. */
const ACTIVE_SCHEME = /^(?:javascript|vbscript|livescript|data):/i;

const XHTML = 'http://www.w3.org/1999/xhtml';
const LINK_REL = 'noopener noreferrer nofollow';

/** Wrap `base` so that its output also loses everything that loads or runs (see above). */
export function guardSanitizer(
  base: IRenderMime.ISanitizer,
  origin: string = window.location.origin
): IRenderMime.ISanitizer {
  return {
    sanitize: (dirty, options) =>
      disarmHtml(base.sanitize(dirty, options), origin),
    getAutolink: () => base.getAutolink?.() ?? true,
    allowNamedProperties: base.allowNamedProperties,
    allowCommandLinker: false
  };
}

/**
 * Return `html` with nothing that fetches, runs or links into `origin`.
 *
 * The HTML is parsed in a `<template>`, whose content is inert: nothing loads while we look.
 */
export function disarmHtml(html: string, origin: string): string {
  const template = document.createElement('template');
  template.innerHTML = html;
  const content = template.content;
  for (const element of Array.from(content.querySelectorAll(REMOVED))) {
    element.remove();
  }
  for (const form of Array.from(content.querySelectorAll('form'))) {
    form.replaceWith(...Array.from(form.childNodes));
  }
  for (const element of Array.from(content.querySelectorAll('*'))) {
    disarmElement(element, origin);
  }
  disarmMathLoaders(content);
  return template.innerHTML;
}

/**
 * Keep applying the attribute and link rules to `node` as JupyterLab and MathJax change it
 * after sanitizing; returns the observer (disconnect it when the node goes).
 */
export function watchRendered(
  node: HTMLElement,
  origin: string = window.location.origin
): MutationObserver {
  const observer = new MutationObserver(records => {
    for (const record of records) {
      const { target } = record;
      if (record.type === 'attributes') {
        if (target instanceof Element && node.contains(target)) {
          disarmElement(target, origin);
        }
        continue;
      }
      for (const added of Array.from(record.addedNodes)) {
        if (added instanceof Element && node.contains(added)) {
          disarmTree(added, origin);
        }
      }
    }
  });
  observer.observe(node, { subtree: true, childList: true, attributes: true });
  return observer;
}

/** Apply the attribute and link rules to `root` and everything under it. */
export function disarmTree(root: Element, origin: string): void {
  disarmElement(root, origin);
  for (const element of Array.from(root.querySelectorAll('*'))) {
    disarmElement(element, origin);
  }
}

/** One element: drop what fetches, runs or names a URL; links and images by their rules. */
export function disarmElement(element: Element, origin: string): void {
  const link = isHtml(element, 'a') || isHtml(element, 'area');
  const href = link ? element.getAttribute('href') : null;
  const src = isHtml(element, 'img') ? element.getAttribute('src') : null;
  for (const attribute of Array.from(element.attributes)) {
    const name = attribute.name.toLowerCase();
    const keptLink = link && name === 'href';
    const keptImage = src !== null && name === 'src' && isSafeImageUrl(src);
    if (keptLink || keptImage) {
      continue;
    }
    if (
      name.startsWith('on') ||
      URL_ATTRIBUTES.has(name) ||
      (name === 'style' && FETCHING_STYLE.test(attribute.value)) ||
      (DROPPED.has(name) && !(link && isLinkSetting(element, name))) ||
      (!NEVER_URLS.has(name) &&
        ACTIVE_SCHEME.test(attribute.value.replace(/[\s\p{Cc}]/gu, '')))
    ) {
      element.removeAttribute(attribute.name);
    }
  }
  if (href !== null) {
    secureLink(element, href, origin);
  } else if (src !== null && !isSafeImageUrl(src) && element.parentNode) {
    element.replaceWith(imagePlaceholder(element, src, origin));
  }
}

/** Keep the link to `allowedLinkUrl(href)` opening in a new tab, or make it plain text. */
function secureLink(link: Element, href: string, origin: string): void {
  const url = allowedLinkUrl(href, origin);
  if (url === null) {
    if (link.parentNode) {
      const span = link.ownerDocument.createElement('span');
      span.className = 'jp-KimiTurn-unlinked';
      span.title = `Link not followed: ${href}`;
      span.append(...Array.from(link.childNodes));
      link.replaceWith(span);
    } else {
      link.removeAttribute('href');
    }
    return;
  }
  setAttribute(link, 'href', url);
  if (!url.startsWith('#')) {
    setAttribute(link, 'target', '_blank');
    setAttribute(link, 'rel', LINK_REL);
    setAttribute(link, 'referrerpolicy', 'no-referrer');
  }
}

/** Whether `name` holds what `secureLink` sets (so it is not dropped, then set again). */
function isLinkSetting(link: Element, name: string): boolean {
  return (
    (name === 'target' && link.getAttribute(name) === '_blank') ||
    (name === 'rel' && link.getAttribute(name) === LINK_REL) ||
    (name === 'referrerpolicy' && link.getAttribute(name) === 'no-referrer')
  );
}

/** A stand-in for an image that would load: a link for a remote one, else text. */
function imagePlaceholder(
  image: Element,
  url: string,
  origin: string
): Element {
  const doc = image.ownerDocument;
  const label = image.getAttribute('alt') || 'image';
  const href = remoteHttpUrl(url, origin);
  const node = doc.createElement(href ? 'a' : 'span');
  node.className = 'jp-KimiTurn-remoteImage';
  node.textContent = href
    ? `Remote image: ${label}`
    : `Image not shown: ${label}`;
  node.setAttribute('title', `Image not loaded: ${url}`);
  if (href) {
    node.setAttribute('href', href);
    secureLink(node, href, origin);
  }
  return node;
}

/**
 * MathJax's `\require{…}` loads code from the server (and a failed load stalls every
 * formula on the page): outside code, its backslash becomes a look-alike character. The
 * text is searched across element boundaries (`\re<em>quire</em>`), as MathJax reads it.
 */
function disarmMathLoaders(root: DocumentFragment): void {
  const nodes: Text[] = [];
  const walker = root.ownerDocument.createTreeWalker(
    root,
    NodeFilter.SHOW_TEXT
  );
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.parentElement?.closest('code, pre')) {
      nodes.push(node as Text);
    }
  }
  const text = nodes.map(node => node.data).join('');
  let index = 0;
  let start = 0; // where nodes[index] starts in `text`
  for (const match of text.matchAll(/\\(?=require(?![A-Za-z]))/g)) {
    while (start + nodes[index].data.length <= match.index) {
      start += nodes[index].data.length;
      index += 1;
    }
    const node = nodes[index];
    const at = match.index - start;
    node.data = `${node.data.slice(0, at)}\u29f5${node.data.slice(at + 1)}`;
  }
}

function isHtml(element: Element, localName: string): boolean {
  return element.localName === localName && element.namespaceURI === XHTML;
}

function setAttribute(element: Element, name: string, value: string): void {
  if (element.getAttribute(name) !== value) {
    element.setAttribute(name, value);
  }
}
