// dbus-next 0.10 takes the smallest int64 to be -(2^63 - 1) and refuses to marshal
// -9223372036854775808, a valid int64 (issue 14 #14: that value could not be written to an
// int64 item). Its range check reads a shared constants object at call time, so we set the
// correct minimum there once, before any message is built. Nothing else changes: values it
// accepted before are marshalled exactly as before.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const constants = require('dbus-next/lib/constants') as { _getBigIntConstants?: () => { MIN_INT64: bigint } };

export const INT64_MIN = -(2n ** 63n);

const limits = constants._getBigIntConstants?.();
if (limits && limits.MIN_INT64 > INT64_MIN) limits.MIN_INT64 = INT64_MIN;
