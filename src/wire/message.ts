// Heartbeat's message (struct ha_msg): an ordered list of name=value fields.
// Order matters: the signatures are computed over the fields in wire order, and a
// field we do not know must travel on unchanged, so nothing here ever sorts or drops.

/** FT_STRING in cluster-glue's ha_msg.h. */
export const FT_STRING = 0;
/** FT_BINARY: raw bytes (srcuuid, destuuid). Struct, list and compressed types are not supported. */
export const FT_BINARY = 1;

export type Field =
  | { name: string; type: typeof FT_STRING; value: string }
  | { name: string; type: typeof FT_BINARY; value: Buffer };

export type FieldType = Field['type'];

// Field names Heartbeat uses, under its own names (include/ha_msg.h).
export const F_TYPE = 't';
export const F_STATUS = 'st';
export const F_DT = 'dt';
export const F_PROTOCOL = 'protocol';
export const F_ORIG = 'src';
export const F_ORIGUUID = 'srcuuid';
export const F_TO = 'dest';
export const F_TOUUID = 'destuuid';
export const F_SEQ = 'seq';
export const F_HBGENERATION = 'hg';
export const F_TIME = 'ts';
export const F_LOAD = 'ld';
export const F_TTL = 'ttl';
export const F_AUTH = 'auth';
export const F_ACKSEQ = 'ackseq';

/** Message types starting with this carry no seq (T_ACKMSG = "NS_ackmsg", "NS_rexmit", ...). */
export const NOSEQ_PREFIX = 'NS_';

export class HbMessage {
  readonly fields: Field[];

  constructor(fields: Field[] = []) {
    this.fields = fields;
  }

  /**
   * Build a message of string fields, in the order given. (An object puts names that look
   * like integers first, so use the list form for such names.)
   */
  static of(pairs: Record<string, string> | [string, string][]): HbMessage {
    const list = Array.isArray(pairs) ? pairs : Object.entries(pairs);
    return new HbMessage(list.map(([name, value]) => ({ name, type: FT_STRING, value })));
  }

  /** A deep copy: binary values are copied too, so the copy can be changed freely. */
  clone(): HbMessage {
    return new HbMessage(
      this.fields.map((f) =>
        f.type === FT_BINARY ? { name: f.name, type: FT_BINARY, value: Buffer.from(f.value) } : { ...f },
      ),
    );
  }

  get(name: string): Field | undefined {
    return this.fields.find((f) => f.name === name);
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** The value of a string field (ha_msg_value); undefined if absent or binary. */
  getString(name: string): string | undefined {
    const f = this.get(name);
    return f?.type === FT_STRING ? f.value : undefined;
  }

  getBinary(name: string): Buffer | undefined {
    const f = this.get(name);
    return f?.type === FT_BINARY ? f.value : undefined;
  }

  /** Like ha_msg_mod: replace the field where it stands, or append it at the end. */
  set(name: string, value: string): this {
    return this.put({ name, type: FT_STRING, value });
  }

  setBinary(name: string, value: Buffer): this {
    return this.put({ name, type: FT_BINARY, value });
  }

  remove(name: string): this {
    const i = this.fields.findIndex((f) => f.name === name);
    if (i >= 0) this.fields.splice(i, 1);
    return this;
  }

  /** A field Heartbeat writes with "%lx" (seq, hg, ts, dt, ackseq) as a number. */
  getHex(name: string): number | undefined {
    return parseHex(this.getString(name));
  }

  private put(field: Field): this {
    const i = this.fields.findIndex((f) => f.name === field.name);
    if (i >= 0) this.fields[i] = field;
    else this.fields.push(field);
    return this;
  }
}

/**
 * Heartbeat reads these with sscanf("%lx"); we are stricter: hex digits only, and few
 * enough of them to stay an exact JavaScript number.
 */
export function parseHex(text: string | undefined): number | undefined {
  if (text === undefined || !/^[0-9a-fA-F]{1,13}$/.test(text)) return undefined;
  return parseInt(text, 16);
}

/** The "%lx" rendition Heartbeat uses for seq, hg, ts and dt. */
export function toHex(n: number): string {
  return n.toString(16);
}
