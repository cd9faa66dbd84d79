import { child, own, readList, readMapping, readString, readStringMap, type StringRule } from './fields.js';
import type { Problems } from './problems.js';
import type { CompiledSelector, LabelSelector, LabelSelectorRequirement } from './types.js';

/**
 * metav1.LabelSelector over namespace labels: `matchLabels` and every `matchExpressions` entry
 * must hold (AND). Keys and values follow the Kubernetes label syntax, so a selector that
 * could never match a real label is reported rather than silently matching nothing.
 */

const LABEL_NAME = '([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]';
const DNS_SUBDOMAIN = '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
const LABEL_KEY: StringRule = {
  max: 317,
  pattern: new RegExp(`^(${DNS_SUBDOMAIN}/)?${LABEL_NAME}$`),
  patternText: 'a label key: an optional DNS prefix and /, then up to 63 of [A-Za-z0-9._-]',
};
const LABEL_VALUE: StringRule = {
  max: 63,
  pattern: new RegExp(`^(${LABEL_NAME})?$`),
  patternText: 'a label value: up to 63 of [A-Za-z0-9._-], starting and ending alphanumeric',
};
const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;
const MAX_LABELS = 64;
const MAX_EXPRESSIONS = 32;
const MAX_VALUES = 256;

export function readSelector(value: unknown, path: string, problems: Problems): LabelSelector | undefined {
  const fields = readMapping(value, path, problems, ['matchLabels', 'matchExpressions']);
  if (fields === undefined) return undefined;
  const before = problems.count;
  const matchLabels = readStringMap(own(fields, 'matchLabels'), child(path, 'matchLabels'), problems, {
    maxEntries: MAX_LABELS,
    key: LABEL_KEY,
    value: LABEL_VALUE,
  });
  const list = readList(fields, 'matchExpressions', path, problems, { max: MAX_EXPRESSIONS }) ?? [];
  const matchExpressions = list.map((entry, i) => readRequirement(entry, `${child(path, 'matchExpressions')}[${i}]`, problems));
  if (problems.count !== before) return undefined;
  return { matchLabels: matchLabels ?? {}, matchExpressions: matchExpressions.filter((e) => e !== undefined) };
}

function readRequirement(value: unknown, path: string, problems: Problems): LabelSelectorRequirement | undefined {
  const fields = readMapping(value, path, problems, ['key', 'operator', 'values']);
  if (fields === undefined) {
    if (value === undefined || value === null) problems.add(path, 'must be a mapping with key and operator');
    return undefined;
  }
  const key = readString(fields, 'key', path, problems, { ...LABEL_KEY, required: true });
  const operatorText = readString(fields, 'operator', path, problems, { required: true, max: 32 });
  const operator = OPERATORS.find((op) => op === operatorText);
  if (operatorText !== undefined && operator === undefined) {
    problems.add(child(path, 'operator'), `must be one of ${OPERATORS.join(', ')}`);
  }
  const valuesPath = child(path, 'values');
  const rawValues = readList(fields, 'values', path, problems, { max: MAX_VALUES }) ?? [];
  const values = rawValues.filter((v, i): v is string => {
    const ok = typeof v === 'string' && v.length <= LABEL_VALUE.max && LABEL_VALUE.pattern!.test(v);
    if (!ok) problems.add(`${valuesPath}[${i}]`, `must be ${LABEL_VALUE.patternText ?? 'a label value'}`);
    return ok;
  });
  // The apiserver's own rule: In and NotIn need values, Exists and DoesNotExist take none.
  if ((operator === 'In' || operator === 'NotIn') && rawValues.length === 0) {
    problems.add(valuesPath, `must list at least one value for operator ${operator}`);
  }
  if ((operator === 'Exists' || operator === 'DoesNotExist') && rawValues.length > 0) {
    problems.add(valuesPath, `must be empty for operator ${operator}`);
  }
  if (key === undefined || operator === undefined) return undefined;
  return { key, operator, values };
}

const EVERY_NAMESPACE: CompiledSelector = { empty: true, matches: () => true };

export function compileSelector(selector: LabelSelector | undefined): CompiledSelector {
  if (selector === undefined) return EVERY_NAMESPACE;
  const labels = Object.entries(selector.matchLabels);
  const expressions = selector.matchExpressions;
  if (labels.length === 0 && expressions.length === 0) return EVERY_NAMESPACE;
  return {
    empty: false,
    matches: (namespaceLabels) =>
      labels.every(([key, value]) => label(namespaceLabels, key) === value) &&
      expressions.every((requirement) => holds(requirement, label(namespaceLabels, requirement.key))),
  };
}

function holds(requirement: LabelSelectorRequirement, value: string | undefined): boolean {
  switch (requirement.operator) {
    case 'In':
      return value !== undefined && requirement.values.includes(value);
    case 'NotIn':
      return value === undefined || !requirement.values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    default:
      // Unreachable after validation; a requirement that cannot be read selects, so the
      // policy is enforced rather than skipped.
      return true;
  }
}

function label(labels: Readonly<Record<string, string>>, key: string): string | undefined {
  return Object.hasOwn(labels, key) ? labels[key] : undefined;
}
