import { decode, ExtData, encode } from '@msgpack/msgpack';
import { jsonDepthBeyond } from '../../schema/common';
import type { CtyType } from './schema';

/*
 * Terraform values on the wire: DynamicValue.msgpack is cty's msgpack encoding, read and written
 * against the attribute types of our schema. Unknown values are msgpack extensions (any extension
 * type counts, refined unknowns included); a value of the "dynamic" type travels as a pair of its
 * concrete type (JSON) and the value in that type.
 */

/** A value not known until apply. */
export const UNKNOWN: unique symbol = Symbol('unknown');

/** A value of the `dynamic` type, with the concrete type it arrived with (kept so a plan echoes config exactly). */
export class DynamicValue {
  constructor(
    readonly type: CtyType,
    readonly value: CtyValue,
  ) {}
}

/** A decoded Terraform value. */
export type CtyValue =
  | null
  | typeof UNKNOWN
  | string
  | number
  | boolean
  | DynamicValue
  | CtyValue[]
  | { [name: string]: CtyValue };

/** An object value: attribute name to value. */
export type CtyObject = { [name: string]: CtyValue };

// cty writes an unknown as a one-byte extension of type 0.
const UNKNOWN_EXTENSION = new ExtData(0, new Uint8Array([0]));

/**
 * How deeply a value from the engine may nest before it is walked: our schema nests a few levels,
 * metadata at most METADATA_MAX_DEPTH more, and a dynamic value adds a pair per level. Deeper
 * input is refused with a diagnostic rather than walked into a stack overflow.
 */
const WIRE_MAX_DEPTH = 64;

function shallowEnough<T>(value: T): T {
  if (jsonDepthBeyond(value, WIRE_MAX_DEPTH))
    throw new Error(`a value nests more than ${WIRE_MAX_DEPTH} levels deep (metadata may nest at most 16)`);
  return value;
}

/** Decodes DynamicValue.msgpack bytes as a value of `type`. */
export function decodeValue(bytes: Uint8Array, type: CtyType): CtyValue {
  return fromWire(shallowEnough(decode(bytes)), type);
}

/** Encodes a value of `type` as DynamicValue.msgpack bytes. */
export function encodeValue(value: CtyValue, type: CtyType): Uint8Array {
  return encode(toWire(value, type));
}

function fromWire(raw: unknown, type: CtyType): CtyValue {
  if (raw instanceof ExtData) return UNKNOWN;
  if (raw === null || raw === undefined) return null;
  if (type === 'dynamic') {
    if (!Array.isArray(raw) || raw.length !== 2) throw new Error('a dynamic value must be a [type, value] pair');
    const concrete = JSON.parse(
      new TextDecoder().decode(typeof raw[0] === 'string' ? new TextEncoder().encode(raw[0]) : (raw[0] as Uint8Array)),
    ) as CtyType;
    return new DynamicValue(concrete, fromWire(raw[1], concrete));
  }
  if (type === 'string') return String(raw);
  if (type === 'number') return typeof raw === 'string' ? Number(raw) : Number(raw);
  if (type === 'bool') return Boolean(raw);
  const [kind, element] = type;
  if (kind === 'list' || kind === 'set') return (raw as unknown[]).map((item) => fromWire(item, element as CtyType));
  if (kind === 'tuple') return (raw as unknown[]).map((item, index) => fromWire(item, (element as CtyType[])[index]!));
  if (kind === 'map')
    return Object.fromEntries(
      Object.entries(raw as object).map(([name, item]) => [name, fromWire(item, element as CtyType)]),
    );
  if (kind === 'object') {
    const attributes = element as unknown as Record<string, CtyType>;
    const record = raw as Record<string, unknown>;
    return Object.fromEntries(
      Object.entries(attributes).map(([name, attributeType]) => [name, fromWire(record[name], attributeType)]),
    );
  }
  throw new Error(`unsupported cty type ${JSON.stringify(type)}`);
}

function toWire(value: CtyValue, type: CtyType): unknown {
  if (type === 'dynamic' && value !== null && value !== UNKNOWN) {
    const dynamic = value instanceof DynamicValue ? value : new DynamicValue(inferType(value), value);
    return [new TextEncoder().encode(JSON.stringify(dynamic.type)), toWire(dynamic.value, dynamic.type)];
  }
  if (value === UNKNOWN) return UNKNOWN_EXTENSION;
  if (value === null) return null;
  if (value instanceof DynamicValue) return toWire(value.value, type);
  if (type === 'string' || type === 'number' || type === 'bool') return value;
  const [kind, element] = type as [string, unknown];
  if (kind === 'list' || kind === 'set') return (value as CtyValue[]).map((item) => toWire(item, element as CtyType));
  if (kind === 'tuple') return (value as CtyValue[]).map((item, index) => toWire(item, (element as CtyType[])[index]!));
  if (kind === 'map')
    return Object.fromEntries(
      Object.entries(value as CtyObject).map(([name, item]) => [name, toWire(item, element as CtyType)]),
    );
  if (kind === 'object') {
    const record = value as CtyObject;
    return Object.fromEntries(
      Object.entries(element as Record<string, CtyType>).map(([name, attributeType]) => [
        name,
        toWire(record[name] ?? null, attributeType),
      ]),
    );
  }
  throw new Error(`unsupported cty type ${JSON.stringify(type)}`);
}

/** The type Terraform gives a JSON value written as an HCL literal: objects and tuples, not maps and lists. */
export function inferType(value: CtyValue): CtyType {
  if (value instanceof DynamicValue) return value.type;
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'bool';
  if (Array.isArray(value)) return ['tuple', value.map(inferType)] as unknown as CtyType;
  if (value && typeof value === 'object')
    return ['object', Object.fromEntries(Object.entries(value).map(([name, item]) => [name, inferType(item)]))];
  return 'dynamic';
}

/** A decoded value as plain JSON (dynamic wrappers removed); unknowns become undefined. */
export function toJson(value: CtyValue): unknown {
  if (value === UNKNOWN) return undefined;
  if (value instanceof DynamicValue) return toJson(value.value);
  if (Array.isArray(value)) return value.map(toJson);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, toJson(item)]));
  return value;
}

/** True when the value or anything inside it is unknown. */
export function containsUnknown(value: CtyValue): boolean {
  if (value === UNKNOWN) return true;
  if (value instanceof DynamicValue) return containsUnknown(value.value);
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value && typeof value === 'object') return Object.values(value).some(containsUnknown);
  return false;
}

/** Reads a state stored as JSON (UpgradeResourceState): dynamic attributes are `{value, type}` there. */
export function fromStateJson(json: unknown, type: CtyType): CtyValue {
  return fromStateJsonValue(shallowEnough(json), type);
}

function fromStateJsonValue(json: unknown, type: CtyType): CtyValue {
  if (json === null || json === undefined) return null;
  if (type === 'dynamic') {
    const stored = json as { value: unknown; type: CtyType };
    return new DynamicValue(stored.type, fromStateJsonValue(stored.value, stored.type));
  }
  if (typeof type === 'string') return json as CtyValue;
  const [kind, element] = type as [string, unknown];
  if (kind === 'list' || kind === 'set')
    return (json as unknown[]).map((item) => fromStateJsonValue(item, element as CtyType));
  if (kind === 'tuple')
    return (json as unknown[]).map((item, index) => fromStateJsonValue(item, (element as CtyType[])[index]!));
  if (kind === 'map')
    return Object.fromEntries(
      Object.entries(json as object).map(([name, item]) => [name, fromStateJsonValue(item, element as CtyType)]),
    );
  const record = json as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(element as Record<string, CtyType>).map(([name, attributeType]) => [
      name,
      fromStateJsonValue(record[name], attributeType),
    ]),
  );
}
