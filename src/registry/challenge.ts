/** One `WWW-Authenticate` challenge: lower-case scheme and lower-case parameter names. */
export interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const MAX_HEADER = 8192;

/**
 * Parses a `WWW-Authenticate` value into its challenges (RFC 9110 §11.6.1, RFC 6750 §3):
 * `scheme param=value, param="quoted, value", other-scheme …`. Several challenges may share one
 * header (Quay sends `Basic realm="quay.io", Bearer realm=…`, cosign-spec §3.2). A token68
 * credential or anything unparseable is skipped, never guessed at.
 */
export function parseChallenges(header: string): Challenge[] {
  const text = header.slice(0, MAX_HEADER);
  const challenges: { scheme: string; params: Record<string, string> }[] = [];
  let i = 0;
  const skip = (chars: RegExp): void => {
    while (i < text.length && chars.test(text.charAt(i))) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < text.length && TCHAR.test(text.charAt(i))) i++;
    return text.slice(start, i);
  };
  while (i < text.length) {
    skip(/[\s,]/);
    const name = token();
    if (name === '') {
      i++; // a stray character: step over it
      continue;
    }
    skip(/[ \t]/);
    if (text.charAt(i) !== '=') {
      challenges.push({ scheme: name.toLowerCase(), params: Object.create(null) as Record<string, string> });
      continue;
    }
    i++;
    skip(/[ \t]/);
    const value = text.charAt(i) === '"' ? quoted() : token();
    const current = challenges.at(-1);
    const key = name.toLowerCase();
    if (current !== undefined && !(key in current.params)) current.params[key] = value;
  }
  return challenges;

  function quoted(): string {
    let value = '';
    i++; // opening quote
    while (i < text.length && text.charAt(i) !== '"') {
      if (text.charAt(i) === '\\' && i + 1 < text.length) i++;
      value += text.charAt(i);
      i++;
    }
    i++; // closing quote
    return value;
  }
}

/** The challenge sigward answers: Bearer with a realm first (the token flow), then Basic. */
export function chooseChallenge(challenges: readonly Challenge[]): Challenge | undefined {
  return (
    challenges.find((c) => c.scheme === 'bearer' && typeof c.params.realm === 'string' && c.params.realm !== '') ??
    challenges.find((c) => c.scheme === 'basic')
  );
}
