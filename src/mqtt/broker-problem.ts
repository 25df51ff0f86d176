// Why a broker connection failed, in a few words for a node status, and whether retrying soon
// can help: a refused login or an untrusted certificate stays wrong until someone fixes the
// broker or the configuration, so those are retried slowly (and shown red), while a broker
// that is down or restarting is retried quickly (and shown yellow).

export interface BrokerProblem {
  /** a few words for a node status (at most 20 characters) */
  reason: string;
  /** retrying soon will not help: someone must change the broker or the configuration */
  permanent: boolean;
  /** the error as the MQTT client or the socket gave it */
  detail: string;
}

const TLS_UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'CERT_UNTRUSTED', 'CERT_SIGNATURE_FAILURE',
  'CERT_REJECTED', 'INVALID_CA',
]);

export function brokerProblemOf(err: Error & { code?: unknown }): BrokerProblem {
  const detail = err.message;
  const code = typeof err.code === 'string' ? err.code : '';
  const p = (reason: string, permanent: boolean): BrokerProblem => ({ reason, permanent, detail });
  // CONNACK refusals (MQTT 3.1.1 return codes 1–5, MQTT 5 reason codes)
  const refused = /^Connection refused: (.*)$/i.exec(detail);
  if (refused) {
    const why = refused[1].toLowerCase();
    if (why.includes('not authorized') || why.includes('bad user') || why.includes('bad authentication') || why.includes('banned')) {
      return p('not authorized', true);
    }
    if (why.includes('identifier')) return p('client ID refused', true);
    if (why.includes('protocol version')) return p('MQTT version refused', true);
    return p('broker unavailable', false);
  }
  if (TLS_UNTRUSTED.has(code) || /self[- ]signed|unable to verify|unable to get (local )?issuer/i.test(detail)) {
    return p('TLS: untrusted cert', true);
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return p('TLS: cert expired', true);
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return p('TLS: wrong host name', true);
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'EPROTO' || /wrong version number|handshake/i.test(detail)) {
    return p('TLS handshake failed', true);
  }
  switch (code) {
    case 'ECONNREFUSED': return p('broker refused', false);
    case 'ENOTFOUND': case 'EAI_AGAIN': return p('broker not found', false);
    case 'ETIMEDOUT': return p('broker timeout', false);
    case 'EHOSTUNREACH': case 'ENETUNREACH': return p('broker unreachable', false);
    default: return p('broker offline', false);
  }
}
