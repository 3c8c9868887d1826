// Text that came from outside (a packet field, a request) is echoed in logs only as a short
// prefix and its length: a 60 KB field must not become a 60 KB log line.

export function clip(text: string, max = 60): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} chars)`;
}
