import { markdown } from '@codemirror/lang-markdown';
import { language } from '@codemirror/language';
import { EditorState } from '@codemirror/state';
import { python } from '@codemirror/lang-python';

import {
  createKimiHighlightingFactory,
  isKimiCellText,
  isNotebookCodeCell,
  MarkdownLoader
} from '../highlighting';

describe('isKimiCellText', () => {
  it.each([
    ['%%kimi', true],
    ['%%kimi\n# Heading', true],
    ['%%kimi --session s\nhi', true],
    ['%%kimi\r\nhi', true],
    ['%%kimi\tx', true],
    ['%%kimix\nhi', false],
    ['%%time\n%%kimi', false],
    [' %%kimi\nhi', false],
    ['\n%%kimi', false],
    ['%kimi fix', false],
    ['x = "a"', false],
    ['', false]
  ])('%j -> %s', (text, expected) => {
    expect(isKimiCellText(text)).toBe(expected);
  });
});

describe('isNotebookCodeCell', () => {
  const model = (type: string | undefined, notebook: unknown) =>
    ({ type, sharedModel: { notebook } }) as never;

  it('accepts code cells of notebooks only', () => {
    expect(isNotebookCodeCell(model('code', {}))).toBe(true);
    expect(isNotebookCodeCell(model('code', null))).toBe(false);
    expect(isNotebookCodeCell(model('markdown', {}))).toBe(false);
    expect(isNotebookCodeCell(model(undefined, {}))).toBe(false);
  });

  it('gives no extension to other editors', () => {
    const factory = createKimiHighlightingFactory(
      new MarkdownLoader(async () => null)
    );
    expect(
      factory.factory({ inline: false, model: model('raw', {}) })
    ).toBeNull();
  });
});

describe('MarkdownLoader', () => {
  it('loads once and survives failures', async () => {
    const load = jest.fn(async () => null);
    const loader = new MarkdownLoader(load);
    expect(await loader.ready()).toBeNull();
    await loader.ready();
    expect(load).toHaveBeenCalledTimes(1);

    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    const failing = new MarkdownLoader(() => Promise.reject(new Error('x')));
    expect(await failing.ready()).toBeNull();
    expect(warn).toHaveBeenCalled();
    warn.mockRestore();
  });
});

describe('the editor extension', () => {
  it('keeps the text', () => {
    const factory = createKimiHighlightingFactory(
      new MarkdownLoader(async () => null)
    );
    const source = '%%kimi\n# Heading';
    const configurable = factory.factory({
      inline: false,
      model: {
        type: 'code',
        sharedModel: { notebook: {}, getSource: () => source }
      } as never
    });
    expect(configurable).not.toBeNull();
    let state = EditorState.create({
      doc: source,
      extensions: configurable!.instance(null)
    });
    state = state.update({ changes: { from: 2, to: 6, insert: 'time' } }).state;
    expect(state.doc.toString()).toBe('%%time\n# Heading');
    expect(configurable!.reconfigure(null)).toBeNull();
  });
});

describe('switching languages', () => {
  const create = async (source: string) => {
    const loader = new MarkdownLoader(async () => markdown());
    await loader.ready();
    const configurable = createKimiHighlightingFactory(loader).factory({
      inline: false,
      model: {
        type: 'code',
        sharedModel: { notebook: {}, getSource: () => source }
      } as never
    });
    return EditorState.create({
      doc: source,
      extensions: [python(), configurable!.instance(null)]
    });
  };
  const name = (state: EditorState) => state.facet(language)?.name;

  it('uses Markdown while the first line starts with %%kimi', async () => {
    let state = await create('%%kimi\n# Heading');
    expect(name(state)).toBe('markdown');
    state = state.update({ changes: { from: 2, to: 6, insert: 'time' } }).state;
    expect(name(state)).toBe('python');
    state = state.update({ changes: { from: 7, insert: 'x' } }).state;
    expect(name(state)).toBe('python');
    state = state.update({ changes: { from: 2, to: 6, insert: 'kimi' } }).state;
    expect(name(state)).toBe('markdown');
    expect(state.doc.toString()).toBe('%%kimi\nx# Heading');
  });

  it('keeps Python for other cells', async () => {
    let state = await create('x = "a"');
    expect(name(state)).toBe('python');
    state = state.update({ changes: { from: 0, insert: '%%kimi\n' } }).state;
    expect(name(state)).toBe('markdown');
  });
});
