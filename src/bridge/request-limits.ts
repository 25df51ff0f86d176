// How much of an MQTT request the bridge is willing to look at. Neither reference bridge has a
// limit (spec §10 "very large payload"); a GX must not fall over because a client sends
// megabytes, so larger requests are dropped before they are decoded or parsed.

/** Payload bytes of one R or W request; a larger one is dropped unread and logged. */
export const MAX_REQUEST_PAYLOAD = 64 * 1024;

/** Topic filters one legacy keep-alive may carry (K-P3; matching costs per filter and change). */
export const MAX_KEEPALIVE_FILTERS = 1000;

/** Live legacy subscriptions at once; new filters beyond this are refused. */
export const MAX_LEGACY_SUBSCRIPTIONS = 1000;
