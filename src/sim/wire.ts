// A small, fast D-Bus marshaller (little endian) for the messages the simulator sends: method
// returns, errors and signals. dbus-next's own marshaller builds a stream object per array and
// takes ~23 ms for a GetItems reply of 1000 paths; this one writes into one growing Buffer and
// produces byte-identical messages (checked against dbus-next in test/sim/wire.test.ts). The
// bytes go out on the service's own dbus-next connection socket with a serial from
// bus.newSerial(), so they interleave correctly with what dbus-next sends itself.
// Values must be in dbus-next's JS shapes (see values.ts).
import { Variant } from 'dbus-next';

type Node = { t: string; c: Node[] };

const treeCache = new Map<string, Node[]>();

function parse(sig: string): Node[] {
  let tree = treeCache.get(sig);
  if (tree) return tree;
  let i = 0;
  const one = (): Node => {
    const t = sig[i++];
    if (t === undefined) throw new Error(`incomplete signature '${sig}'`);
    if (t === 'a') return { t, c: [one()] };
    if (t === '(' || t === '{') {
      const close = t === '(' ? ')' : '}';
      const c: Node[] = [];
      while (sig[i] !== close) {
        if (i >= sig.length) throw new Error(`unbalanced signature '${sig}'`);
        c.push(one());
      }
      i++;
      return { t, c };
    }
    if (!'ybnqiuxtdsogv'.includes(t)) throw new Error(`unsupported type '${t}' in '${sig}'`);
    return { t, c: [] };
  };
  tree = [];
  while (i < sig.length) tree.push(one());
  if (treeCache.size > 1000) treeCache.clear();
  treeCache.set(sig, tree);
  return tree;
}

function alignOf(t: string): number {
  switch (t) {
    case 'y': case 'g': case 'v': return 1;
    case 'n': case 'q': return 2;
    case 'x': case 't': case 'd': case '(': case '{': return 8;
    default: return 4; // b i u s o a h
  }
}

const RANGES: Record<string, [number, number]> = {
  y: [0, 0xff], n: [-0x8000, 0x7fff], q: [0, 0xffff], i: [-0x80000000, 0x7fffffff], u: [0, 0xffffffff],
};

export class Writer {
  buf: Buffer;
  pos = 0;

  constructor(size = 256) {
    this.buf = Buffer.allocUnsafe(size);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const b = Buffer.allocUnsafe(size);
    this.buf.copy(b, 0, 0, this.pos);
    this.buf = b;
  }

  align(n: number): void {
    const pad = (n - (this.pos % n)) % n;
    if (pad === 0) return;
    this.ensure(pad);
    this.buf.fill(0, this.pos, this.pos + pad);
    this.pos += pad;
  }

  u8(v: number): void { this.ensure(1); this.buf[this.pos++] = v; }
  u32(v: number): void { this.align(4); this.ensure(4); this.buf.writeUInt32LE(v, this.pos); this.pos += 4; }

  string(s: string): void {
    if (typeof s !== 'string') throw new Error(`expected a string, got ${typeof s}`);
    const len = Buffer.byteLength(s, 'utf8');
    this.u32(len);
    this.ensure(len + 1);
    this.buf.write(s, this.pos, 'utf8');
    this.pos += len;
    this.buf[this.pos++] = 0;
    if (s.includes('\0')) throw new Error('string contains a NUL character');
  }

  signature(s: string): void {
    if (typeof s !== 'string' || s.length > 255) throw new Error('bad signature');
    this.ensure(s.length + 2);
    this.buf[this.pos++] = s.length;
    this.buf.write(s, this.pos, 'ascii');
    this.pos += s.length;
    this.buf[this.pos++] = 0;
  }

  value(node: Node, v: unknown): void {
    switch (node.t) {
      case 'y': case 'n': case 'q': case 'i': case 'u': {
        if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`expected an integer for '${node.t}', got ${String(v)}`);
        const [lo, hi] = RANGES[node.t];
        if (v < lo || v > hi) throw new Error(`${v} out of range for '${node.t}'`);
        if (node.t === 'y') { this.u8(v); return; }
        if (node.t === 'n' || node.t === 'q') {
          this.align(2); this.ensure(2);
          if (node.t === 'n') this.buf.writeInt16LE(v, this.pos); else this.buf.writeUInt16LE(v, this.pos);
          this.pos += 2;
          return;
        }
        this.align(4); this.ensure(4);
        if (node.t === 'i') this.buf.writeInt32LE(v, this.pos); else this.buf.writeUInt32LE(v, this.pos);
        this.pos += 4;
        return;
      }
      case 'b':
        if (!(typeof v === 'boolean' || v === 0 || v === 1)) throw new Error(`expected a boolean, got ${String(v)}`);
        this.u32(v ? 1 : 0);
        return;
      case 'x': case 't': {
        const b = typeof v === 'bigint' ? v : BigInt(v as number);
        this.align(8); this.ensure(8);
        if (node.t === 'x') this.buf.writeBigInt64LE(b, this.pos); else this.buf.writeBigUInt64LE(b, this.pos);
        this.pos += 8;
        return;
      }
      case 'd':
        if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`expected a finite number, got ${String(v)}`);
        this.align(8); this.ensure(8);
        this.buf.writeDoubleLE(v, this.pos);
        this.pos += 8;
        return;
      case 's': case 'o':
        this.string(v as string);
        return;
      case 'g':
        this.signature(v as string);
        return;
      case 'v': {
        if (!(v instanceof Variant)) throw new Error('expected a Variant');
        const tree = parse(v.signature);
        if (tree.length !== 1) throw new Error(`variant signature '${v.signature}' is not one type`);
        this.signature(v.signature);
        this.value(tree[0], v.value);
        return;
      }
      case '(': {
        if (!Array.isArray(v) || v.length !== node.c.length) throw new Error('struct value does not match its signature');
        this.align(8);
        node.c.forEach((c, k) => this.value(c, v[k]));
        return;
      }
      case 'a': {
        const el = node.c[0];
        this.align(4);
        const lenPos = this.pos;
        this.u32(0);
        this.align(alignOf(el.t));
        const start = this.pos;
        if (el.t === 'y' && Buffer.isBuffer(v)) {
          this.ensure(v.length);
          v.copy(this.buf, this.pos);
          this.pos += v.length;
        } else if (el.t === '{') {
          if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('expected an object for a dict');
          const [kn, vn] = el.c;
          for (const k of Object.keys(v)) {
            this.align(8);
            this.value(kn, k);
            this.value(vn, (v as Record<string, unknown>)[k]);
          }
        } else {
          if (!Array.isArray(v)) throw new Error(`expected an array for 'a${el.t}'`);
          for (const e of v) this.value(el, e);
        }
        this.buf.writeUInt32LE(this.pos - start, lenPos);
        return;
      }
      default:
        throw new Error(`unsupported type '${node.t}'`);
    }
  }

  /** Writes a body (list of values for the types in `sig`). */
  body(sig: string, values: unknown[]): void {
    const tree = parse(sig);
    if (tree.length !== values.length) throw new Error(`body has ${values.length} values for signature '${sig}'`);
    tree.forEach((n, k) => this.value(n, values[k]));
  }
}

const METHOD_RETURN = 2;
const ERROR = 3;
const SIGNAL = 4;

export interface Header {
  type: number;
  serial: number;
  flags?: number;
  path?: string;
  interface?: string;
  member?: string;
  errorName?: string;
  replySerial?: number;
  destination?: string;
}

const FIELD_HEADER = parse('a(yv)')[0].c[0].c; // [y, v]

/** A complete message: fixed header, header fields (in dbus-next's order), padding, body. */
export function encodeMessage(h: Header, sig: string, body: unknown[]): Buffer {
  const bodyW = new Writer(256);
  if (sig) bodyW.body(sig, body);
  const w = new Writer(128 + bodyW.pos);
  w.u8(108); // 'l'
  w.u8(h.type);
  w.u8(h.flags ?? 0);
  w.u8(1);
  w.u32(bodyW.pos);
  w.u32(h.serial);
  const lenPos = w.pos;
  w.u32(0);
  w.align(8);
  const start = w.pos;
  const field = (code: number, s: string, v: unknown) => {
    w.align(8);
    w.value(FIELD_HEADER[0], code);
    w.value(FIELD_HEADER[1], new Variant(s, v));
  };
  if (h.path) field(1, 'o', h.path);
  if (h.interface) field(2, 's', h.interface);
  if (h.member) field(3, 's', h.member);
  if (h.errorName) field(4, 's', h.errorName);
  if (h.replySerial) field(5, 'u', h.replySerial);
  if (h.destination) field(6, 's', h.destination);
  if (sig) field(8, 'g', sig);
  w.buf.writeUInt32LE(w.pos - start, lenPos);
  w.align(8);
  const out = Buffer.allocUnsafe(w.pos + bodyW.pos);
  w.buf.copy(out, 0, 0, w.pos);
  bodyW.buf.copy(out, w.pos, 0, bodyW.pos);
  return out;
}

export function encodeMethodReturn(serial: number, replySerial: number, destination: string | undefined, sig: string, body: unknown[]): Buffer {
  return encodeMessage({ type: METHOD_RETURN, serial, replySerial, destination }, sig, body);
}

export function encodeError(serial: number, replySerial: number, destination: string | undefined, errorName: string, text: string): Buffer {
  return encodeMessage({ type: ERROR, serial, replySerial, destination, errorName }, 's', [text]);
}

export function encodeSignal(serial: number, path: string, iface: string, member: string, sig: string, body: unknown[]): Buffer {
  return encodeMessage({ type: SIGNAL, serial, path, interface: iface, member }, sig, body);
}
