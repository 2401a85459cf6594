/** jsdom lacks DragEvent, which @lumino/dragdrop (imported by @lumino/widgets) subclasses. */
if (typeof globalThis.DragEvent === 'undefined') {
  globalThis.DragEvent = class DragEvent extends MouseEvent {};
}
