// gx-write: writes msg.payload to an item and reports the outcome: every write, failed or
// not, sends its result message; a failure also goes to done(err) (Catch nodes, or Node-RED's
// log once when there is no Catch node). With "repeat every N s" the value is written again
// every N s until a stop message, a redeploy, the hold time without a new value, or the GX
// going away (src/nodes/setpoint-keeper.ts). A write superseded by a newer one to the same item
// is reported (ok: false, superseded: true) but is no failure of the flow: the newer value is
// the one it wants. null ("invalid") is written only when the node allows it, and a gx-notify
// message about a vanished item never.
import type { NodeMessage } from 'node-red';
import type { WriteOrigin } from '../../src/bridge/engine';
import { WriteController, isVanish, NULL_REFUSED, PreparedWrite, valueOf, VANISH_REFUSED } from '../../src/nodes/write-controller';
import { attachToConfig, flag, Node, NodeAPI, PaletteDef, statusOf } from '../../src/nodes/red';
import { Hold, InputOutcome, SetpointKeeper, StopReason } from '../../src/nodes/setpoint-keeper';
import { NodeStatus, Status, STATUS_MAX } from '../../src/nodes/status';
import { UnconfirmedLog, writtenStatus } from '../../src/nodes/write-outcome';
import { keeperOptionsOf, holdStatusText, KeeperDef } from '../../src/nodes/write-repeat';

/** How long a redeploy waits for a write in flight before the node closes. */
const CLOSE_WAIT_MS = 5000;

interface Def extends PaletteDef, KeeperDef {
  path?: string;
  /** write null ("invalid") when a message asks for it (off: refused) */
  allowInvalid?: boolean | string;
}

interface HoldContext {
  /** a copy of the message that started the hold: repeat results and errors refer to it */
  msg: NodeMessage;
}

export = function register(RED: NodeAPI): void {
  function GxWrite(this: Node, def: Def) {
    RED.nodes.createNode(this, def);
    const node: Node = this as Node; // the keeper's hooks run outside the input handler
    const status = statusOf(this);
    let connection: NodeStatus | undefined;
    let keeper: SetpointKeeper<HoldContext> | undefined;
    const showHolds = (): boolean => {
      const holds = keeper?.holds ?? [];
      if (holds.length === 0 || (connection && connection.fill !== 'green')) return false;
      status.set(holds.some((h) => h.failures > 0) ? Status.failed('repeat failed') : Status.ok(holdStatusText(holds)));
      return true;
    };
    const config = attachToConfig(RED, this, def, status, {
      onStatus: (s) => {
        connection = s;
        if (!showHolds()) status.set(s);
      },
    });
    if (!config?.engine) return;
    const engine = config.engine;
    const controller = new WriteController(engine, def.path ?? '', flag(def.allowInvalid));
    const inFlight = new Set<Promise<unknown>>();
    /** inputs being written: a superseded one leaves the status to the newer one */
    let writing = 0;
    const unconfirmed = new UnconfirmedLog((t) => this.warn(t));
    const track = <T>(p: Promise<T>): Promise<T> => {
      const tracked = config.trackWrite(p);
      inFlight.add(tracked);
      const forget = () => inFlight.delete(tracked);
      tracked.then(forget, forget);
      return tracked;
    };

    let settingsError: string | undefined;
    const keeperOpts = (() => {
      try {
        return keeperOptionsOf(def);
      } catch (e) {
        settingsError = (e as Error).message;
        return undefined;
      }
    })();
    if (settingsError) {
      status.set(Status.failed('bad repeat setting'));
      this.error(settingsError);
    }
    const repeatOutput = flag(def.repeatOutput);
    if (keeperOpts) {
      keeper = new SetpointKeeper<HoldContext>(engine, keeperOpts, {
        write: (addr, lit, opts) => track(controller.writeTo(addr, lit, opts)),
        repeated: (h, r) => {
          if (repeatOutput) node.send({ ...RED.util.cloneMessage(h.context.msg), payload: r, repeat: h.repeats } as NodeMessage);
          else node.debug(`repeat ${h.repeats} of ${describe(h)}: ${r.ok ? 'written' : r.error}`);
        },
        failing: (h, r) => {
          // once per run of failures: a result message (unless every repeat sends one), the status, Catch/log
          if (!repeatOutput) node.send({ ...RED.util.cloneMessage(h.context.msg), payload: r, repeat: h.repeats } as NodeMessage);
          node.error(`repeating ${describe(h)} failed: ${r.error}; trying again every ${keeperOpts.repeatMs / 1000} s, ` +
            `${keeperOpts.maxFailures ?? 3} failures in a row end the hold`, h.context.msg);
        },
        ended: (h, reason) => ended(h, reason),
        changed: () => { showHolds(); },
      });
    }

    function describe(h: Hold<HoldContext>): string {
      return `${short(h.value)} to ${h.key}`;
    }

    function ended(h: Hold<HoldContext>, reason: StopReason): void {
      const why: Partial<Record<StopReason, [NodeStatus, string]>> = {
        expired: [Status.idle('hold expired'), `no new value for ${keeperOpts!.holdMs / 1000} s: stopped repeating ${describe(h)}; ` +
          'the GX falls back to its own control until a new value arrives'],
        failed: [Status.failed('hold failed'), `stopped repeating ${describe(h)} after ${h.failures} failed writes in a row ` +
          `(last: ${h.lastError}); send a new value to hold again`],
        'service-gone': [Status.failed('device gone'), `stopped repeating ${describe(h)}: its service ${h.service} left the bus; ` +
          'send a new value to hold again'],
        'gx-gone': [Status.failed('GX gone'), `stopped repeating ${describe(h)}: the connection to the GX went away; ` +
          'it does not resume by itself, send a new value to hold again'],
        'taken-over': [Status.idle('taken over'), `stopped repeating ${describe(h)}: ${elsewhere(h.takenOverBy)} wrote the item ` +
          'since, and its newer value is not written over; send a new value to hold again'],
      };
      const w = why[reason];
      if (w) node.warn(w[1]);
      if (!showHolds()) status.set(w ? w[0] : Status.idle('stopped'));
    }

    this.on('input', (msg, send, done) => {
      if (settingsError) {
        const result = controller.failed(undefined, settingsError);
        send({ ...msg, payload: result });
        done(new Error(settingsError));
        return;
      }
      const m = msg as NodeMessage & { stop?: unknown };
      if (m.stop === true || (keeper && msg.payload !== undefined && valueOf(msg.payload) === null)) {
        // a stop: of the item the message names, or of every hold when it names none
        const t = controller.target(msg.topic);
        const stopped = keeper ? keeper.stop(t.addr) : 0;
        const result: Record<string, unknown> = { ok: true, stopped, source: 'flow' };
        if (t.addr) {
          const r = controller.failed(t.addr, '');
          result.topic = r.topic;
          result.path = r.path;
        }
        send({ ...msg, payload: result });
        if (!showHolds()) status.set(Status.idle(stopped > 0 ? 'stopped' : 'nothing held'));
        done();
        return;
      }
      status.set(Status.busy('writing'));
      const prepared: PreparedWrite = isVanish(msg as { gx?: unknown })
        ? { ok: false, result: controller.failed(controller.target(msg.topic).addr, VANISH_REFUSED) }
        : controller.prepare(msg.topic, msg.payload);
      writing++;
      // with a keeper, the item's hold ends before the new value is queued, and a new one
      // starts only from this write's result (setpoint-keeper.ts input())
      const write: Promise<InputOutcome<HoldContext>> = !prepared.ok ? Promise.resolve({ result: prepared.result })
        : keeper ? keeper.input(prepared.addr, prepared.lit, { msg: RED.util.cloneMessage(msg) })
          : track(controller.writeTo(prepared.addr, prepared.lit)).then((result) => ({ result }));
      write.then(({ result, overtakenBy }) => {
        writing--;
        send({ ...msg, payload: result });
        if (result.ok) {
          if (overtakenBy) {
            node.warn(`wrote ${short(result.value)} to ${result.topic}, but does not hold it: ${elsewhere(overtakenBy)} wrote ` +
              'the item right after, and its newer value is not written over');
          }
          // "sent, not confirmed" (a GX over MQTT said nothing) is no failure: see write-outcome.ts
          if (!showHolds()) status.set(writtenStatus(result));
          unconfirmed.note(result);
          done();
        } else if (result.superseded) {
          // no failure of the flow: a newer write to the item took its place, and that one is
          // the value wanted (it reports itself); the status is left to it
          node.debug(`write to ${result.topic}: ${result.error}`);
          if (writing === 0 && !showHolds()) status.set(Status.idle('superseded'));
          done();
        } else {
          status.set(Status.failed(failedStatus(result.error)));
          done(new Error(result.topic ? `write to ${result.topic} failed: ${result.error}` : `write failed: ${result.error}`));
        }
      }, (err: Error) => {
        // not expected (the controller turns failures into results), but never silent
        writing--;
        send({ ...msg, payload: { ok: false, error: err.message, source: 'flow' } });
        status.set(Status.failed('write failed'));
        done(err);
      }).catch((e: Error) => this.error(e.message));
    });
    // a redeploy during a write: the write completes and reports before the node goes; holds end
    this.on('close', (_removed: boolean, done: () => void) => {
      keeper?.close();
      if (inFlight.size === 0) return done();
      const timer = setTimeout(done, CLOSE_WAIT_MS);
      Promise.allSettled([...inFlight]).then(() => {
        clearTimeout(timer);
        done();
      });
    });
  }
  RED.nodes.registerType('gx-write', GxWrite as never);
};

function short(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > STATUS_MAX ? s.slice(0, STATUS_MAX) : s;
}

/** Who else wrote an item (a hold ends, or an input is not held). */
function elsewhere(origin: WriteOrigin | undefined): string {
  return origin === 'mqtt' ? 'an MQTT write request (W/…)' : 'another flow write (another gx-write node)';
}

/** The status of a failed write: what is wrong, in a few words. */
function failedStatus(error: string | undefined): string {
  if (error === NULL_REFUSED) return 'null not written';
  if (error === VANISH_REFUSED) return 'vanish not written';
  return 'write failed';
}
