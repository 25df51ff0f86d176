// The GX's connection in a few words, for every node of a gx-config: D-Bus or the GX's broker
// (LAN or VRM) connecting, down and why, scanning, connected, and "GX not answering" while a GX
// reached over MQTT is stale. The D-Bus tracker only says why it is down with its state, so
// its reasons are logged here, once per distinct reason; the remote source logs its own.
import type { Logger } from '../bridge/engine';
import type { BrokerProblem } from '../mqtt/broker-problem';
import type { GxGateway } from '../gateway';
import { dbusReasonOf } from './dbus-problem';
import { NodeStatus, Status } from './status';

/** What a GX over MQTT shows while connected but silent (stale). */
export const STALE_TEXT = 'GX not answering';

/**
 * Why the GX's broker (or VRM's) cannot be reached, in at most 20 characters, told apart from
 * the problems of the broker a gx-config bridges to (gx-keepalive shows those).
 */
export function remoteReasonOf(problem: BrokerProblem, vrm: boolean): string {
  const who = vrm ? 'VRM' : 'GX';
  switch (problem.reason) {
    case 'not authorized': return `${who}: not authorized`;
    case 'no access': return `${who}: no access`;
    case 'TLS: untrusted cert': return `${who} cert not trusted`;
    case 'TLS: cert expired': return `${who} cert expired`;
    case 'TLS: wrong host name': return `${who} cert: wrong name`;
    case 'TLS handshake failed': return `${who}: TLS failed`;
    case 'client ID refused': return 'client ID refused';
    case 'MQTT version refused': return 'MQTT version refused';
    default: return problem.reason.replace(/^broker /, `${who} `);
  }
}

export class SourceStatus {
  /** the D-Bus reason last logged (once per distinct reason, not once per retry) */
  private dbusLogged: string | undefined;

  constructor(private readonly gateway: GxGateway, private readonly log: Logger) {}

  /** The source's state changed: logs why D-Bus went down, and that it came back. */
  stateChanged(state: string, detail?: string): void {
    const gw = this.gateway;
    if (gw.remote) return; // the remote source logs its reasons itself
    const where = gw.tracker.address;
    const label = where.label === where.address ? where.address : `${where.label} (${where.address})`;
    if (state === 'disconnected') {
      const reason = dbusReasonOf(detail);
      if (reason !== this.dbusLogged) {
        this.dbusLogged = reason;
        this.log.warn(`D-Bus ${label}: ${(detail ?? 'disconnected').replace(/^D-Bus error: /, '')}; retrying`);
      }
    } else if (state === 'connected' && this.dbusLogged !== undefined) {
      this.dbusLogged = undefined;
      this.log.info(`connected to D-Bus ${label} again`);
    }
  }

  /** Why it is down, while it retries; undefined when nothing went wrong (yet). */
  private reason(): string | undefined {
    const remote = this.gateway.remote;
    if (!remote) return this.dbusLogged;
    const p = remote.problem;
    return p ? remoteReasonOf(p, remote.vrm) : undefined;
  }

  /** The connection's status, before the scan and the portal ID are looked at; undefined when connected. */
  current(): NodeStatus | undefined {
    const engine = this.gateway.engine;
    const reason = this.reason();
    switch (engine.sourceState) {
      case 'connecting':
        // while it retries, the reason stays shown (no red/yellow flapping per attempt)
        return reason ? Status.disconnected(reason) : Status.connecting();
      case 'disconnected':
        return Status.disconnected(reason ?? 'disconnected');
      case 'closed':
        return Status.disconnected('closed');
    }
    if (engine.stale) return Status.connecting(STALE_TEXT);
    return undefined;
  }
}
