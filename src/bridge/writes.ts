// Write requests (spec W1–W5) and the one place that decides what may be written: the item
// must be known (W2), the write policy must allow it, and the value must convert to the item's
// own D-Bus type without loss (W4, improved). Unlike dbus-flashmq and dbus-mqtt, every
// outcome is reported (write-result events, gx-write's output, the log).
import { EngineHost, routeOf } from './engine-api';
import type { Service } from './item-cache';
import type { ItemSource, SetValueOutcome } from './item-source';
import { JsonLiteral, JsonSyntaxError, parseJsonLiteral } from './json-literal';
import { isMaskedSetting, toPlain } from './payload';
import type { ItemAddress } from './topics';
import { isInvalid, TypedValue } from './typed-value';
import { checkWritePolicy, WritePolicy } from './write-policy';
import { toDbusValue, WriteTypeError } from './write-value';

export type WriteOrigin = 'mqtt' | 'flow';

export interface WriteResult {
  ok: boolean;
  /** `W/<portal>/<type>/<instance><path>` */
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
  error?: string;
  source: WriteOrigin;
}

const SET_VALUE_CODES: Record<number, string> = {
  1: 'the service refused the value (not writeable, or it could not be converted)',
  2: 'the service rejected the value',
};

export class Writes {
  constructor(private readonly host: EngineHost, private readonly source: ItemSource, public policy: WritePolicy) {}

  /** A W request payload (`{"value":…}`) as text. */
  async writeJson(addr: ItemAddress, payload: string, origin: WriteOrigin): Promise<WriteResult> {
    let lit: JsonLiteral;
    try {
      lit = parseJsonLiteral(payload);
    } catch (e) {
      return this.failed(addr, origin, e instanceof JsonSyntaxError ? e.message : `invalid JSON: ${(e as Error).message}`);
    }
    if (lit.kind !== 'object' || !lit.entries.has('value')) {
      return this.failed(addr, origin, `can't find 'value' in the JSON payload (expected {"value": …})`);
    }
    return this.writeLiteral(addr, lit.entries.get('value')!, origin);
  }

  /** Writes a parsed JSON value to an item, typed per W4 (the item's own type where known). */
  async writeLiteral(addr: ItemAddress, lit: JsonLiteral, origin: WriteOrigin): Promise<WriteResult> {
    let service: Service;
    try {
      service = routeOf(this.host.cache, addr);
    } catch (e) {
      return this.failed(addr, origin, (e as Error).message);
    }
    const item = service.items.get(addr.path);
    if (!item) return this.failed(addr, origin, `${addr.path} is not a known item of ${service.name}`, service);
    const refused = checkWritePolicy(this.policy, { type: service.type, instance: service.instance, path: addr.path });
    if (refused) return this.failed(addr, origin, refused, service);
    // J4: a written pincode or access-point password is never echoed, not even in errors
    const masked = isMaskedSetting(service.type, addr.path);
    let value: TypedValue;
    try {
      value = toDbusValue(lit, isInvalid(item.typed) ? item.typeSig : item.sig);
    } catch (e) {
      if (!(e instanceof WriteTypeError)) throw e;
      return this.failed(addr, origin, masked ? `the value does not fit this ${item.typeSig ?? ''} item (not shown: masked setting)` : e.message, service);
    }
    const base = { topic: this.topic(addr), service: service.name, path: addr.path, source: origin,
      value: masked ? '******' : toPlain(value.signature, value.value), signature: value.signature };
    let outcome: SetValueOutcome;
    try {
      outcome = await this.source.setValue(service.name, addr.path, value);
    } catch (e) {
      return this.report({ ...base, ok: false, error: `SetValue failed: ${(e as Error).message}` });
    }
    const { code, confirmation } = outcome;
    if (code !== 0) {
      return this.report({ ...base, ok: false, code, confirmation, error: `SetValue returned ${code}: ${SET_VALUE_CODES[code] ?? 'refused'}` });
    }
    return this.report({ ...base, ok: true, code, confirmation });
  }

  private topic(addr: ItemAddress): string {
    return `W/${this.host.portalId ?? '?'}/${addr.type}/${addr.instance}${addr.path}`;
  }

  private failed(addr: ItemAddress, origin: WriteOrigin, error: string, service?: Service): WriteResult {
    return this.report({ ok: false, topic: this.topic(addr), service: service?.name, path: addr.path, error, source: origin });
  }

  private report(r: WriteResult): WriteResult {
    if (!r.ok) this.host.logger.warn(`write ${r.topic} refused: ${r.error}`);
    this.host.emit('write-result', r);
    return r;
  }
}
