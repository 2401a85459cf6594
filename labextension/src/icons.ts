import { LabIcon } from '@jupyterlab/ui-components';

/** A "K" for the Kimi panel's sidebar tab and command. */
export const kimiIcon = new LabIcon({
  name: 'kimi-jupyter:kimi',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">' +
    '<path class="jp-icon3" fill="#616161" d="M4 3h3v7.6L13.4 3H17l-6.7 7.9L17.5 21h-3.7' +
    'l-5.6-8-1.2 1.4V21H4zM19 3h2.5v2.5H19z"/></svg>'
});
