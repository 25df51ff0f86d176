// gx-keepalive: keeps the engine alive from a flow (on input, or on its own interval: the first
// keep-alive full, later ones with suppress-republish), and reports full_publish_completed,
// matched to its own echo token when it uses one (gui-v2#1360). The node's settings decide
// what a keep-alive carries; msg.payload does only when the node is set to take it from there
// (an Inject's timestamp must not turn a suppressed keep-alive into a full one). For a GX reached
// over MQTT a full keep-alive first asks that GX for a fresh full publish (the `refresh` hook),
// so that what is republished is current.
import { randomBytes } from 'crypto';
import { FullPublishCompleted, GxEngine } from '../bridge/engine';
import { parseKeepaliveOptions } from '../bridge/keepalive';
import { noPortal } from './read-controller';

export interface KeepaliveNodeOptions {
  /** seconds; 0 = only on input */
  interval: number;
  /** after the first keep-alive, send suppress-republish */
  suppress: boolean;
  /** use an echo token and report only the matching completion */
  echo: boolean;
  /** 'msg': a non-empty msg.payload is sent as the keep-alive options; default 'node' */
  optionsFrom?: 'node' | 'msg';
}

export interface CompletedMessage {
  topic: string;
  payload: { value: number; 'full-publish-completed-echo'?: string };
}

export class KeepaliveController {
  private timer: NodeJS.Timeout | undefined;
  private sentFull = false;
  private closed = false;
  private readonly tokens = new Set<string>();
  private readonly onCompleted = (c: FullPublishCompleted) => this.completed(c);

  /**
   * `refresh`: before a full keep-alive, bring the cache up to date (a GX over MQTT is asked for
   * a fresh full publish); never rejects.
   */
  constructor(private readonly engine: GxEngine, private readonly opts: KeepaliveNodeOptions,
    private readonly emit: (m: CompletedMessage) => void, private readonly refresh?: () => Promise<void>) {
    engine.on('full-publish-completed', this.onCompleted);
    if (opts.interval > 0) this.timer = setInterval(() => this.tick(), opts.interval * 1000);
  }

  /**
   * The GX (and its broker, if any) is connected, for the first time or again: the next
   * keep-alive is a full one, so that every client gets the complete, current state; on its
   * own interval it is sent at once.
   */
  connected(): void {
    this.sentFull = false;
    if (this.timer && this.engine.portalId) this.request().catch(() => undefined);
  }

  private tick(): void {
    // without a portal ID the status says what to do; the node's own options are always valid
    if (this.engine.portalId) this.request().catch(() => undefined);
  }

  /** Sends a keep-alive at once (no refresh); `raw` is msg.payload (used only when the node takes its options from msg). */
  send(raw?: unknown): string {
    return this.deliver(this.payloadOf(raw));
  }

  /**
   * What the node does on input and on its interval: a full keep-alive waits for the refresh
   * (a remote GX's fresh full publish, a few seconds at most) before the engine republishes;
   * a suppressed one goes out at once. Rejects with the reason (no portal ID, bad options).
   */
  async request(raw?: unknown): Promise<string> {
    const payload = this.payloadOf(raw);
    if (this.refresh && !parseKeepaliveOptions(payload).suppressRepublish) {
      await this.refresh();
      if (this.closed) throw new Error('the node was closed before the keep-alive went out');
    }
    return this.deliver(payload);
  }

  private payloadOf(raw: unknown): string {
    if (!this.engine.portalId) throw new Error(noPortal);
    let payload: string;
    if (this.opts.optionsFrom === 'msg' && raw !== undefined && raw !== null && raw !== '') {
      try {
        payload = typeof raw === 'string' ? raw : JSON.stringify(raw);
      } catch (e) {
        throw new Error(`the keep-alive options in msg.payload cannot be sent as JSON: ${(e as Error).message}`);
      }
    } else if (this.opts.suppress && this.sentFull) {
      payload = '{"keepalive-options":["suppress-republish"]}';
    } else if (this.opts.echo) {
      const token = randomBytes(8).toString('hex');
      this.tokens.add(token);
      if (this.tokens.size > 16) this.tokens.delete(this.tokens.values().next().value as string);
      payload = JSON.stringify({ 'keepalive-options': [{ 'full-publish-completed-echo': token }] });
    } else {
      payload = '';
    }
    return payload;
  }

  private deliver(payload: string): string {
    const outcome = this.engine.keepaliveRequest(payload);
    if (outcome === 'republish' || outcome === 'legacy') this.sentFull = true;
    return String(outcome);
  }

  private completed(c: FullPublishCompleted): void {
    if (this.opts.echo) {
      if (c.echo === undefined || !this.tokens.delete(c.echo)) return;
    }
    const payload: CompletedMessage['payload'] = { value: c.value };
    if (c.echo !== undefined) payload['full-publish-completed-echo'] = c.echo;
    this.emit({ topic: `N/${this.engine.portalId}/full_publish_completed`, payload });
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.engine.removeListener('full-publish-completed', this.onCompleted);
    this.tokens.clear();
  }
}
