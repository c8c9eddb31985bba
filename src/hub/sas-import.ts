// Moves an IoT Hub SAS key into the TPM: imports the connection string's SharedAccessKey as a
// keyed-hash object at HANDLES.hmac, proves the TPM signs as the key does, and returns the
// connection string without the key, marked so the agent signs its tokens inside the TPM.

import { createHmac } from 'node:crypto';
import { PerceptError } from '../errors.js';
import { HANDLES } from '../attest/handles.js';
import { identityOf } from './link.js';
import { KEY_IN_TPM } from './tpm-auth.js';

export async function importSasKey(cs: string, tcti: string): Promise<string> {
  identityOf(cs);
  const parts = cs.split(';').filter((p) => p.trim() !== '');
  const keyPart = parts.find((p) => p.trim().startsWith('SharedAccessKey='));
  const keyText = keyPart?.slice(keyPart.indexOf('=') + 1).trim() ?? '';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(keyText)) throw new PerceptError('ERR_USAGE', 'the connection string holds no base64 SharedAccessKey to import');
  const key = Buffer.from(keyText, 'base64');
  // Loaded here, so a machine without the TPM addon can still load this module.
  const { Tpm } = await import('../attest/tpm.js');
  const tpm = await Tpm.open(tcti);
  try {
    await tpm.importHmacKey(key, HANDLES.hmac);
    // Prove the TPM now signs as the key does before the caller throws the key away.
    const probe = Buffer.from('percept import-key check');
    if (!(await tpm.hmac(HANDLES.hmac, probe)).equals(createHmac('sha256', key).update(probe).digest())) {
      throw new PerceptError('ERR_TPM', "the TPM holds the key but its HMAC differs from the key's; do not discard the connection string");
    }
  } finally {
    await tpm.close();
  }
  const rest = parts.filter((p) => p !== keyPart && !p.trim().startsWith(`${KEY_IN_TPM.split('=')[0]}=`));
  return [...rest, KEY_IN_TPM].join(';');
}
