/**
 * Finding fake secrets in anything a run leaves behind. A secret counts as leaked in any form it travels in:
 * plain, percent-encoded (query strings, form bodies) and base64 at any alignment (a Basic credential is
 * base64 of `user:password`, so the password's base64 starts mid-group), plain and URL-safe.
 */
import { JIRA_API_TOKEN } from "./pipeline.ts";

/** The Jira connector's secrets as they travel: the token alone and the Basic credential pair. */
export const pipelineSecrets = [JIRA_API_TOKEN, `test-user@example.com:${JIRA_API_TOKEN}`];

/** Base64 runs that appear in any base64 text containing `secret`, whatever bytes come before and after it. */
function base64Needles(secret: string): string[] {
  const needles: string[] = [];
  for (const offset of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(offset), Buffer.from(secret)]).toString("base64");
    // Drop the groups that mix in the unknown neighbouring bytes.
    const core = encoded.slice(offset === 0 ? 0 : 4, -4);
    needles.push(core, core.replaceAll("+", "-").replaceAll("/", "_"));
  }
  return needles;
}

export function secretForms(secret: string): string[] {
  return [
    ...new Set([
      secret,
      encodeURIComponent(secret),
      new URLSearchParams({ s: secret }).toString().slice(2),
      ...base64Needles(secret),
    ]),
  ].filter((needle) => needle.length >= 8);
}

/** "<secret> as <form>" for every form of every secret found in `text`; empty when clean. */
export function leakedSecrets(text: string, secrets: readonly string[]): string[] {
  const hits: string[] = [];
  for (const secret of secrets) {
    for (const form of secretForms(secret)) {
      if (text.includes(form)) hits.push(`${secret} as ${JSON.stringify(form)}`);
    }
  }
  return hits;
}
