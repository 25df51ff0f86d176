// Write acknowledgements on S/ (the reply topic of Victron's dbus-flashmq `setvalue-replies`
// branch): a W whose payload carries an integer "serial" and a string "caller_id" is answered
// on `S/<portal>/<type>/<instance>/<path>` (the W topic with S for W), QoS 0, not retained,
// keys sorted and no spaces as nlohmann::json writes them:
//   {"caller_id":"MB2w7AtF","return_code":0,"serial":123}          SetValue answered (its code)
//   {"bus_error":"<reason>","caller_id":"MB2w7AtF","serial":123}   not written: the D-Bus error
//                                                                   name, or our refusal; or sent to a
//                                                                   GX over MQTT that confirmed nothing
// Without both fields (or with a serial that is not an integer) nothing is sent, as there.

/** The reply fields of a W request. */
export interface ReplyTo {
  /** the W topic as received; the reply goes to the same topic with S for W */
  topic: string;
  /** an int64, echoed as written */
  serial: bigint;
  callerId: string;
}

/** Where UNCONFIRMED_REPLY starts: a bridge's S/ reply with this bus_error means "sent, not confirmed". */
export const UNCONFIRMED_PREFIX = 'not confirmed:';

/**
 * The bus_error of a write the source sent but nothing confirmed (a GX over MQTT that neither
 * replied nor showed the value): no return_code, which only a SetValue answer gives.
 */
export const UNCONFIRMED_REPLY = `${UNCONFIRMED_PREFIX} sent to the GX, but no reply and no notification showing the value ` +
  'came back in time; the write may or may not have been carried out';

export function replyTopic(wTopic: string): string {
  return 'S' + wTopic.slice(1);
}

export function successReply(to: ReplyTo, returnCode: number): string {
  return `{"caller_id":${JSON.stringify(to.callerId)},"return_code":${returnCode},"serial":${to.serial}}`;
}

export function errorReply(to: ReplyTo, busError: string): string {
  return `{"bus_error":${JSON.stringify(busError)},"caller_id":${JSON.stringify(to.callerId)},"serial":${to.serial}}`;
}
