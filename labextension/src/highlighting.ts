/**
 * Markdown highlighting for `%%kimi` cells.
 *
 * JupyterLab has no per-cell-magic language (jupyterlab/jupyterlab#3869, #15324): a code
 * cell's editor uses the kernel's language. This editor extension gives the document of a
 * notebook code cell whose first line starts with `%%kimi` the Markdown language instead,
 * at the highest precedence (CodeMirror's `language` facet takes its first value), and
 * drops it when the first line stops starting with `%%kimi`, which restores the kernel
 * language. It never changes the text.
 */

import type { LanguageSupport } from '@codemirror/language';
import {
  Compartment,
  EditorState,
  type Extension,
  Prec,
  type Text
} from '@codemirror/state';
import { EditorView, ViewPlugin } from '@codemirror/view';
import type {
  IConfigurableExtension,
  IEditorExtensionFactory
} from '@jupyterlab/codemirror';

/** The cell magic whose body is Markdown. */
export const KIMI_CELL_MAGIC = '%%kimi';

/** The class of the editor (`.cm-editor`) of a cell highlighted as Markdown. */
export const KIMI_MARKDOWN_CLASS = 'jp-mod-kimiMarkdown';

/** The name of the editor extension in the registry. */
export const KIMI_HIGHLIGHTING_EXTENSION = 'kimi-jupyter:markdown-highlighting';

/**
 * Whether a cell with this text is a `%%kimi` cell: its first line is `%%kimi`, alone or
 * followed by whitespace and arguments (`%%kimi --session s`), not `%%kimiX`.
 */
export function isKimiCellText(text: string): boolean {
  if (!text.startsWith(KIMI_CELL_MAGIC)) {
    return false;
  }
  const next = text.charAt(KIMI_CELL_MAGIC.length);
  return next === '' || /\s/.test(next);
}

/** Whether the editor model is a code cell of a notebook (not a console, not a file). */
export function isNotebookCodeCell(
  model: IEditorExtensionFactory.IOptions['model']
): boolean {
  const cell = model as { type?: string };
  const shared = model.sharedModel as { notebook?: unknown };
  return cell.type === 'code' && !!shared.notebook;
}

function firstLine(doc: Text): string {
  return doc.line(1).text;
}

/**
 * The Markdown language support, loaded once by `load` (a language registry's
 * `getLanguage('markdown')`); editors that need it before it is there wait for it.
 */
export class MarkdownLoader {
  constructor(load: () => Promise<LanguageSupport | null | undefined>) {
    this._load = load;
  }

  /** The support if loaded, else null. */
  get support(): LanguageSupport | null {
    return this._support;
  }

  /** Load the support (once); resolves to null if it cannot be loaded. */
  ready(): Promise<LanguageSupport | null> {
    if (!this._promise) {
      this._promise = this._load().then(
        support => (this._support = support ?? null),
        reason => {
          console.warn(
            'kimi-jupyter: cannot load Markdown highlighting',
            reason
          );
          return null;
        }
      );
    }
    return this._promise;
  }

  private _load: () => Promise<LanguageSupport | null | undefined>;
  private _promise: Promise<LanguageSupport | null> | null = null;
  private _support: LanguageSupport | null = null;
}

/** The editor extension for one editor, whose text starts as `initialText`. */
export function kimiMarkdownExtension(
  loader: MarkdownLoader,
  initialText: string
): Extension {
  const compartment = new Compartment();
  const content = (kimi: boolean): Extension => {
    const support = loader.support;
    return kimi && support
      ? [
          Prec.highest(support),
          EditorView.editorAttributes.of({ class: KIMI_MARKDOWN_CLASS })
        ]
      : [];
  };
  const active = (state: EditorState): boolean => {
    const current = compartment.get(state);
    return Array.isArray(current) ? current.length > 0 : !!current;
  };

  // Edits: switch in the same transaction when the first line starts/stops being %%kimi.
  const switcher = EditorState.transactionExtender.of(tr => {
    if (!tr.docChanged) {
      return null;
    }
    const kimi = isKimiCellText(firstLine(tr.newDoc));
    if (kimi === active(tr.startState) || (kimi && !loader.support)) {
      return null;
    }
    return { effects: compartment.reconfigure(content(kimi)) };
  });

  // Markdown may still be loading: apply it once it is there.
  const loading = ViewPlugin.define(view => {
    let destroyed = false;
    if (!loader.support) {
      void loader.ready().then(() => {
        const kimi = isKimiCellText(firstLine(view.state.doc));
        if (!destroyed && kimi && !active(view.state) && loader.support) {
          view.dispatch({ effects: compartment.reconfigure(content(true)) });
        }
      });
    }
    return {
      destroy: () => {
        destroyed = true;
      }
    };
  });

  return [
    compartment.of(content(isKimiCellText(initialText))),
    switcher,
    loading
  ];
}

/** The factory for `IEditorExtensionRegistry.addExtension`: notebook code cells only. */
export function createKimiHighlightingFactory(
  loader: MarkdownLoader
): IEditorExtensionFactory<null> {
  return {
    name: KIMI_HIGHLIGHTING_EXTENSION,
    factory: (
      options: IEditorExtensionFactory.IOptions
    ): IConfigurableExtension<null> | null => {
      if (!isNotebookCodeCell(options.model)) {
        return null;
      }
      return {
        instance: () =>
          kimiMarkdownExtension(loader, options.model.sharedModel.getSource()),
        reconfigure: () => null
      };
    }
  };
}
