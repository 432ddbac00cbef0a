/** One GraphQL request over HTTP with the API key; resolves with `data`, throws on any error. */
export async function graphqlRequest<T>(url: string, apiKey: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  let body: { data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> };
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`GraphQL answered ${response.status} with a non-JSON body: ${text.slice(0, 200)}`);
  }
  if (response.status !== 200 || body.errors?.length) {
    const first = body.errors?.[0];
    throw new Error(`GraphQL ${response.status}: ${first ? `${first.extensions?.code ?? ''} ${first.message}` : text.slice(0, 200)}`);
  }
  return body.data as T;
}
