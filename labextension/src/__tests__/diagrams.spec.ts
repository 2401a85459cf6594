import {
  DIAGRAM_SOURCE,
  plainDiagramFences,
  plainDiagramParser
} from '../diagrams';
import { literalHtmlParser } from '../literalhtml';
import { createMarkedParser, renderJupyterMarkdown } from './jupyterMarkdown';

const SOURCE = `${DIAGRAM_SOURCE}-mermaid`;

describe('plainDiagramFences', () => {
  it.each([
    ['```mermaid', `\`\`\`${SOURCE}`],
    ['~~~mermaid', `~~~${SOURCE}`],
    ['````` MERMAID  ', `\`\`\`\`\`${SOURCE}`],
    ['```mermaid\u00a0', `\`\`\`${SOURCE}`],
    ['   ```mermaid', `   \`\`\`${SOURCE}`],
    ['> - > 1. ```mermaid', `> - > 1. \`\`\`${SOURCE}`],
    ['```mer\\maid', `\`\`\`${SOURCE}`]
  ])('rewrites %p', (line, expected) => {
    expect(plainDiagramFences(`${line}\ngraph TD\n\`\`\``)).toBe(
      `${expected}\ngraph TD\n\`\`\``
    );
  });

  it.each([
    '```python',
    '```mermaid-like',
    '```{mermaid}',
    '``mermaid',
    'text ```mermaid',
    'mermaid'
  ])('leaves %p alone', line => {
    expect(plainDiagramFences(`${line}\nx`)).toBe(`${line}\nx`);
  });

  it('keeps every kind of line end', () => {
    const source = '```mermaid\r\nA\r```mermaid\rB\n```mermaid\n';
    expect(plainDiagramFences(source)).toBe(
      `\`\`\`${SOURCE}\r\nA\r\`\`\`${SOURCE}\rB\n\`\`\`${SOURCE}\n`
    );
  });

  it('is linear on a long line of spaces', () => {
    const start = performance.now();
    plainDiagramFences(`mermaid\n\`\`\`${' '.repeat(200_000)}x`);
    expect(performance.now() - start).toBeLessThan(500);
  });
});

describe('plainDiagramParser', () => {
  it('shows a mermaid block as a code block of language mermaid, never a diagram', async () => {
    const marked = createMarkedParser();
    const host = await renderJupyterMarkdown(
      '- list\n\n  ```mermaid\n  graph TD\n    A["<img src=x>"] --> B\n  ```\n',
      literalHtmlParser(plainDiagramParser(marked))
    );
    expect(marked.diagrams).toEqual([]);
    const code = host.querySelector('pre code');
    expect(code?.className).toBe('language-mermaid');
    expect(code?.textContent).toBe('graph TD\n  A["<img src=x>"] --> B');
    expect(host.querySelector('img, .jp-RenderedMermaid')).toBeNull();
  });

  it('is what a diagram needs to be drawn without it (the fake parser draws)', async () => {
    const marked = createMarkedParser();
    await renderJupyterMarkdown('```mermaid\ngraph TD\n```', marked);
    expect(marked.diagrams).toEqual(['graph TD']);
  });
});
