/**
 * Token substitution in a JSON-like template (a `queryParametersTemplate`), aware of quotes: inside a quoted
 * string a value is escaped for that quote; outside quotes (definitions write `"from": {_QueryWindowStartTime}` and
 * `{cursorRef:$cursorRef$}`) it becomes a JSON string, or stays bare when the resolver says so (Unix times).
 */
export type TokenResolver = (token: string, name: string) => { value: string; bare: boolean } | undefined;

/** `token` must be a sticky regex whose group 1 is the name; a token the resolver returns undefined for stays. */
export function substituteQuoted(template: string, token: RegExp, resolve: TokenResolver): string {
  let out = "";
  let quote: string | undefined;
  for (let i = 0; i < template.length; ) {
    const ch = template.charAt(i);
    if (quote && ch === "\\") {
      out += template.slice(i, i + 2);
      i += 2;
      continue;
    }
    token.lastIndex = i;
    const match = token.exec(template);
    const resolved = match ? resolve(match[0], match[1] as string) : undefined;
    if (match && resolved) {
      const { value, bare } = resolved;
      if (quote) out += value.replace(/\\/g, "\\\\").replaceAll(quote, `\\${quote}`);
      else out += bare ? value : JSON.stringify(value);
      i += match[0].length;
      continue;
    }
    if (ch === '"' || ch === "'") quote = quote === undefined ? ch : quote === ch ? undefined : quote;
    out += ch;
    i += 1;
  }
  return out;
}
