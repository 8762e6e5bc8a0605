// protocol.ts's payloads as values, for checking the shared fixtures at run time (TS types vanish then). Each shape
// is typed against its payload (Shape<T>): a field added, renamed or made optional in protocol.ts that its shape
// does not follow fails the type check (`npm run check`, and protocolFixtures.test.ts runs it).
import type {
  CompletionStats, DidChangeConfigurationParams, ExposureLedgerArguments, ExposureLedgerResult, GeneratedFunction,
  GenerateFunctionArguments, LastRequest, LedgerRow, NoirCodeSettings, Position, PrivacyStatus, PromptAttackRow,
  PromptSecurityArguments, PromptSecurityResult, Range, RotateKeysArguments, RotateKeysResult, VolumePoint,
} from '../protocol';

export type Kind =
  | 'string' | 'number' | 'boolean' | 'null'
  | { enum: readonly string[] }
  | { object: Record<string, Field> }
  | { arrayOf: Kind }
  | { recordOf: Kind }
  | { oneOf: readonly Kind[] };
export type Field = Kind | { optional: Kind };

/** One entry per field of T, marked optional exactly where T's field is. */
export type Shape<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? { optional: Kind } : Kind };

const object = <T>(shape: Shape<T>): Kind => ({ object: shape as Record<string, Field> });
const optional = (kind: Kind) => ({ optional: kind });

const position = object<Position>({ line: 'number', character: 'number' });
const range = object<Range>({ start: position, end: position });

export const privacyStatus = object<PrivacyStatus>({
  mode: { enum: ['split', 'local', 'offline', 'blocked', 'loading', 'error'] },
  detail: optional('string'),
  epsilon: optional('number'),
  exposureUsed: 'number',
  exposureLimit: optional('number'),
  exposureBasis: optional({ enum: ['measured', 'setting', 'none'] }),
  exposurePeriod: optional('string'),
  exposureMeaning: optional('string'),
  exposureCurve: optional({ arrayOf: object<VolumePoint>({ tokens: 'number', contentRecovered: 'number' }) }),
  previousKeyTokens: optional('number'),
  keyLabel: 'string',
  demo: 'boolean',
  keyAgeDays: optional('number'),
  endpoint: optional('string'),
  last: optional(object<LastRequest>({ tokens: 'number', bytes: 'number', milliseconds: 'number', source: 'string', empty: optional('string') })),
  unsupportedLanguage: optional('string'),
  modelLanguages: optional({ arrayOf: 'string' }),
});

export const completionStats = object<CompletionStats>({ requests: 'number', suggestions: 'number', cutMidLine: 'number', empty: { recordOf: 'number' }, tokensSent: 'number' });

export const generateFunctionArguments = object<GenerateFunctionArguments>({
  uri: 'string', position: optional(position), range: optional(range), instruction: optional('string'),
});
export const generatedFunction = object<GeneratedFunction>({ text: 'string', range });

export const exposureLedgerArguments = object<ExposureLedgerArguments>({ days: optional('number') });
export const exposureLedgerResult = object<ExposureLedgerResult>({
  rows: { arrayOf: object<LedgerRow>({ day: 'string', key: 'string', tokens: 'number', bytes: 'number', requests: 'number' }) },
});

export const rotateKeysArguments = object<RotateKeysArguments>({ keysFolder: optional('string'), retuneSteps: optional('number') });
export const rotateKeysResult = object<RotateKeysResult>({
  keysFolder: 'string', keyId: 'string', epsilon: 'number', previousKeyId: 'string', clientFolder: optional({ oneOf: ['string', 'null'] }),
  adapterId: 'string', retunedSteps: 'number', retuneTokensSent: 'number', retuneNote: optional({ oneOf: ['string', 'null'] }),
});

export const promptSecurityArguments = object<PromptSecurityArguments>({ uri: 'string', position });
export const promptSecurityResult = object<PromptSecurityResult>({
  tokens: 'number', cloudWins: 'boolean', setting: 'string', demoKeys: optional('boolean'),
  attacks: {
    arrayOf: object<PromptAttackRow>({
      attack: 'string', crt: 'number', contentCrt: 'number', bleu: 'number', rouge1: 'number', cloudWins: 'boolean',
      sensitiveItems: 'number', sensitiveRecovered: 'number', reconstruction: 'string',
    }),
  },
});

const numberOrNull: Kind = { oneOf: ['number', 'null'] };
export const settings = object<NoirCodeSettings>({
  endpoint: 'string', modelFolder: 'string', keysFolder: 'string', localModelFolder: 'string',
  mode: { enum: ['split', 'local'] }, wire: { enum: ['f16', 'f32', 'bf16', 'int8'] }, exposureBudgetTokens: numberOrNull,
  exposurePeriod: { enum: ['day', 'week', 'month', 'key'] }, atLimit: { enum: ['auto', 'block', 'local-only'] }, enable: { recordOf: 'boolean' },
  debounceMs: numberOrNull, speculativeDecoding: 'boolean', sidecarPath: 'string', trace: { object: { server: { enum: ['off', 'messages'] } } },
  allowCleartextEndpoint: 'boolean', allowUnprotectedEndpoint: 'boolean',
});
export const didChangeConfiguration = object<DidChangeConfigurationParams>({ settings: { object: { noircode: settings } } });

const kindOf = (v: unknown) => v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;

/**
 * What is wrong with `value` as `kind`: wrong kinds, missing fields, fields the shape does not know. With `complete`,
 * optional fields must be there too (the fixtures set every field, so a field renamed on one side is caught).
 */
export function problems(value: unknown, kind: Kind, path: string, complete: boolean): string[] {
  if (typeof kind === 'string') return kindOf(value) === kind ? [] : [`${path}: ${kindOf(value)}, not ${kind}`];
  if ('enum' in kind) return typeof value === 'string' && kind.enum.includes(value) ? [] : [`${path}: ${JSON.stringify(value)} is not one of ${kind.enum.join(', ')}`];
  if ('oneOf' in kind) return kind.oneOf.some(k => problems(value, k, path, complete).length === 0) ? [] : [`${path}: ${kindOf(value)} fits none of its kinds`];
  if ('arrayOf' in kind) {
    if (!Array.isArray(value)) return [`${path}: ${kindOf(value)}, not an array`];
    return value.flatMap((item, i) => problems(item, kind.arrayOf, `${path}[${i}]`, complete));
  }
  if (kindOf(value) !== 'object') return [`${path}: ${kindOf(value)}, not an object`];
  const o = value as Record<string, unknown>;
  if ('recordOf' in kind) return Object.entries(o).flatMap(([k, v]) => problems(v, kind.recordOf, `${path}.${k}`, complete));
  const found = Object.keys(o).filter(k => !(k in kind.object)).map(k => `${path}.${k}: not in protocol.ts`);
  for (const [name, field] of Object.entries(kind.object)) {
    const isOptional = typeof field === 'object' && 'optional' in field;
    if (!(name in o)) { if (complete || !isOptional) found.push(`${path}.${name}: missing`); continue; }
    found.push(...problems(o[name], isOptional ? field.optional : field as Kind, `${path}.${name}`, complete));
  }
  return found;
}
