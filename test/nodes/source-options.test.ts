// Where a gx-config node reaches its GX, from its settings and credentials (source-options.ts),
// and what its nodes then show (source-status.ts): every bad combination is refused with a
// message that says what to change; the reasons fit a node status.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { brokerProblemOf } from '../../src/mqtt/broker-problem';
import { certificateTarget } from '../../src/nodes/config-admin';
import { effectiveDbusAddress, sourceKindOf, sourceOptionsOf, vrmBrokerOf } from '../../src/nodes/source-options';
import { remoteReasonOf } from '../../src/nodes/source-status';
import { STATUS_MAX } from '../../src/nodes/status';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const portal = 'c0619ab1f00d';

test('D-Bus: flows without a source, and source dbus, use the D-Bus address as before', () => {
  assert.equal(sourceKindOf({}), 'dbus');
  assert.equal(sourceKindOf({ source: '' }), 'dbus');
  assert.deepEqual(sourceOptionsOf({ dbusAddress: '192.168.1.20:78' }, {}, undefined), { dbus: { address: '192.168.1.20:78' } });
  assert.deepEqual(sourceOptionsOf({ source: 'dbus', gxUrl: 'mqtt://ignored' }, {}, undefined).dbus, { address: effectiveDbusAddress('') });
  assert.equal(effectiveDbusAddress('', { NODE_RED_DBUS_ADDRESS: 'venus.local:78' }), 'venus.local:78');
  assert.throws(() => sourceOptionsOf({ source: 'bluetooth' }, {}, undefined), /'dbus', 'lan' or 'vrm', not 'bluetooth'/);
});

test('LAN: the GX\'s broker, its portal ID, a pairing token; TLS with the GX\'s certificate pinned or a tls-config node', () => {
  const plain = sourceOptionsOf({ source: 'lan', gxUrl: '192.168.1.20', portalId: portal }, {}, undefined).remote!;
  assert.equal(plain.gx, '192.168.1.20');
  assert.equal(plain.username, undefined);
  const token = { gxUsername: 'token/nodered/a1', gxPassword: 'pw' };
  const pinned = sourceOptionsOf({ source: 'lan', gxUrl: 'mqtts://192.168.1.20', portalId: portal, gxCert: PEM, staleSeconds: '6' }, token, undefined).remote!;
  assert.equal(pinned.ca, PEM.trim());
  assert.equal(pinned.username, 'token/nodered/a1');
  assert.equal(pinned.password, 'pw');
  assert.equal(pinned.timing?.staleMs, 6000);
  const viaNode = sourceOptionsOf({ source: 'lan', gxUrl: 'wss://gx/mqtt', portalId: portal, gxCertMode: 'tls-config', gxTls: 't1' }, {},
    { ca: 'CA', rejectUnauthorized: false }).remote!;
  assert.equal(viaNode.ca, 'CA');
  assert.equal(viaNode.rejectUnauthorized, false);
  for (const [def, creds, why] of [
    [{ source: 'lan', portalId: portal }, {}, /the GX's broker is missing: give mqtt:\/\/<gx-address>/],
    [{ source: 'lan', gxUrl: 'mqtt://u:p@gx', portalId: portal }, {}, /contains a user name or password: .* User and Password fields/],
    [{ source: 'lan', gxUrl: 'http://gx', portalId: portal }, {}, /must be mqtt:\/\/, mqtts:\/\/, ws:\/\/ or wss:\/\//],
    [{ source: 'lan', gxUrl: 'mqtt://gx' }, {}, /needs its Portal ID \(on the GX: Settings → VRM online portal/],
    [{ source: 'lan', gxUrl: 'mqtt://gx', portalId: 'a/b' }, {}, /not a portal ID/],
    [{ source: 'lan', gxUrl: 'mqtt://gx', portalId: portal }, { gxPassword: 'x' }, /a password needs a user name/],
    [{ source: 'lan', gxUrl: 'mqtts://gx', portalId: portal }, {}, /the GX's own certificate is missing: .*Fetch from the GX/],
    [{ source: 'lan', gxUrl: 'mqtts://gx', portalId: portal, gxCert: 'not a certificate' }, {}, /certificate is missing/],
    [{ source: 'lan', gxUrl: 'mqtts://gx', portalId: portal, gxCertMode: 'tls-config' }, {}, /choose the TLS configuration/],
    [{ source: 'lan', gxUrl: 'mqtts://gx', portalId: portal, gxCertMode: 'tls-config', gxTls: 'gone' }, {}, /\(gone\) is missing or disabled/],
    [{ source: 'lan', gxUrl: 'mqtt://gx', portalId: portal, staleSeconds: '-1' }, {}, /"Stale after" must be 6 to 3600 seconds/],
    // shorter than two heartbeats (3 s each): one late heartbeat would make the GX stale
    [{ source: 'lan', gxUrl: 'mqtt://gx', portalId: portal, staleSeconds: '0' }, {}, /must be 6 to 3600 seconds .*not '0'/],
    [{ source: 'lan', gxUrl: 'mqtt://gx', portalId: portal, staleSeconds: '5.9' }, {}, /must be 6 to 3600 seconds/],
    [{ source: 'vrm', portalId: portal, staleSeconds: '3601' }, { vrmEmail: 'a@b.c', vrmToken: 't' }, /must be 6 to 3600 seconds/],
  ] as const) {
    assert.throws(() => sourceOptionsOf(def, creds, undefined), why, JSON.stringify(def));
  }
});

test('VRM: portal ID, e-mail and access token; the broker from the portal ID (or a proxy from the settings)', () => {
  const login = { vrmEmail: 'me@example.com', vrmToken: 'abc' };
  const r = sourceOptionsOf({ source: 'vrm', portalId: portal }, login, undefined).remote!;
  assert.deepEqual({ gx: r.gx, username: r.username, vrmToken: r.vrmToken, vrmUrl: r.vrmUrl }, { gx: 'vrm', username: 'me@example.com', vrmToken: 'abc', vrmUrl: undefined });
  assert.equal(sourceOptionsOf({ source: 'vrm', portalId: portal, vrmTransport: 'wss' }, login, undefined).remote!.gx, 'vrm-ws');
  assert.equal(sourceOptionsOf({ source: 'vrm', portalId: portal }, login, undefined, { vrmBrokerUrl: 'mqtt://proxy:1883' }).remote!.vrmUrl, 'mqtt://proxy:1883');
  assert.equal(vrmBrokerOf(portal, 'mqtts'), 'mqtts://mqtt81.victronenergy.com:8883');
  assert.equal(vrmBrokerOf(portal, 'wss'), 'wss://webmqtt81.victronenergy.com/mqtt');
  assert.throws(() => sourceOptionsOf({ source: 'vrm', portalId: portal }, { vrmEmail: 'me@example.com' }, undefined), /VRM needs your VRM e-mail address and a VRM access token/);
  assert.throws(() => sourceOptionsOf({ source: 'vrm' }, login, undefined), /reached through VRM needs its Portal ID/);
  assert.throws(() => sourceOptionsOf({ source: 'vrm', portalId: portal, vrmTransport: 'ftp' }, login, undefined), /'mqtts' or 'wss'/);
});

test('why the GX cannot be reached, in a node status: told apart from the bridged broker\'s problems, VRM named', () => {
  const e = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});
  const cases: Array<[Error, boolean, string]> = [
    [e('Connection refused: Not authorized'), false, 'GX: not authorized'],
    [e('Connection refused: Bad username or password'), true, 'VRM: not authorized'],
    [e('self-signed certificate', 'DEPTH_ZERO_SELF_SIGNED_CERT'), false, 'GX cert not trusted'],
    [e('certificate has expired', 'CERT_HAS_EXPIRED'), true, 'VRM cert expired'],
    [e("Hostname/IP does not match certificate's altnames", 'ERR_TLS_CERT_ALTNAME_INVALID'), false, 'GX cert: wrong name'],
    [e('connect ECONNREFUSED 192.168.1.20:8883', 'ECONNREFUSED'), false, 'GX refused'],
    [e('getaddrinfo ENOTFOUND venus.local', 'ENOTFOUND'), false, 'GX not found'],
    [e('connack timeout'), false, 'GX offline'],
  ];
  for (const [err, vrm, want] of cases) {
    const text = remoteReasonOf(brokerProblemOf(err), vrm);
    assert.equal(text, want, err.message);
    assert.ok(text.length <= STATUS_MAX, text);
  }
  assert.equal(remoteReasonOf({ reason: 'no access', permanent: true, detail: '' }, true), 'VRM: no access');
});

test('the GX\'s TLS port for "Fetch from the GX"', () => {
  assert.equal(certificateTarget('mqtts://192.168.1.20'), '192.168.1.20:8883');
  assert.equal(certificateTarget('mqtts://venus.local:9883'), 'venus.local:9883');
  assert.equal(certificateTarget('wss://192.168.1.20/mqtt'), '192.168.1.20:443');
  assert.equal(certificateTarget('192.168.1.20'), '192.168.1.20:8883');
  assert.equal(certificateTarget('mqtts://[fe80::1]:8883'), '[fe80::1]:8883');
  assert.throws(() => certificateTarget('mqtt://192.168.1.20'), /use mqtts:\/\//);
  assert.throws(() => certificateTarget('mqtts://u:p@gx'), /is not the address/);
  assert.throws(() => certificateTarget(42), /is not the address/);
  assert.throws(() => certificateTarget('mqtts://gx:99999'), /not a TCP port/);
});
