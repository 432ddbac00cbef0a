export interface RestResponse {
  status: number;
  headers: Headers;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  body: any;
  text: string;
}

async function answer(response: Response): Promise<RestResponse> {
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, body, text };
}

export interface RestRequest {
  /** Sent as `Authorization: Bearer <key>`. */
  key?: string;
  /** A string is sent as it is; anything else as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** One request to the REST endpoints over real HTTP; a body goes with `Content-Type: application/json`. */
export async function rest(
  origin: string,
  method: string,
  path: string,
  { key, body, headers = {} }: RestRequest = {},
): Promise<RestResponse> {
  const sent: Record<string, string> = {};
  if (key) sent.authorization = `Bearer ${key}`;
  if (body !== undefined) sent['content-type'] = 'application/json';
  const response = await fetch(`${origin}${path}`, {
    method,
    headers: { ...sent, ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return answer(response);
}

/** The words of a POSIX shell command line: single and double quotes, backslash-newline continuations. */
function shellWords(command: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < command.length; i += 1) {
    const char = command[i];
    if (char === '\\' && command[i + 1] === '\n') {
      i += 1;
    } else if (/\s/.test(char)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (char === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unclosed ' in: ${command}`);
      word = (word ?? '') + command.slice(i + 1, end);
      i = end;
    } else if (char === '"') {
      word ??= '';
      for (i += 1; command[i] !== '"'; i += 1) {
        if (i >= command.length) throw new Error(`unclosed " in: ${command}`);
        if (command[i] === '\\' && '"\\$`'.includes(command[i + 1])) i += 1;
        word += command[i];
      }
    } else {
      word = (word ?? '') + char;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

/**
 * Runs a curl command as a shell and curl would: `-X`, `-H` and `-d` as curl reads them (`-d` means
 * POST and, without a Content-Type header, `application/x-www-form-urlencoded`; the data is sent
 * byte for byte), and curl's default Accept header. `replace` rewrites the command text first (the
 * host, the key placeholder), as a reader of the page does by hand.
 */
export async function runCurl(command: string, replace: Record<string, string>): Promise<RestResponse> {
  let text = command;
  for (const [from, to] of Object.entries(replace)) text = text.replaceAll(from, to);
  const [program, ...args] = shellWords(text);
  if (program !== 'curl') throw new Error(`not a curl command: ${command}`);
  let method: string | undefined;
  let url: string | undefined;
  let data: string | undefined;
  const headers: Record<string, string> = { accept: '*/*' };
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i];
    if (arg === '-X') method = args[++i];
    else if (arg === '-H') {
      const header = args[++i];
      const colon = header.indexOf(':');
      headers[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim();
    } else if (arg === '-d') data = args[++i];
    else if (!arg.startsWith('-')) url = arg;
    else throw new Error(`curl option ${arg} is not understood here`);
  }
  if (!url) throw new Error(`no URL in: ${command}`);
  if (data !== undefined) headers['content-type'] ??= 'application/x-www-form-urlencoded';
  return answer(await fetch(url, { method: method ?? (data === undefined ? 'GET' : 'POST'), headers, body: data }));
}
