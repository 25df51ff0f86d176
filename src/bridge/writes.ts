// Write requests (spec W1–W5) and the one place that decides what may be written and how, for
// MQTT W requests and flows (gx-write) alike. In order: the item must be known (W2) and the
// write policy allow it; the value must be within the size limits and be text D-Bus can carry
// (write-limits.ts), convert to the item's own D-Bus type without loss (W4, improved;
// write-value.ts) and lie within the item's min/max (write-range.ts); then it waits its turn,
// coalesced per item (write-queue.ts). Unlike dbus-flashmq and dbus-mqtt every outcome is
// reported: write-result events, gx-write's output, the log, and S/ replies (write-reply.ts).
import { EngineHost, routeOf } from './engine-api';
import { logText } from './log-text';
import type { Service } from './item-cache';
import type { ItemSource, SetValueOutcome } from './item-source';
import type { JsonLiteral } from './json-literal';
import { isMaskedSetting, toPlain } from './payload';
import type { ItemAddress } from './topics';
import { isInvalid, TypedValue } from './typed-value';
import { checkWriteValue, WriteLimitError } from './write-limits';
import { checkWritePolicy, WritePolicy } from './write-policy';
import { rangeProblem } from './write-range';
import { errorReply, ReplyTo, replyTopic, successReply, UNCONFIRMED_REPLY } from './write-reply';
import { parseWriteRequest, WriteRequest, WriteRequestError } from './write-request';
import { QueuedOutcome, WriteQueue, WriteQueueFullError } from './write-queue';
import { toDbusValue, typeName, withArticle, WriteTypeError } from './write-value';

export type WriteOrigin = 'mqtt' | 'flow';

export interface WriteResult {
  ok: boolean;
  /** `W/<portal>/<type>/<instance><path>` (for MQTT requests: the topic as received) */
  topic: string;
  service?: string;
  path: string;
  /** the value as written (plain JS), when it got that far */
  value?: unknown;
  /** D-Bus signature used */
  signature?: string;
  /** SetValue's return code (0 ok, 1 not writeable or refused, 2 rejected by the service) */
  code?: number;
  /** how the outcome is known (see SetValueOutcome): a reply, the item's next notification, or not at all */
  confirmation?: SetValueOutcome['confirmation'];
  /** a newer write to the same item took this one's place before it was sent */
  superseded?: boolean;
  /** asked with `onlyIfIdle`: not written, the item had a write in flight or waiting */
  skipped?: boolean;
  error?: string;
  source: WriteOrigin;
}

/** How a flow write is made (the setpoint keeper's repeats, src/nodes/setpoint-keeper.ts). */
export interface WriteOptions {
  /** who writes: handed on in the 'write-queued' event, so a writer can tell its own writes */
  writer?: object;
  /**
   * Write only if the item has no write in flight or waiting, else skip it (`skipped`, not
   * reported): a repeat of an older value never supersedes, nor comes after, a newer write.
   */
  onlyIfIdle?: boolean;
}

/**
 * The engine's 'write-queued' event: a write passed every check and is queued for SetValue
 * (emitted synchronously, in the order writes are queued, before any of them is carried out).
 */
export interface QueuedWrite {
  service: string;
  path: string;
  origin: WriteOrigin;
  writer?: object;
}

export const SKIPPED = 'not written: the item has a write in flight or waiting';

const SET_VALUE_CODES: Record<number, string> = {
  1: 'the service refused the value (not writeable, or it could not be converted)',
  2: 'the service rejected the value',
};

export const SUPERSEDED = 'superseded by a newer write to the same item';

export const STALE_REFUSAL = 'not written: the GX is not answering (nothing heard from it for a while), and a write to a GX ' +
  'that does not answer may be carried out late or not at all; it is accepted again as soon as the GX is heard';

export class Writes {
  private readonly queue: WriteQueue<SetValueOutcome>;
  /** items whose unconfirmed MQTT writes were logged (once per item, bounded) */
  private readonly unconfirmedLogged = new Set<string>();

  constructor(private readonly host: EngineHost, private readonly source: ItemSource, public policy: WritePolicy,
    maxInFlight = 4, maxWaiting = 200) {
    this.queue = new WriteQueue(maxInFlight, maxWaiting);
  }

  /** SetValue calls in flight now */
  get active(): number {
    return this.queue.active;
  }

  /**
   * A W request from the broker, its payload as the broker link received it. An empty payload
   * (what clearing a retained W delivers) is no request: ignored, at debug level.
   */
  async mqttRequest(addr: ItemAddress, topic: string, payload: Buffer | string): Promise<WriteResult | undefined> {
    if (payload.length === 0) {
      this.host.logger.debug(`ignored ${topic}: empty payload (no request; what clearing a retained W sends)`);
      return undefined;
    }
    let req;
    try {
      req = parseWriteRequest(payload);
    } catch (e) {
      if (!(e instanceof WriteRequestError)) throw e;
      return this.failed(addr, 'mqtt', e.message, topic, e.reply && { topic, ...e.reply });
    }
    if (req.noReply) this.host.logger.debug(`${topic}: no S/ reply: ${req.noReply}`);
    return this.write(addr, req.value, 'mqtt', topic, req.reply && { topic, ...req.reply });
  }

  /** A W request of ours whose topic names no possible target (`why`): refused, answered if asked. */
  mqttUnroutable(topic: string, payload: Buffer | string, why: string): void {
    if (payload.length === 0) return this.host.logger.debug(`ignored ${topic}: empty payload`);
    let reply: WriteRequest['reply'];
    try {
      reply = parseWriteRequest(payload).reply;
    } catch (e) {
      if (!(e instanceof WriteRequestError)) throw e;
      reply = e.reply;
    }
    const rest = topic.split('/').slice(2);
    this.report({ ok: false, topic, path: '/' + rest.slice(2).join('/'), error: why, source: 'mqtt' }, reply && { topic, ...reply });
  }

  /** A W request payload (`{"value":…}`) given directly; no S/ reply. */
  async writeJson(addr: ItemAddress, payload: Buffer | string, origin: WriteOrigin): Promise<WriteResult> {
    try {
      return await this.write(addr, parseWriteRequest(payload).value, origin, this.topic(addr));
    } catch (e) {
      if (!(e instanceof WriteRequestError)) throw e;
      return this.failed(addr, origin, e.message, this.topic(addr));
    }
  }

  /** Writes a parsed JSON value to an item, typed per W4 (the item's own type where known). */
  writeLiteral(addr: ItemAddress, lit: JsonLiteral, origin: WriteOrigin, opts?: WriteOptions): Promise<WriteResult> {
    return this.write(addr, lit, origin, this.topic(addr), undefined, opts);
  }

  /** Everything up to the queue runs synchronously, so writes queue in the order they came. */
  private async write(addr: ItemAddress, lit: JsonLiteral, origin: WriteOrigin, topic: string, reply?: ReplyTo,
    opts: WriteOptions = {}): Promise<WriteResult> {
    let service: Service;
    try {
      service = routeOf(this.host.cache, addr);
    } catch (e) {
      return this.failed(addr, origin, (e as Error).message, topic, reply);
    }
    const item = service.items.get(addr.path);
    if (!item) return this.failed(addr, origin, `${addr.path} is not a known item of ${service.label}`, topic, reply, service);
    const refused = checkWritePolicy(this.policy, { type: service.type, instance: service.instance, path: addr.path });
    if (refused) return this.failed(addr, origin, refused, topic, reply, service);
    // J4: a written pincode or access-point password is never echoed, not even in errors
    const masked = isMaskedSetting(service.type, addr.path);
    const typeSig = isInvalid(item.typed) ? item.typeSig : item.sig;
    const hidden = () => `the value does not fit ${typeSig ? withArticle(typeName(typeSig)) : 'this'} item (not shown: masked setting)`;
    let value: TypedValue;
    try {
      checkWriteValue(lit);
      value = toDbusValue(lit, typeSig);
    } catch (e) {
      if (!(e instanceof WriteTypeError || e instanceof WriteLimitError)) throw e;
      return this.failed(addr, origin, masked ? hidden() : e.message, topic, reply, service);
    }
    const outOfRange = rangeProblem(value, item.min, item.max);
    if (outOfRange) return this.failed(addr, origin, masked ? hidden() : outOfRange, topic, reply, service);
    const base = { topic, service: service.name, path: addr.path, source: origin,
      value: masked ? '******' : toPlain(value.signature, value.value), signature: value.signature };
    // a GX that does not answer (a remote source gone quiet) may carry a write out late, when it
    // wakes up, or not at all, and nothing would tell: refused, for flows and MQTT alike
    if (this.source.stale) return this.report({ ...base, ok: false, error: STALE_REFUSAL }, reply);
    const key = `${service.name}\0${addr.path}`;
    if (opts.onlyIfIdle && this.queue.busy(key)) {
      this.host.logger.debug(`write ${topic}: ${SKIPPED}`);
      return { ...base, ok: false, skipped: true, error: SKIPPED };
    }
    const queued: QueuedWrite = { service: service.name, path: addr.path, origin, writer: opts.writer };
    this.host.emit('write-queued', queued);
    let outcome: QueuedOutcome<SetValueOutcome>;
    try {
      outcome = await this.queue.run(key, () => this.source.setValue(service.name, addr.path, value));
    } catch (e) {
      const err = e as Error & { errorName?: string; busError?: string };
      if (err instanceof WriteQueueFullError) return this.report({ ...base, ok: false, error: err.message }, reply);
      // the bus's answer as it came (item-source.ts): S/ replies pass it on unwrapped
      const busError = err.errorName ?? err.busError;
      // a service's own error text might quote the value: for masked settings only its name
      const why = masked ? busError ?? 'the service answered with an error' : `${err.message}${err.errorName ? ` (${err.errorName})` : ''}`;
      return this.report({ ...base, ok: false, error: `SetValue failed: ${why}` }, reply, busError ?? `SetValue failed: ${why}`);
    }
    if (!outcome.ran) return this.report({ ...base, ok: false, superseded: true, error: SUPERSEDED }, reply);
    const { code, confirmation } = outcome.value;
    if (confirmation === 'unconfirmed') {
      if (origin === 'mqtt') this.logUnconfirmed(topic, `${service.name}\0${addr.path}`);
      return this.report({ ...base, ok: true, confirmation }, reply, UNCONFIRMED_REPLY); // no code: SetValue never answered
    }
    if (code !== 0) {
      return this.report({ ...base, ok: false, code, confirmation, error: `SetValue returned ${code}: ${SET_VALUE_CODES[code] ?? 'refused'}` }, reply);
    }
    return this.report({ ...base, ok: true, code, confirmation }, reply);
  }

  /** gx-write logs its own; W requests from the broker are logged here, once per item. */
  private logUnconfirmed(topic: string, key: string): void {
    if (this.unconfirmedLogged.has(key) || this.unconfirmedLogged.size >= 1000) return;
    this.unconfirmedLogged.add(key);
    this.host.logger.warn(`write ${logText(topic)}: sent to the GX, not confirmed (no reply, and no notification showed the ` +
      'value in time): the item may be read-only there, or the GX changed the value; its S/ reply says so (told once per item)');
  }

  private topic(addr: ItemAddress): string {
    return `W/${this.host.portalId ?? '?'}/${addr.type}/${addr.instance}${addr.path}`;
  }

  private failed(addr: ItemAddress, origin: WriteOrigin, error: string, topic: string, reply?: ReplyTo, service?: Service): WriteResult {
    return this.report({ ok: false, topic, service: service?.name, path: addr.path, error, source: origin }, reply);
  }

  /**
   * Logs, emits and answers on S/: SetValue's return code when it answered (F gives the code,
   * not an error, for a non-zero one), else `busError` (the D-Bus error name) or our reason.
   */
  private report(r: WriteResult, reply?: ReplyTo, busError?: string): WriteResult {
    if (r.superseded) this.host.logger.debug(`write ${r.topic}: ${r.error}`);
    else if (!r.ok) this.host.logger.warn(`write ${logText(r.topic)} refused: ${logText(r.error ?? '', 500)}`);
    this.host.emit('write-result', r);
    if (reply) {
      const text = r.code !== undefined ? successReply(reply, r.code) : errorReply(reply, busError ?? r.error ?? 'not written');
      this.host.out(replyTopic(reply.topic), text, false);
    }
    return r;
  }

  close(err: Error): void {
    this.queue.close(err);
  }
}

