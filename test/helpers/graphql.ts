import { App } from '../../src/app';

export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: Array<{ message: string; extensions?: { code?: string; field?: string; [key: string]: unknown }; path?: unknown[] }>;
}

/** A GraphQL request over real HTTP. `key` goes in `Authorization: Bearer`. */
export async function gql<T = any>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  key?: string,
): Promise<GraphQLResponse<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as Omit<GraphQLResponse<T>, 'status'>;
  return { status: response.status, ...body };
}

/** Like `gql`, but fails the test on any error and returns `data`. */
export async function gqlOk<T = any>(url: string, query: string, variables: Record<string, unknown> = {}, key?: string): Promise<T> {
  const response = await gql<T>(url, query, variables, key);
  if (response.errors?.length || response.status !== 200) {
    throw new Error(`GraphQL request failed (${response.status}): ${JSON.stringify(response.errors)}`);
  }
  return response.data as T;
}

/** The first error's code and field, for compact assertions. */
export function errorOf(response: GraphQLResponse): { code?: string; field?: string; message?: string } {
  const error = response.errors?.[0];
  return { code: error?.extensions?.code, field: error?.extensions?.field, message: error?.message };
}

export interface TestAccount {
  accountId: string;
  apiKey: string;
}

/** A fresh account with an API key, made through the same service as the CLI. */
export async function createAccount(app: App, name = 'Acme'): Promise<TestAccount> {
  const { account, key } = await app.services.accounts.createAccount(name);
  return { accountId: account.id, apiKey: key };
}
