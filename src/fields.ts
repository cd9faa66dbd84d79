/**
 * Reading hostile documents (AdmissionReviews, policies): only own properties of plain objects,
 * never the prototype chain, and every problem collected with its field path.
 */

export type JsonObject = Readonly<Record<string, unknown>>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The own property `key` of `object`. `Object.hasOwn` keeps a crafted document from reaching
 * `Object.prototype` members (`constructor`, `__proto__`) through a lookup by name.
 */
export function ownField(object: JsonObject, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/** Problems found while reading one document, each with its field path, reported together. */
export class Problems {
  private readonly list: string[] = [];

  add(path: string, problem: string): void {
    this.list.push(`${path}: ${problem}`);
  }

  get count(): number {
    return this.list.length;
  }

  get all(): readonly string[] {
    return this.list;
  }

  /** At most `max` problems joined for a message; the rest are counted, not listed. */
  summary(max = 10): string {
    const shown = this.list.slice(0, max).join('; ');
    const rest = this.list.length - max;
    return rest > 0 ? `${shown}; and ${rest} more` : shown;
  }
}
