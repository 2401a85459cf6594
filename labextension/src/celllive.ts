/**
 * The live `%%kimi` view: the widget model `KimiLiveModel` and its view, which the kernel
 * picks when the page says it can draw them (`cellliveplugin.ts`; the kernel side is
 * `kimi_jupyter/render/lab_live.py`). The kernel sends only the new text; the view lays the
 * answer out as the saved turn record is laid out (`view.ts`: same classes, same Markdown
 * path — raw HTML as text, guarded sanitizer, no URL resolver), so the switch to the saved
 * output moves nothing: thinking, tool calls, answer, then a footer bar whose status line
 * becomes the footer and whose Stop gives way to Copy.
 *
 * Loaded with the first live answer (the widget registry takes a loader).
 */
import {
  DOMWidgetModel,
  DOMWidgetView,
  IBackboneModelOptions,
  ISerializers,
  unpack_models,
  WidgetModel
} from '@jupyter-widgets/base';
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import type * as Backbone from 'backbone';
import { MessageLoop } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { stripBidi } from './bidi';
import { LIVE_MODULE, LIVE_MODULE_VERSION } from './cellliveplugin';
import { LiveTurnState } from './celllivestate';
import { createCopyButton } from './clipboard';
import { LatestThrottle } from './throttle';
import type { ITranslate } from './turn';
import { createAnswer, renderAnswer, type ITurnContext } from './view';

const TICK_MS = 1000;

/** What the classes need from the app: how to render Markdown, and the words. */
export interface ILiveEnvironment {
  context: () => ITurnContext;
  trans: ITranslate;
}

/** The model and view classes, bound to `env`, as the widget registry wants them. */
export function liveWidgetClasses(env: ILiveEnvironment): {
  KimiLiveModel: typeof DOMWidgetModel;
  KimiLiveView: typeof DOMWidgetView;
} {
  class KimiLiveModel extends DOMWidgetModel {
    static serializers: ISerializers = {
      ...DOMWidgetModel.serializers,
      tools: { deserialize: unpack_models }
    };

    // Backbone calls `initialize` from its constructor, before field initializers would
    // run: the state is made there and declared here.
    declare live: LiveTurnState;

    defaults(): Backbone.ObjectHash {
      return {
        ...super.defaults(),
        _model_name: 'KimiLiveModel',
        _model_module: LIVE_MODULE,
        _model_module_version: LIVE_MODULE_VERSION,
        _view_name: 'KimiLiveView',
        _view_module: LIVE_MODULE,
        _view_module_version: LIVE_MODULE_VERSION,
        tools: null
      };
    }

    initialize(
      attributes: Backbone.ObjectHash,
      options: IBackboneModelOptions
    ): void {
      super.initialize(attributes, options);
      this.live = new LiveTurnState(Date.now());
      this.on('msg:custom', (content: unknown) => {
        if (this.live.apply(content, Date.now())) {
          this.trigger('kimi:changed');
        }
      });
    }
  }

  class KimiLiveView extends DOMWidgetView {
    declare model: KimiLiveModel;
    declare private _parts: LiveParts;

    render(): void {
      this._parts = new LiveParts(env, () => this.send({ stop: true }));
      // `jp-KimiTurn`'s layout without its name: that names the saved turn record
      this.el.classList.add('jp-KimiLive', 'kimi-live');
      this.el.append(...this._parts.nodes);
      this.listenTo(this.model, 'kimi:changed', () =>
        this._parts.update(this.model.live)
      );
      this.listenTo(this.model, 'change:tools', () => void this._showTools());
      this._parts.update(this.model.live);
      void this._showTools();
    }

    remove(): void {
      this._parts?.dispose();
      return super.remove();
    }

    /** The tool calls' panels (core widgets) in their slot, between thinking and answer. */
    private async _showTools(): Promise<void> {
      const tools = this.model.get('tools') as WidgetModel | null;
      if (!tools || this._parts.hasTools) {
        return;
      }
      const view = await this.create_child_view(tools as DOMWidgetModel);
      if (this._parts.isDisposed) {
        view.remove();
        return;
      }
      this._parts.setTools(view.luminoWidget);
    }
  }

  return { KimiLiveModel, KimiLiveView };
}

/** The nodes of one live view and what updates them; no widget-manager code here. */
export class LiveParts {
  constructor(
    private readonly _env: ILiveEnvironment,
    private readonly _stop: () => void
  ) {
    const trans = _env.trans;
    this._thinking.className = 'jp-KimiTurn-thinking';
    this._summary.className = 'jp-KimiTurn-thinkingSummary';
    this._summary.addEventListener('click', () => (this._userToggled = true));
    this._reasoning.className = 'jp-KimiTurn-reasoning';
    this._thinking.append(this._summary, this._reasoning);
    this._thinking.hidden = true;
    this._tools.className = 'jp-KimiLive-tools';
    this._tools.hidden = true; // an empty slot would still take the layout's gap
    this._answer = createAnswer(_env.context());
    this._answer.addClass('jp-KimiLive-answer');
    this._answer.node.hidden = true;
    const bar = document.createElement('div');
    bar.className = 'jp-KimiTurn-footerBar jp-KimiLive-footerBar';
    this._status.className =
      'jp-KimiTurn-footer jp-KimiLive-status kimi-status';
    this._stopButton.type = 'button';
    this._stopButton.className = 'jp-KimiTurn-copy jp-KimiLive-stop';
    this._stopButton.textContent = trans.__('Stop');
    this._stopButton.title = trans.__('Stop the answer');
    this._stopButton.addEventListener('click', () => {
      this._stopButton.disabled = true;
      this._stop();
    });
    this._copy = createCopyButton(document, {
      ariaLabel: trans.__('Copy answer as Markdown'),
      className: 'jp-KimiTurn-copyAnswer',
      text: () => stripBidi(this._text).text,
      trans
    });
    this._copy.disabled = true; // active in the saved turn that replaces this view
    bar.append(this._status, this._stopButton, this._copy);
    this.nodes = [this._thinking, this._tools, this._answer.node, bar];
    this._throttle = new LatestThrottle<string>(markdown =>
      this._render(markdown)
    );
    this._timer = setInterval(() => this._tick(), TICK_MS);
  }

  readonly nodes: HTMLElement[];

  get isDisposed(): boolean {
    return this._disposed;
  }

  get hasTools(): boolean {
    return this._toolsWidget !== null;
  }

  /** Show `state`: the thinking as text, the answer through the throttled Markdown path. */
  update(state: LiveTurnState): void {
    if (this._disposed) {
      return;
    }
    this._state = state;
    this._thinking.hidden = !state.thinking;
    if (this._reasoning.textContent !== state.thinking) {
      this._reasoning.textContent = state.thinking;
    }
    if (!this._userToggled) {
      this._thinking.open = !state.answer && state.ended === null;
    }
    if (state.answer !== this._text) {
      this._text = state.answer;
      this._throttle.update(state.answer);
    }
    if (state.ended !== null) {
      this._stopButton.disabled = true;
      clearInterval(this._timer);
    }
    this._tick();
  }

  /** Put the tool panels' widget in its slot (attached as Lumino attaches widgets). */
  setTools(widget: Widget): void {
    this._toolsWidget = widget;
    this._tools.hidden = false;
    MessageLoop.sendMessage(widget, Widget.Msg.BeforeAttach);
    this._tools.appendChild(widget.node);
    MessageLoop.sendMessage(widget, Widget.Msg.AfterAttach);
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    clearInterval(this._timer);
    this._throttle.dispose();
    this._answer.dispose();
    this._toolsWidget?.dispose();
  }

  private _tick(): void {
    const state = this._state;
    if (!state || this._disposed) {
      return;
    }
    const now = Date.now();
    const trans = this._env.trans;
    this._summary.textContent = state.thinkingTitle(now, trans);
    this._status.textContent = state.statusText(now, trans);
  }

  private async _render(markdown: string): Promise<void> {
    if (this._disposed) {
      return;
    }
    this._answer.node.hidden = !markdown;
    await renderAnswer(this._answer, markdown, this._env.trans);
  }

  private _disposed = false;
  private _userToggled = false;
  private _state: LiveTurnState | null = null;
  private _text = '';
  private readonly _thinking = document.createElement('details');
  private readonly _summary = document.createElement('summary');
  private readonly _reasoning = document.createElement('div');
  private readonly _tools = document.createElement('div');
  private _toolsWidget: Widget | null = null;
  private readonly _answer: IRenderMime.IRenderer;
  private readonly _status = document.createElement('span');
  private readonly _stopButton = document.createElement('button');
  private readonly _copy: HTMLButtonElement;
  private readonly _throttle: LatestThrottle<string>;
  private readonly _timer: ReturnType<typeof setInterval>;
}
