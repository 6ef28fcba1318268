/**
 * The stand-in's trust material: a self-signed certificate for 127.0.0.1/localhost kept under the data
 * folder (so a restarted stand-in keeps the certificate its clients already trust), and the local token
 * credential the SDK uses against it.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { AccessToken, TokenCredential } from "@azure/identity";

/** The scope `LogsIngestionClient` asks for in the public cloud. */
export const MONITOR_SCOPE = "https://monitor.azure.com/.default";
/** The only bearer token the stand-in accepts. Fake by construction: it grants nothing anywhere else. */
export const STANDIN_TOKEN = "test-standin-token-not-a-secret";

export interface StandinCertificate {
  keyPem: string;
  certPem: string;
  /** The certificate file: give it to clients as their trusted CA. */
  certPath: string;
}

export async function loadOrCreateCertificate(dataDir: string): Promise<StandinCertificate> {
  const folder = path.join(dataDir, "tls");
  const certPath = path.join(folder, "standin-cert.pem");
  const keyPath = path.join(folder, "standin-key.pem");
  try {
    return { keyPem: await readFile(keyPath, "utf8"), certPem: await readFile(certPath, "utf8"), certPath };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  // Loaded here, not at import: a runner that only uses the token credential skips its memory (~7 MB RSS).
  const { default: selfsigned } = await import("selfsigned");
  const generated = await selfsigned.generate([{ name: "commonName", value: "localhost" }], {
    keyType: "ec",
    algorithm: "sha256",
    notAfterDate: new Date(Date.now() + 365 * 24 * 3600_000),
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
        ],
      },
    ],
  });
  await mkdir(folder, { recursive: true });
  await writeFile(keyPath, generated.private, { mode: 0o600 });
  await writeFile(certPath, generated.cert);
  return { keyPem: generated.private, certPem: generated.cert, certPath };
}

/** A TokenCredential for the stand-in. Refuses other scopes, so a client aimed at the wrong audience fails here. */
export function createStandinTokenCredential(): TokenCredential {
  return {
    async getToken(scopes): Promise<AccessToken> {
      const requested = Array.isArray(scopes) ? scopes : [scopes];
      if (!requested.includes(MONITOR_SCOPE)) {
        throw new Error(
          `The stand-in credential only issues tokens for ${MONITOR_SCOPE}, not ${requested.join(" ")}`,
        );
      }
      return { token: STANDIN_TOKEN, expiresOnTimestamp: Date.now() + 3600_000 };
    },
  };
}
