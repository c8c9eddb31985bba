// Reads IoT Hub connection strings (`HostName=...;DeviceId=...;SharedAccessKey=...`) into
// their fields. One parser for the link and the TPM token provider.

export function connectionStringFields(cs: string): Map<string, string> {
  const parts = new Map<string, string>();
  for (const p of cs.split(';')) {
    const i = p.indexOf('=');
    if (i > 0) parts.set(p.slice(0, i).trim(), p.slice(i + 1).trim());
  }
  return parts;
}
